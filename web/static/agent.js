// hotline agent desk: queue state buttons and the screen-pop over a WebSocket, with the call controls. The
// session (sign-in, token, api) is session.js's; the pop's work orders are agent-workorders.js's and the
// callback list agent-callbacks.js's.
"use strict";
let socket = null;
let retry = 0;

function showAgent(agent) {
  $("agent-name").textContent = agent.name;
  $("agent-ext").textContent = agent.extension;
  const state = $("state");
  state.textContent = agent.state.replace("_", " ");
  state.className = `state ${agent.state}`;
  state.dataset.state = agent.state;
  $("pause-reason").textContent = agent.pause_reason ? `(${agent.pause_reason})` : "";
  $("btn-available").disabled = agent.state !== "logged_out";
  $("btn-pause").disabled = agent.state !== "available";
  $("btn-unpause").disabled = agent.state !== "paused";
  $("btn-logout").disabled = agent.state === "logged_out";
  $("wrapup").hidden = agent.state !== "wrap_up";  // after-call work ends with a disposition
}

function showPop(pop) {
  $("pop").dataset.call = pop.call_id;
  workOrdersForPop(pop);
  $("pop-empty").hidden = true;
  $("pop-body").hidden = false;
  setCallStatus("ringing");
  $("pop-caller").textContent = pop.caller || "withheld";
  $("pop-intent").textContent = pop.intent || "—";
  $("pop-queue").textContent = pop.queue || "—";
  $("pop-path").textContent = pop.ivr_path || "—";
  $("pop-asked").textContent = [
    pop.waybill ? `asked about waybill ${pop.waybill}` : "",
    pop.work_order_id ? `work order #${pop.work_order_id} opened in the IVR` : "",
    pop.pickup_reference ? `pickup ${pop.pickup_reference} booked in the IVR` : "",
    pop.language && pop.language !== "en" ? `language ${pop.language}` : "",
  ].filter(Boolean).join(" · ");
  const c = pop.customer;
  $("pop-customer").hidden = !c;
  $("pop-unknown").hidden = !!c;
  if (!c) return;
  $("pop-name").textContent = c.name;
  $("pop-tier").textContent = c.tier.replace("_", " ");
  $("pop-tier").className = `badge ${c.tier}`;
  $("pop-company").textContent = c.company || "";
  $("pop-city").textContent = c.city || "";
  $("pop-account").textContent = [
    c.agreement ? `agreement ${c.agreement}` : "",
    c.home_office ? `home office ${c.home_office}` : "",
    c.dedicated_agent ? `dedicated agent ${c.dedicated_agent}` : "",
    c.language ? `speaks ${c.language}` : "",
  ].filter(Boolean).join(" · ");
  showPopOrders(pop.work_orders || []);
  fillList($("pop-shipments"), pop.shipments || [], (s) =>
    `${s.waybill} · ${s.status.replaceAll("_", " ")}` +
    `${s.last_scan_place ? " · " + s.last_scan_place : ""}` +
    `${s.last_scan_at ? " " + new Date(s.last_scan_at).toLocaleString() : ""}` +
    `${s.exception ? " · EXCEPTION " + s.exception.replaceAll("_", " ") : ""}`,
    (s) => (s.exception ? "exception" : ""));
  fillList($("pop-history"), pop.recent_contacts || [],
    (h) => `${new Date(h.at).toLocaleString()} · ${h.outcome}${h.agent ? " · agent " + h.agent : ""}` +
           `${h.intent ? " · " + h.intent : ""}`);
}

function fillList(list, items, describe, classOf = () => "") {
  list.replaceChildren(...(items.length ? items : [null]).map((item) => {
    const li = document.createElement("li");
    li.textContent = item ? describe(item) : "none";
    if (item) li.className = classOf(item);
    return li;
  }));
}

function setCallStatus(status) {
  const badge = $("pop-status");
  badge.textContent = status;
  badge.className = `badge ${status.replace(" ", "-")}`;
  const live = status === "talking" || status === "on hold";
  $("btn-hold").disabled = status !== "talking";
  $("btn-resume").disabled = status !== "on hold";
  for (const id of ["btn-hangup", "btn-transfer", "btn-xfer-complete", "btn-xfer-cancel"]) $(id).disabled = !live;
}

async function callAction(path, body) {
  $("call-error").textContent = "";
  try {
    return await api(`/api/calls/me/${path}`, { method: "POST", body: body ? JSON.stringify(body) : undefined });
  } catch (e) {
    $("call-error").textContent = e.message;
    return null;
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws/agent?token=${encodeURIComponent(token)}`);
  socket = ws;
  ws.onopen = () => { retry = 0; $("link").textContent = "online"; $("link").className = "badge on"; };
  ws.onclose = (ev) => {
    $("link").textContent = "offline"; $("link").className = "badge off";
    if (socket !== ws) return;  // signed out: this socket was closed on purpose
    if (ev.code === 4401) return signOut("Your session expired: sign in again.");
    if (token) setTimeout(connect, Math.min(5000, 500 * 2 ** retry++));
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "screen_pop") showPop(m);
    else if (m.type === "pop_update" && $("pop").dataset.call === m.call_id) {
      const status = $("pop-status").textContent;
      showPop(m);
      setCallStatus(status);
    }
    else if (m.type === "call_answered" && $("pop").dataset.call === m.call_id) setCallStatus("talking");
    else if (m.type === "call_held" && $("pop").dataset.call === m.call_id) setCallStatus(m.held ? "on hold" : "talking");
    else if (m.type === "pop_cancelled" && $("pop").dataset.call === m.call_id) setCallStatus("missed");
    else if (m.type === "call_ended" && $("pop").dataset.call === m.call_id) setCallStatus("ended");
    else if (m.type === "agent_state") { api("/api/agents/me").then(showAgent); loadCallbacks(); }
  };
}

async function startDesk() {
  try {
    showAgent(await api("/api/agents/me"));
  } catch (e) {
    return signOut(e.message === "signed out" ? "" : "This desk is for agents.");
  }
  showSignedIn();
  connect();
  loadCallbacks();
}

function stopDesk() {
  const open = socket;
  socket = null;
  if (open) open.close();
}

document.querySelectorAll("[data-action]").forEach((button) => button.addEventListener("click", async () => {
  $("state-error").textContent = "";
  const action = button.dataset.action;
  const body = action === "pause" ? JSON.stringify({ reason: $("reason").value }) : undefined;
  try {
    showAgent(await api(`/api/agents/me/${action}`, { method: "POST", body }));
  } catch (e) {
    $("state-error").textContent = e.message;
  }
}));
$("wrapup").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("state-error").textContent = "";
  try {
    await api("/api/agents/me/disposition", { method: "POST",
      body: JSON.stringify({ code: $("wrapup-code").value, note: $("wrapup-note").value.trim() || null }) });
    $("wrapup-note").value = "";
    showAgent(await api("/api/agents/me"));
  } catch (e) {
    $("state-error").textContent = e.message;
  }
});
document.querySelectorAll("[data-ctl]").forEach((button) => button.addEventListener("click", async () => {
  const r = await callAction(button.dataset.ctl);
  if (r && button.dataset.ctl === "hangup") setCallStatus("ended");
}));
$("btn-transfer").addEventListener("click", async () => {
  const r = await callAction("transfer",
    { mode: $("xfer-mode").value, kind: $("xfer-kind").value, target: $("xfer-target").value.trim() });
  if (r && r.mode === "blind") setCallStatus("transferred");
});
setInterval(() => { if (socket && socket.readyState === 1) socket.send("ping"); }, 25000);
pageSession("desk", "extension", startDesk, stopDesk);
