// hotline quality assurance, a supervisor's disputed reviews: each with the agent's reason, upheld with a note
// or amended, the review's marks shown beside new scores; the total before the amendment is kept by the API.
// Loaded before qa.js, whose start() calls loadDisputes(); it uses qa.js's cell(), scoreSelect(), scoreOf()
// and loadSamples().
"use strict";
let amending = null; // the disputed review being amended

async function loadDisputes() {
  $("disputes-error").textContent = "";
  let disputed;
  try {
    disputed = await api("/api/qa/evaluations?status=disputed");
  } catch (e) {
    $("disputes-error").textContent = e.message;
    return;
  }
  $("disputes").tBodies[0].replaceChildren(...disputed.map((e) => {
    const tr = document.createElement("tr");
    const note = document.createElement("input");
    note.placeholder = "note";
    note.size = 18;
    const uphold = document.createElement("button");
    uphold.type = "button";
    uphold.textContent = "Uphold";
    uphold.addEventListener("click", async () => {
      try {
        await api(`/api/qa/evaluations/${e.id}/resolve`, { method: "POST",
          body: JSON.stringify({ outcome: "upheld", note: note.value || "upheld" }) });
      } catch (err) {
        $("disputes-error").textContent = err.message;
      }
      await loadDisputes();
    });
    const amend = document.createElement("button");
    amend.type = "button";
    amend.textContent = "Amend…";
    amend.addEventListener("click", () => openAmend(e, note.value));
    const resolve = document.createElement("td");
    resolve.append(note, uphold, amend);
    tr.append(cell(e.id), cell(e.agent), cell(e.call_id), cell(e.total.toFixed(2)), cell(e.reviewer),
      cell(e.dispute_reason), resolve);
    return tr;
  }));
}

// amending a disputed review: its marks (and the agent's reason) beside new scores, submitted with a note
async function openAmend(e, note) {
  $("r-error").textContent = "";
  $("r-result").textContent = "";
  let form;
  try {
    form = await api(`/api/qa/forms/${e.form_id}`); // the version it was scored on: which criteria allow n/a
  } catch (err) {
    $("disputes-error").textContent = err.message;
    return;
  }
  amending = e;
  $("resolve-detail").hidden = false;
  $("r-amend").disabled = false;
  $("r-id").textContent = e.id;
  $("r-agent").textContent = e.agent;
  $("r-call").textContent = e.call_id;
  $("r-form").textContent = `${e.form_name} v${e.form_version}`;
  $("r-reviewer").textContent = e.reviewer;
  $("r-total").textContent = `${e.total.toFixed(2)} %`;
  $("r-reason").textContent = e.dispute_reason;
  $("r-note").value = note;
  const marks = new Map(e.marks.map((m) => [m.criterion, m]));
  $("r-marks").tBodies[0].replaceChildren(...form.criteria.map((c) => {
    const m = marks.get(c.key);
    const tr = document.createElement("tr");
    const now = document.createElement("td");
    now.append(scoreSelect(c, `amend-${c.key}`, m.score ?? ""), document.createTextNode(` / ${c.max_score}`));
    const comment = document.createElement("input");
    comment.name = `amend-comment-${c.key}`;
    comment.size = 24;
    comment.value = m.comment;
    const commentCell = document.createElement("td");
    commentCell.append(comment);
    tr.append(cell(c.label, c.critical ? "critical" : ""), cell(c.weight),
      cell(m.score === null ? "n/a" : `${m.score} / ${c.max_score}`), now, commentCell);
    return tr;
  }));
}

async function submitAmendment(ev) {
  ev.preventDefault();
  $("r-error").textContent = "";
  const marks = amending.marks.map((m) => ({ criterion: m.criterion,
    score: scoreOf(document.querySelector(`[name="amend-${m.criterion}"]`)),
    comment: document.querySelector(`[name="amend-comment-${m.criterion}"]`).value }));
  let r;
  try {
    r = await api(`/api/qa/evaluations/${amending.id}/resolve`, { method: "POST",
      body: JSON.stringify({ outcome: "amended", note: $("r-note").value, marks }) });
  } catch (e) {
    $("r-error").textContent = e.message;
    return;
  }
  $("r-amend").disabled = true;
  $("r-total").textContent = `${r.total.toFixed(2)} %`;
  const failed = r.critical_failures.length ? ` — critical failure: ${r.critical_failures.join(", ")}` : "";
  $("r-result").textContent =
    `amended: ${r.total.toFixed(2)} % (was ${r.total_before_resolution.toFixed(2)} %)${failed}`;
  await Promise.all([loadDisputes(), loadSamples()]);
}

$("amend-form").addEventListener("submit", submitAmendment);
$("r-cancel").addEventListener("click", () => { $("resolve-detail").hidden = true; });
