// Shared by the back-office pages: the session token, role-checked API calls, sign-in and sign-out.
// A page calls `pageSession(mainId, userField, start, stop)`: `start` runs once signed in (and at load when a
// session is already stored), `stop` (optional) when the page signs out (to close its sockets); a 401 from
// any call made with a session signs the page out with a message (a refused sign-in only says why).
"use strict";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("hotline.token");
let page_main = null;
let page_stop = null;

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(path, { ...options, headers });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401 && headers.Authorization) { signOut("Your session ended: sign in again."); throw new Error("signed out"); }
  if (!r.ok) throw new Error(body.message || (body.detail && JSON.stringify(body.detail)) || r.statusText);
  return body;
}

function signOut(message = "") {
  if (token) fetch("/api/session", { method: "DELETE", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  token = null;
  sessionStorage.removeItem("hotline.token");
  if (page_stop) page_stop();
  if (page_main) $(page_main).hidden = true;
  $("who").hidden = true;
  $("login-panel").hidden = false;
  $("login-error").textContent = message === "signed out" ? "" : message;
}

function showSignedIn() {
  $("login-panel").hidden = true;
  $(page_main).hidden = false;
  $("who").hidden = false;
}

function pageSession(mainId, userField, start, stop = null) {
  page_main = mainId;
  page_stop = stop;
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      const r = await api("/api/session", { method: "POST",
        body: JSON.stringify({ username: $(userField).value.trim(), password: $("password").value }) });
      token = r.token;
      sessionStorage.setItem("hotline.token", token);
      await start();
    } catch (e) {
      $("login-error").textContent = e.message;
    }
  });
  $("signout").addEventListener("click", () => signOut());
  if (token) start();
}
