// hotline agent desk: the callback list (callers promised a call back, oldest place first) with click-to-dial:
// "Call back" rings the agent's own phone first, then the customer's. Uses session.js's api().
"use strict";
const CALLBACK_REFRESH_MS = 10000;
let callbacksTimer = null;

function callbackRow(c) {
  const tr = document.createElement("tr");
  tr.dataset.callback = c.id;
  tr.dataset.state = c.state;
  const td = (text, cls = "") => { const x = document.createElement("td"); x.textContent = text; x.className = cls; return x; };
  const dial = document.createElement("button");
  dial.type = "button";
  dial.className = "dial";
  dial.textContent = "Call back";
  dial.disabled = !(c.state === "pending" || c.state === "queued");
  dial.addEventListener("click", () => dialCallback(c.id));
  const action = td("");
  action.append(dial);
  tr.append(
    td(c.number, "number"), td(c.queue), td(c.reason.replaceAll("_", " ")), td(c.state.replaceAll("_", " "), "state"),
    td(new Date(c.requested_at).toLocaleString()), action,
  );
  return tr;
}

async function loadCallbacks() {
  if (!token) return;
  clearTimeout(callbacksTimer);
  try {
    const list = await api("/api/callbacks");
    $("callbacks").tBodies[0].replaceChildren(...list.map(callbackRow));
    $("callbacks-empty").hidden = list.length > 0;
  } catch (e) {
    $("callback-error").textContent = e.message;
  }
  if (token) callbacksTimer = setTimeout(loadCallbacks, CALLBACK_REFRESH_MS);
}

async function dialCallback(id) {
  $("callback-error").textContent = "";
  $("callback-result").textContent = "";
  try {
    const c = await api(`/api/callbacks/${id}/dial`, { method: "POST" });
    $("callback-result").textContent = `Calling back ${c.number}: answer your phone, then the customer is rung.`;
  } catch (e) {
    $("callback-error").textContent = e.message;
  }
  loadCallbacks();
}

$("btn-callbacks-refresh").addEventListener("click", loadCallbacks);
