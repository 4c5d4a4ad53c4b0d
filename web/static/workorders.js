// hotline work orders: the back office's queue by department, SLA clocks, escalations, one order's history.
"use strict";
const ACTIVE = ["open", "in_progress", "waiting_customer"];
let catalogue = null;
let page = 1;
let rows = [];  // the queue as last fetched

const words = (s) => (s || "").replaceAll("_", " ");

function clockText(seconds) {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const text = d ? `${d}d ${h}h` : h ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return seconds < 0 ? `overdue ${text}` : `${text} left`;
}

// the SLA clock of an order now: it ticks only while the order's clock runs (not while waiting or resolved)
function slaNow(o) {
  const elapsed = o.sla_running ? (Date.now() - o.fetchedAt) / 1000 : 0;
  return o.sla_seconds_left - elapsed;
}

function paintSla(el, o) {
  const left = slaNow(o);
  let state = o.sla_state;
  if (o.sla_running && left <= 0) state = "breached";
  el.textContent = clockText(left) + (o.sla_running ? "" : " (paused)");
  el.className = `sla ${state}${o.sla_running ? "" : " paused"}`;
  el.dataset.state = state;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
}

function showQueue(result) {
  const now = Date.now();
  rows = result.items;
  rows.forEach((o) => { o.fetchedAt = now; });
  const body = $("queue").querySelector("tbody");
  body.replaceChildren(...rows.map((o) => {
    const tr = document.createElement("tr");
    tr.className = "order";
    tr.dataset.id = o.id;
    tr.dataset.status = o.status;
    const level = document.createElement("span");
    level.className = `badge level l${o.escalation_level}`;
    level.textContent = `${o.escalation_level} · ${words(o.escalation_name)}`;
    const levelCell = cell("");
    levelCell.append(level);
    const sla = document.createElement("span");
    paintSla(sla, o);
    const slaCell = cell("");
    slaCell.append(sla);
    tr.append(
      cell(o.id), cell(words(o.type) + (o.claim_kind ? ` (${o.claim_kind})` : "")), cell(o.subject),
      cell(catalogue.departments[o.department] || o.department),
      cell(o.customer_id ? `#${o.customer_id} ${words(o.customer_tier)}` : "—"), cell(o.waybill || "—"),
      cell(words(o.status)), cell(o.assignee || "—"), levelCell, slaCell,
    );
    tr.addEventListener("click", () => openOrder(o.id));
    if (String(o.id) === $("detail").dataset.id) tr.classList.add("selected");
    return tr;
  }));
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell("No work orders match.");
    td.colSpan = 10;
    tr.append(td);
    body.append(tr);
  }
  const pages = Math.max(1, Math.ceil(result.total / result.page_size));
  $("page-info").textContent = `page ${result.page} of ${pages} · ${result.total} work orders`;
  $("prev").disabled = result.page <= 1;
  $("next").disabled = result.page >= pages;
}

async function loadQueue() {
  $("queue-error").textContent = "";
  const q = new URLSearchParams({ page, page_size: 25 });
  const add = (name, value) => { if (value) q.append(name, value); };
  add("department", $("f-department").value);
  add("type", $("f-type").value);
  add("sla_state", $("f-sla").value);
  add("waybill", $("f-waybill").value.trim());
  add("assignee", $("f-assignee").value.trim());
  if ($("f-status").value === "active") ACTIVE.forEach((s) => q.append("status", s));
  try {
    showQueue(await api(`/api/work-orders?${q}`));
  } catch (e) {
    $("queue-error").textContent = e.message;
  }
}

function showOrder(o) {
  const d = $("detail");
  d.hidden = false;
  d.dataset.id = o.id;
  d.dataset.status = o.status;
  $("d-id").textContent = `#${o.id}`;
  $("d-subject").textContent = o.subject;
  $("d-type").textContent = words(o.type) + (o.claim_kind ? ` (${o.claim_kind})` : "");
  $("d-department").textContent = catalogue.departments[o.department] || o.department;
  $("d-status").textContent = words(o.status);
  o.fetchedAt = Date.now();
  d.order = o;
  paintSla($("d-sla"), o);
  $("d-due").textContent = new Date(o.sla_due_at).toLocaleString();
  $("d-level").textContent = `${o.escalation_level} · ${words(o.escalation_name)}`;
  $("d-customer").textContent = o.customer_id ? `#${o.customer_id} (${words(o.customer_tier)})` : "unknown caller";
  $("d-waybill").textContent = o.waybill || "—";
  $("d-opened").textContent = `${new Date(o.opened_at).toLocaleString()} by ${o.opened_by}`;
  $("d-calls").textContent = o.calls.map((c) => c.call_id).join(", ") || "—";
  $("d-fcr").textContent = o.first_contact_resolution ? "yes" : "no";
  const next = catalogue.transitions[o.status] || [];
  $("c-status").replaceChildren(new Option("(unchanged)", ""), ...next.map((s) => new Option(words(s), s)));
  $("c-assignee").value = o.assignee || "";
  $("c-notes").value = o.notes || "";
  $("history").querySelector("tbody").replaceChildren(...o.history.map((h) => {
    const tr = document.createElement("tr");
    const what = h.field ? `${words(h.action)}: ${h.field} ${h.old ?? "—"} → ${h.new ?? "—"}`
                         : `${words(h.action)}${h.new ? ": " + h.new : ""}`;
    tr.append(cell(new Date(h.at).toLocaleString()), cell(h.actor), cell(what));
    return tr;
  }));
  document.querySelectorAll("#queue tr.order").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === String(o.id)));
}

async function openOrder(id) {
  $("change-error").textContent = "";
  try {
    showOrder(await api(`/api/work-orders/${id}`));
  } catch (e) {
    $("change-error").textContent = e.message;
  }
}

$("change").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("change-error").textContent = "";
  const o = $("detail").order;
  const body = {};
  if ($("c-status").value) body.status = $("c-status").value;
  if ($("c-assignee").value.trim() !== (o.assignee || "")) body.assignee = $("c-assignee").value.trim();
  if ($("c-notes").value !== (o.notes || "")) body.notes = $("c-notes").value;
  try {
    showOrder(await api(`/api/work-orders/${o.id}`, { method: "PATCH", body: JSON.stringify(body) }));
    await loadQueue();
  } catch (e) {
    $("change-error").textContent = e.message;
  }
});

async function startBoard() {
  try {
    const me = await api("/api/session");
    catalogue = await api("/api/work-orders/catalogue");
    $("me").textContent = me.display_name || me.username;
  } catch (e) {
    return signOut(e.message);
  }
  for (const [code, name] of Object.entries(catalogue.departments)) $("f-department").append(new Option(name, code));
  for (const t of catalogue.types) $("f-type").append(new Option(words(t), t));
  showSignedIn();
  await loadQueue();
}

$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); page = 1; loadQueue(); });
$("prev").addEventListener("click", () => { page -= 1; loadQueue(); });
$("next").addEventListener("click", () => { page += 1; loadQueue(); });
// the clocks tick every second; the queue is fetched again every 30 s (escalations, other people's changes)
setInterval(() => {
  document.querySelectorAll("#queue tr.order").forEach((tr, i) => {
    const sla = tr.querySelector(".sla");
    if (sla && rows[i]) paintSla(sla, rows[i]);
  });
  const o = $("detail").order;
  if (o && !$("detail").hidden) paintSla($("d-sla"), o);
}, 1000);
setInterval(() => { if (token && catalogue) loadQueue(); }, 30000);
pageSession("board", "username", startBoard);
