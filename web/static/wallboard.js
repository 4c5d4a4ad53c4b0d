// hotline wallboard: sign in as a supervisor, live queue and agent figures over a WebSocket,
// listen / whisper / barge and forced states per agent. The session (sign-in, token, api) is session.js's.
"use strict";
let socket = null;
let retry = 0;
const queues = new Map(); // name → latest row
const agents = new Map(); // extension → latest row
const alerts = new Map(); // "queue/kind" → alert

const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 100)} %`);
const secs = (x) => (x === null || x === undefined ? "—" : `${Math.round(x)} s`);
function since(iso) {
  if (!iso) return "—";
  const s = Math.max(0, Math.round((Date.now() - new Date(iso)) / 1000));
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
    : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

function cell(text, cls = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function queueRow(q) {
  const tr = document.createElement("tr");
  tr.dataset.queue = q.queue;
  tr.className = q.alerts.length ? "alert" : "";
  const longest = q.oldest_since ? Math.max(0, (Date.now() - new Date(q.oldest_since)) / 1000) : 0;
  const staff = Object.entries(q.agents).filter(([, n]) => n).map(([s, n]) => `${s.replace("_", " ")} ${n}`);
  tr.append(
    cell(q.queue),
    cell(String(q.waiting), "waiting"),
    cell(secs(longest), `longest${q.alerts.includes("longest_wait") ? " bad" : ""}`),
    cell(pct(q.service_level) + ` (≤ ${q.service_level_seconds} s)`,
      `sl${q.alerts.includes("service_level") ? " bad" : ""}`),
    cell(secs(q.asa), "asa"),
    cell(pct(q.abandon_rate), "abandon"),
    cell(`${q.answered} / ${q.offered}`, "answered"),
    cell(staff.join(" · ") || "none", "staff"),
  );
  return tr;
}

function agentRow(a) {
  const tr = document.createElement("tr");
  tr.dataset.agent = a.agent;
  tr.dataset.state = a.state;
  const actions = document.createElement("td");
  actions.className = "actions";
  const onCall = a.state === "on_call" || a.state === "on_hold";
  for (const mode of ["listen", "whisper", "barge"]) {
    actions.append(button(mode, !onCall, () => act(`/api/floor/agents/${a.agent}/supervise`, { mode }, `${mode}: your phone rings`)));
  }
  actions.append(button("pause", a.state === "logged_out" || a.state === "paused",
    () => act(`/api/floor/agents/${a.agent}/pause`, { reason: "supervisor" }, `agent ${a.agent} paused`)));
  actions.append(button("log out", a.state === "logged_out",
    () => act(`/api/floor/agents/${a.agent}/logout`, undefined, `agent ${a.agent} logged out`)));
  tr.append(
    cell(a.agent),
    cell(a.state.replace("_", " ") + (a.pause_reason ? ` (${a.pause_reason})` : ""), `state ${a.state}`),
    cell(since(a.since), "for"),
    cell(a.queues.join(", ") || "—"),
    cell(String(a.handled), "handled"),
    cell(secs(a.aht), "aht"),
    actions,
  );
  return tr;
}

function button(label, disabled, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = label.replace(" ", "-");
  b.disabled = disabled;
  b.addEventListener("click", onClick);
  return b;
}

async function act(path, body, done) {
  $("action-error").textContent = "";
  $("action-result").textContent = "";
  try {
    await api(path, { method: "POST", body: body ? JSON.stringify(body) : undefined });
    $("action-result").textContent = done;
  } catch (e) {
    $("action-error").textContent = e.message;
  }
}

function render() {
  $("queues").tBodies[0].replaceChildren(...[...queues.values()].map(queueRow));
  $("agents").tBodies[0].replaceChildren(...[...agents.values()].map(agentRow));
  $("alerts").hidden = alerts.size === 0;
  $("alert-list").replaceChildren(...[...alerts.values()].map((a) => {
    const li = document.createElement("li");
    li.textContent = a.kind === "longest_wait"
      ? `${a.queue}: a caller has waited over ${a.threshold} s`
      : `${a.queue}: service level ${pct(a.value)} below ${pct(a.threshold)}`;
    return li;
  }));
}

function rememberAlerts(q) {
  for (const key of [...alerts.keys()]) if (key.startsWith(`${q.queue}/`) && !q.alerts.includes(key.split("/")[1])) alerts.delete(key);
}

function onMessage(m) {
  if (m.type === "snapshot") {
    queues.clear(); agents.clear(); alerts.clear();
    $("scope").textContent = m.scope ? `queues: ${m.scope.join(", ") || "none"}` : "all queues";
    m.queues.forEach((q) => { queues.set(q.queue, q); rememberAlerts(q); });
    m.agents.forEach((a) => agents.set(a.agent, a));
  } else if (m.type === "update") {
    m.queues.forEach((q) => { queues.set(q.queue, q); rememberAlerts(q); });
    m.agents.forEach((a) => agents.set(a.agent, a));
    m.gone.forEach((ext) => agents.delete(ext));
  } else if (m.type === "alert") {
    const key = `${m.queue}/${m.kind}`;
    if (m.raised) alerts.set(key, m); else alerts.delete(key);
  } else return;
  render();
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws/wallboard?token=${encodeURIComponent(token)}`);
  socket = ws;
  ws.onopen = () => { retry = 0; $("link").textContent = "online"; $("link").className = "badge on"; };
  ws.onclose = (ev) => {
    $("link").textContent = "offline"; $("link").className = "badge off";
    if (socket !== ws) return;  // signed out: this socket was closed on purpose
    if (ev.code === 4401) return signOut("Your session expired: sign in again.");
    if (ev.code === 4403) return signOut("The wallboard is for supervisors.");
    if (token) setTimeout(connect, Math.min(5000, 500 * 2 ** retry++));
  };
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
}

async function startBoard() {
  try {
    const me = await api("/api/session");
    $("me").textContent = me.display_name || me.username;
  } catch (e) {
    return signOut();
  }
  showSignedIn();
  connect();
}

function stopBoard() {
  const open = socket;
  socket = null;
  if (open) open.close();
}

setInterval(() => { if (socket && socket.readyState === 1) socket.send("ping"); }, 25000);
setInterval(() => { if (!$("board").hidden) render(); }, 1000); // the clocks (longest wait, time in state) move
pageSession("board", "username", startBoard, stopBoard);
