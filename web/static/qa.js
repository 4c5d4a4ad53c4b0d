// hotline quality assurance: supervisors draw and score sampled calls (with the recording), compare reviewers
// and resolve disputes (upheld, or amended with new marks); agents read the reviews of their own calls and
// acknowledge or dispute them; admins also edit the scoring forms (qa-forms.js). Disputes: qa-disputes.js.
"use strict";
let me = null;
let forms = [];
let current = null; // the sample shown
let chosen = null; // the agent's review shown

const when = (iso) => new Date(iso).toLocaleString();
const secs = (s) => `${Math.round(s)} s`;
const has = (role) => me.roles.includes(role) || me.roles.includes("admin");

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function thisMonth() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

async function start() {
  me = await api("/api/session");
  current = null;
  chosen = null;
  $("mine-detail").hidden = true;
  showSignedIn();
  $("user-name").textContent = me.display_name;
  if (!$("month").value) $("month").value = thisMonth();
  const reviewer = has("supervisor");
  $("review").hidden = !reviewer;
  $("disputes-card").hidden = !reviewer;
  $("mine-card").hidden = !me.roles.includes("agent");
  $("forms-card").hidden = !me.roles.includes("admin");
  $("sample").hidden = true;
  $("resolve-detail").hidden = true;
  forms = await api("/api/qa/forms");
  if (reviewer) await Promise.all([loadSamples(), loadDisputes()]);
  if (me.roles.includes("agent")) await loadMine();
  if (me.roles.includes("admin")) await formEditor(refreshForms);
}

// the forms in use changed (published, retired): the scoring form offers the current ones
async function refreshForms() {
  forms = await api("/api/qa/forms");
  if (current) {
    fillFormSelect();
    renderCriteria();
  }
}

async function loadSamples() {
  $("review-error").textContent = "";
  const params = new URLSearchParams({ month: $("month").value });
  if ($("pending").checked) params.set("pending", "true");
  let samples;
  try {
    samples = await api(`/api/qa/samples?${params}`);
  } catch (e) {
    $("review-error").textContent = e.message;
    return;
  }
  $("samples").tBodies[0].replaceChildren(...samples.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.id = s.id;
    tr.append(cell(s.id), cell(s.agent), cell(s.call_id), cell(s.queue), cell(when(s.started_at)),
      cell(secs(s.duration_seconds)), cell(s.reviewed ? `reviewed (${s.evaluations})` : "to review"),
      cell(s.reviewed ? `${s.review_total.toFixed(2)} %${s.review_status === "submitted" ? "" : ` (${s.review_status})`}` : "",
        "review-total"));
    tr.addEventListener("click", () => openSample(s.id));
    return tr;
  }));
}

async function draw() {
  $("review-error").textContent = "";
  try {
    const run = await api("/api/qa/samples", { method: "POST", body: JSON.stringify({ month: $("month").value }) });
    $("draw-result").textContent = `${run.added.length} call(s) added (${run.per_agent} per agent, ${run.agents} agent(s))`;
  } catch (e) {
    $("review-error").textContent = e.message;
  }
  await loadSamples();
}

async function play(recordingId) {
  // the audio route is role-checked with the bearer token, which an <audio src> cannot send: fetch it, play the blob
  const player = $("player");
  $("player-state").textContent = "loading the recording…";
  try {
    const r = await fetch(`/api/recordings/${recordingId}/audio`, { headers: { Authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || r.statusText);
    if (player.src.startsWith("blob:")) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(await r.blob());
    player.dataset.recording = recordingId;
    $("player-state").textContent = "";
  } catch (e) {
    player.removeAttribute("src");
    $("player-state").textContent = `recording unavailable: ${e.message}`;
  }
}

async function openSample(id) {
  let detail;
  try {
    detail = await api(`/api/qa/samples/${id}`);
  } catch (e) {
    $("review-error").textContent = e.message;
    return;
  }
  current = detail.sample;
  document.querySelectorAll("#samples tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id == id));
  $("sample").hidden = false;
  $("s-call").textContent = current.call_id;
  $("s-agent").textContent = current.agent;
  $("s-queue").textContent = current.queue || "—";
  $("s-when").textContent = when(current.started_at);
  $("score-result").textContent = "";
  $("score-error").textContent = "";
  $("comment").value = "";
  fillFormSelect();
  renderCriteria();
  await Promise.all([play(current.recording_id), loadCalibration()]);
}

function fillFormSelect() {
  const was = $("form-select").value;
  $("form-select").replaceChildren(...forms.map((f) => {
    const o = document.createElement("option");
    o.value = f.id;
    o.textContent = `${f.title} (${f.name} v${f.version})`;
    return o;
  }));
  if (forms.some((f) => f.id == was)) $("form-select").value = was;
}

// a criterion's score: 0 to its max, or n/a where the criterion allows it ("" stands for n/a)
function scoreSelect(c, name, value) {
  const select = document.createElement("select");
  select.name = name;
  select.setAttribute("aria-label", c.key);
  const values = Array.from({ length: c.max_score + 1 }, (_, i) => i);
  if (c.allow_na) values.unshift("");
  values.reverse().forEach((v) => {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = v === "" ? "n/a" : v;
    select.append(o);
  });
  select.value = value;
  return select;
}

const scoreOf = (select) => (select.value === "" ? null : Number(select.value));

function renderCriteria() {
  const form = forms.find((f) => f.id == $("form-select").value);
  if (!form) return;
  $("criteria").tBodies[0].replaceChildren(...form.criteria.map((c) => {
    const tr = document.createElement("tr");
    const select = scoreSelect(c, `score-${c.key}`, c.max_score);
    const comment = document.createElement("input");
    comment.name = `comment-${c.key}`;
    comment.size = 24;
    const label = cell(c.label, c.critical ? "critical" : "");
    if (c.critical) label.title = "critical: 0 makes the whole call worth 0";
    const scoreCell = document.createElement("td");
    scoreCell.append(select, document.createTextNode(` / ${c.max_score}`));
    const commentCell = document.createElement("td");
    commentCell.append(comment);
    tr.append(label, cell(c.weight), scoreCell, commentCell);
    return tr;
  }));
}

async function submitScores(ev) {
  ev.preventDefault();
  $("score-error").textContent = "";
  const form = forms.find((f) => f.id == $("form-select").value);
  const marks = form.criteria.map((c) => ({ criterion: c.key,
    score: scoreOf(document.querySelector(`[name="score-${c.key}"]`)),
    comment: document.querySelector(`[name="comment-${c.key}"]`).value }));
  try {
    const r = await api(`/api/qa/samples/${current.id}/evaluations`, { method: "POST",
      body: JSON.stringify({ form_id: form.id, marks, comment: $("comment").value }) });
    const failed = r.critical_failures.length ? ` — critical failure: ${r.critical_failures.join(", ")}` : "";
    $("score-result").textContent = `${r.purpose} saved: ${r.total.toFixed(2)} %${failed}`;
  } catch (e) {
    $("score-error").textContent = e.message;
  }
  await Promise.all([loadCalibration(), loadSamples()]);
}

async function loadCalibration() {
  const cal = await api(`/api/qa/samples/${current.id}/calibration`);
  const head = document.createElement("tr");
  head.append(cell("Criterion"), ...cal.reviewers.map((r) => cell(r)), cell("Spread"));
  $("calibration").tHead.replaceChildren(head);
  const rows = cal.criteria.map((c) => {
    const tr = document.createElement("tr");
    tr.append(cell(c.criterion), ...cal.reviewers.map((r) => cell(c.scores[r] ?? "n/a")), cell(c.spread ?? "—"));
    return tr;
  });
  const totals = document.createElement("tr");
  totals.className = "totals";
  totals.append(cell("Total %"), ...cal.reviewers.map((r) => cell(cal.totals[r].toFixed(2))),
    cell(cal.total_spread === null ? "—" : cal.total_spread.toFixed(2)));
  $("calibration").tBodies[0].replaceChildren(...(cal.reviewers.length ? [...rows, totals] : []));
}

async function loadMine() {
  let mine;
  try {
    mine = await api(`/api/qa/evaluations?agent=${encodeURIComponent(me.username)}`);
  } catch (e) {
    $("mine-error").textContent = e.message;
    return;
  }
  mine = mine.filter((e) => e.agent === me.username);
  $("mine").tBodies[0].replaceChildren(...mine.map((e) => {
    const tr = document.createElement("tr");
    tr.dataset.id = e.id;
    const status = cell("");
    const badge = document.createElement("span");
    badge.className = `badge status ${e.status}`;
    badge.textContent = e.status;
    status.append(badge);
    tr.append(cell(e.id), cell(e.call_id), cell(when(e.call_started_at)), cell(`${e.total.toFixed(2)} %`),
      cell(e.reviewer), status, cell(e.critical_failures.length ? "critical failure" : "", "critical"));
    tr.addEventListener("click", () => showMine(e));
    return tr;
  }));
  if (chosen) {
    const again = mine.find((e) => e.id === chosen.id);
    if (again) showMine(again);
  }
}

function showMine(e) {
  chosen = e;
  document.querySelectorAll("#mine tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id == e.id));
  $("mine-detail").hidden = false;
  $("m-id").textContent = e.id;
  $("m-total").textContent = `${e.total.toFixed(2)} % (${e.status})`;
  $("m-comment").textContent = e.comment;
  $("m-marks").tBodies[0].replaceChildren(...e.marks.map((m) => {
    const tr = document.createElement("tr");
    tr.append(cell(m.label, m.critical ? "critical" : ""), cell(m.score === null ? "n/a" : `${m.score} / ${m.max_score}`),
      cell(m.comment));
    return tr;
  }));
  const open = e.status === "submitted";
  $("acknowledge").disabled = !open;
  $("dispute").disabled = !open;
  $("dispute-reason").disabled = !open;
}

async function answer(action, body) {
  $("mine-error").textContent = "";
  try {
    await api(`/api/qa/evaluations/${chosen.id}/${action}`, { method: "POST", body: JSON.stringify(body || {}) });
  } catch (e) {
    $("mine-error").textContent = e.message;
  }
  await loadMine();
}

$("month-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadSamples(); });
$("draw").addEventListener("click", draw);
$("form-select").addEventListener("change", renderCriteria);
$("score-form").addEventListener("submit", submitScores);
$("acknowledge").addEventListener("click", () => answer("acknowledge"));
$("dispute-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  answer("dispute", { reason: $("dispute-reason").value });
});
pageSession("qa", "username", start);
