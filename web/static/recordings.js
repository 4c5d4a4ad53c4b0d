// Recordings for supervisors and QA (an agent sees their own, if allowed): filters, transcript search, playback
// and download. The audio is fetched with the session token (never in a URL) and every fetch is audited by the
// controller; a refused recording shows the reason instead of a player.
"use strict";

function fmtSize(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

function fmtLength(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function query() {
  const p = new URLSearchParams();
  const add = (key, id) => { const v = $(id).value.trim(); if (v) p.set(key, v); };
  add("agent", "f-agent");
  add("queue", "f-queue");
  if ($("f-since").value) p.set("since", new Date($("f-since").value).toISOString());
  if ($("f-until").value) p.set("until", new Date(new Date($("f-until").value).getTime() + 86400000).toISOString());
  return p;
}

async function audio(rec, download) {
  const r = await fetch(`/api/recordings/${rec.id}/audio${download ? "?download=true" : ""}`,
    { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new Error(body.message || r.statusText);
  }
  return URL.createObjectURL(await r.blob());
}

async function play(rec) {
  $("player-card").hidden = false;
  $("player-error").textContent = "";
  $("player-title").textContent = `Call ${rec.call_id} · agent ${rec.agent || "—"} · ${rec.queue || "—"}`;
  const pauses = rec.pauses || [];
  $("player-pauses").textContent = pauses.length
    ? `Paused (silence): ${pauses.map((p) => `${fmtLength(p.start)}–${p.end == null ? "end" : fmtLength(p.end)}`).join(", ")}`
    : "";
  try {
    $("player").src = await audio(rec, false);
    await $("player").play().catch(() => {});
  } catch (e) {
    $("player").removeAttribute("src");
    $("player-error").textContent = e.message;
  }
}

async function download(rec) {
  try {
    const a = document.createElement("a");
    a.href = await audio(rec, true);
    a.download = `${rec.call_id}.${rec.format === "opus" ? "opus" : "wav"}`;
    a.click();
  } catch (e) {
    $("player-card").hidden = false;
    $("player-error").textContent = e.message;
  }
}

function row(rec) {
  const tr = document.createElement("tr");
  tr.dataset.id = rec.id;
  const cells = [rec.id, new Date(rec.created_at).toLocaleString(), rec.agent || "—", rec.queue || "—",
    fmtLength(rec.duration_seconds), fmtSize(rec.size_bytes)];
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  const said = document.createElement("td");
  said.className = "muted";
  said.textContent = rec.snippet || (rec.transcript ? rec.transcript.slice(0, 80) : rec.transcript_state);
  tr.append(said);
  const actions = document.createElement("td");
  const p = document.createElement("button");
  p.type = "button"; p.textContent = "Play"; p.className = "play";
  p.addEventListener("click", () => play(rec));
  const d = document.createElement("button");
  d.type = "button"; d.textContent = "Download"; d.className = "download";
  d.addEventListener("click", () => download(rec));
  actions.append(p, d);
  tr.append(actions);
  return tr;
}

async function load() {
  $("list-error").textContent = "";
  const words = $("f-q").value.trim();
  const p = query();
  let rows;
  try {
    if (words) {
      p.set("q", words);
      rows = await api(`/api/recordings/search?q=${encodeURIComponent(words)}`);
      const agent = p.get("agent"), queue = p.get("queue");
      rows = rows.filter((r) => (!agent || r.agent === agent) && (!queue || r.queue === queue));
    } else {
      rows = await api(`/api/recordings?limit=200&${p}`);
    }
  } catch (e) {
    $("list-error").textContent = e.message;
    return;
  }
  const body = $("list").querySelector("tbody");
  body.replaceChildren(...rows.map(row));
  $("count").textContent = `${rows.length} recording${rows.length === 1 ? "" : "s"}`;
}

async function start() {
  const me = await api("/api/session");
  $("user-name").textContent = me.display_name || me.username;
  showSignedIn();
  await load();
}

$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
pageSession("library", "username", start);
