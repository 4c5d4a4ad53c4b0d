// The desk's recording controls (recordings/desk_routes.py): start an on-demand recording, pause it while the
// caller gives card data, resume it. Self-contained: it reads the desk's session token, polls the agent's
// current call's recording state, and draws its buttons in <div id="recording-controls">.
"use strict";
(() => {
  const box = document.getElementById("recording-controls");
  if (!box) return;
  const token = () => sessionStorage.getItem("hotline.token");
  const state = document.createElement("span");
  state.className = "badge";
  const buttons = {
    start: ["Record call", "start"],
    pause: ["Pause recording", "pause"],
    resume: ["Resume recording", "resume"],
  };
  const made = {};
  const error = document.createElement("span");
  error.className = "error";
  error.setAttribute("role", "alert");
  box.classList.add("buttons");
  box.append(state);
  for (const [key, [label, action]] of Object.entries(buttons)) {
    const b = document.createElement("button");
    b.type = "button";
    b.id = `btn-rec-${key}`;
    b.textContent = label;
    b.hidden = true;
    b.addEventListener("click", () => act(action));
    box.append(b);
    made[key] = b;
  }
  box.append(error);
  box.hidden = true;

  async function call(path, method = "GET") {
    const r = await fetch(path, { method, headers: { Authorization: `Bearer ${token()}` } });
    const body = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, body };
  }

  function draw(s) {
    if (!s) { box.hidden = true; return; }
    box.hidden = false;
    state.textContent = s.paused ? "recording paused" : s.recording ? "recording" : "not recorded";
    state.className = `badge ${s.paused ? "ringing" : s.recording ? "on" : "off"}`;
    made.start.hidden = s.recording || s.policy !== "on_demand";
    made.pause.hidden = !s.recording || s.paused;
    made.resume.hidden = !s.paused;
  }

  async function refresh() {
    if (!token()) { draw(null); return; }
    try {
      const r = await call("/api/calls/me/recording");
      draw(r.ok ? r.body : null);
    } catch (e) {
      draw(null);
    }
  }

  async function act(action) {
    error.textContent = "";
    const r = await call(`/api/calls/me/recording/${action}`, "POST");
    if (r.ok) draw(r.body);
    else error.textContent = r.body.message || `could not ${action} the recording`;
  }

  refresh();
  setInterval(refresh, 2000);
})();
