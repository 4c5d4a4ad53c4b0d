// hotline agent desk: the pop's work orders. Open one from the pop, prefilled with the caller's customer, the
// waybill they asked about in the IVR and the call (linked to it); or update one of the caller's open orders
// (status, a note added to its notes) with this call linked. Uses session.js's api() and agent.js's pop.
"use strict";
let woCatalogue = null;
let woCall = null;      // the pop the forms are for: {call_id, customer_id, waybill}
let woOrders = [];      // the caller's open orders as shown on the pop

const woWords = (s) => (s || "").replaceAll("_", " ");

function slaClock(order) {
  const left = Math.round((new Date(order.sla_due_at) - Date.now()) / 60000);
  const span = (m) => (Math.abs(m) >= 120 ? `${Math.round(Math.abs(m) / 60)} h` : `${Math.abs(m)} min`);
  const level = order.escalation_level ? ` · level ${order.escalation_level}` : "";
  return (left >= 0 ? `due in ${span(left)}` : `overdue by ${span(left)}`) + level;
}

async function woLoadCatalogue() {
  if (woCatalogue) return woCatalogue;
  woCatalogue = await api("/api/work-orders/catalogue");
  const option = (value) => { const o = document.createElement("option"); o.value = value; o.textContent = woWords(value); return o; };
  $("wo-type").replaceChildren(...woCatalogue.types.map(option));
  $("wo-claim").replaceChildren(...woCatalogue.claim_kinds.map(option));
  $("wo-type").value = "inquiry";
  woTypeChanged();
  return woCatalogue;
}

function woTypeChanged() {
  $("wo-claim").hidden = $("wo-type").value !== "claim";
}

// a new call's pop resets the forms; a pop update for the same call keeps what the agent is typing
function workOrdersForPop(pop) {
  const same = woCall && woCall.call_id === pop.call_id;
  woCall = { call_id: pop.call_id, customer_id: pop.customer ? pop.customer.id : null, waybill: pop.waybill || "" };
  if (same) return;
  $("wo-open").hidden = true;
  $("wo-update").hidden = true;
  $("wo-result").textContent = "";
  $("wo-error").textContent = "";
  $("wo-subject").value = pop.intent && pop.intent !== "agent" ? woWords(pop.intent) : "";
  $("wo-waybill").value = woCall.waybill;
  $("wo-notes").value = "";
  $("wo-for").textContent = pop.customer ? `${pop.customer.name} (#${pop.customer.id})` : "an unknown caller";
}

function showPopOrders(orders) {
  woOrders = orders;
  const list = $("pop-orders");
  list.replaceChildren(...(orders.length ? orders : [null]).map((o) => {
    const li = document.createElement("li");
    if (!o) { li.textContent = "none"; return li; }
    li.className = `sla-${o.sla_state}`;
    li.dataset.order = o.id;
    const text = `#${o.id} ${woWords(o.type)}${o.claim_kind ? " (" + o.claim_kind + ")" : ""}: ${o.subject}` +
      `${o.waybill ? " · " + o.waybill : ""} · ${woWords(o.status)} · ${slaClock(o)} `;
    const update = document.createElement("button");
    update.type = "button";
    update.className = "wo-pick";
    update.textContent = "Update";
    update.addEventListener("click", () => woPick(o.id));
    li.append(text, update);
    return li;
  }));
}

async function woPick(id) {
  $("wo-error").textContent = "";
  $("wo-result").textContent = "";
  try {
    const [catalogue, order] = await Promise.all([woLoadCatalogue(), api(`/api/work-orders/${id}`)]);
    $("wo-open").hidden = true;
    $("wo-update").hidden = false;
    $("wo-update").dataset.order = id;
    $("wo-update-title").textContent = `#${order.id} ${woWords(order.type)}: ${order.subject} (${woWords(order.status)})`;
    const next = [order.status, ...(catalogue.transitions[order.status] || [])];
    $("wo-status").replaceChildren(...next.map((s) => {
      const o = document.createElement("option"); o.value = s; o.textContent = woWords(s); return o;
    }));
    $("wo-status").value = order.status;
    $("wo-update").dataset.notes = order.notes || "";
    $("wo-note").value = "";
  } catch (e) {
    $("wo-error").textContent = e.message;
  }
}

async function woShowOpenForm() {
  $("wo-error").textContent = "";
  $("wo-result").textContent = "";
  try {
    await woLoadCatalogue();
    $("wo-update").hidden = true;
    $("wo-open").hidden = false;
    $("wo-subject").focus();
  } catch (e) {
    $("wo-error").textContent = e.message;
  }
}

async function woOpen(ev) {
  ev.preventDefault();
  $("wo-error").textContent = "";
  const type = $("wo-type").value;
  const body = {
    type,
    claim_kind: type === "claim" ? $("wo-claim").value : null,
    subject: $("wo-subject").value.trim(),
    notes: $("wo-notes").value.trim() || null,
    customer_id: woCall.customer_id,
    waybill: $("wo-waybill").value.trim() || null,
    call_id: woCall.call_id,
  };
  try {
    const order = await api("/api/work-orders", { method: "POST", body: JSON.stringify(body) });
    $("wo-open").hidden = true;
    $("wo-result").textContent = `Work order #${order.id} opened (${woWords(order.department)}, ${slaClock(order)}), this call linked.`;
    $("wo-result").dataset.order = order.id;
    showPopOrders([order, ...woOrders.filter((o) => o.id !== order.id)]);
  } catch (e) {
    $("wo-error").textContent = e.message;
  }
}

async function woSave(ev) {
  ev.preventDefault();
  $("wo-error").textContent = "";
  const form = $("wo-update");
  const id = form.dataset.order;
  const note = $("wo-note").value.trim();
  const change = { status: $("wo-status").value };
  if (note) {
    const stamp = new Date().toLocaleString();
    change.notes = `${form.dataset.notes ? form.dataset.notes + "\n" : ""}${stamp} (call ${woCall.call_id}): ${note}`;
  }
  try {
    await api(`/api/work-orders/${id}`, { method: "PATCH", body: JSON.stringify(change) });
    const order = await api(`/api/work-orders/${id}/calls`, { method: "POST",
      body: JSON.stringify({ call_id: woCall.call_id }) });
    form.hidden = true;
    $("wo-result").textContent = `Work order #${order.id} updated (${woWords(order.status)}), this call linked.`;
    $("wo-result").dataset.order = order.id;
    showPopOrders(woOrders.map((o) => (o.id === order.id ? { ...o, status: order.status } : o)));
  } catch (e) {
    $("wo-error").textContent = e.message;
  }
}

$("btn-wo-new").addEventListener("click", woShowOpenForm);
$("wo-type").addEventListener("change", woTypeChanged);
$("wo-open").addEventListener("submit", woOpen);
$("wo-update").addEventListener("submit", woSave);
$("btn-wo-cancel").addEventListener("click", () => { $("wo-open").hidden = true; });
$("btn-wo-update-cancel").addEventListener("click", () => { $("wo-update").hidden = true; });
