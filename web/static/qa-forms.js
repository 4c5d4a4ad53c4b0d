// hotline quality assurance, the admin's scoring-form editor: every version of every form listed, a new form
// or the next version of one published (checked here first, then by the API, whose refusals are shown field
// by field), a version retired. Versions are immutable: editing a version publishes the next one.
// Loaded before qa.js, whose start() calls formEditor(onChange) for an admin; it uses qa.js's cell() and when().
"use strict";
const editor = { versions: [], onChange: null };

const FORM_NAME = /^[a-z][a-z0-9_-]{0,59}$/;
const CRITERION_KEY = /^[a-z][a-z0-9_]{0,39}$/;
const BLANK_CRITERION = { key: "", label: "", guidance: "", weight: 0, max_score: 5, critical: false, allow_na: false };

async function formEditor(onChange) {
  editor.onChange = onChange;
  await loadVersions();
  if (!$("f-criteria").tBodies[0].rows.length) editForm(null);
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

const weightSum = (criteria) => criteria.reduce((sum, c) => sum + (Number(c.weight) || 0), 0);

async function loadVersions() {
  $("forms-error").textContent = "";
  try {
    editor.versions = await api("/api/qa/forms?retired=true");
  } catch (e) {
    $("forms-error").textContent = e.message;
    return;
  }
  $("forms").tBodies[0].replaceChildren(...editor.versions.map((f) => {
    const tr = document.createElement("tr");
    tr.dataset.name = f.name;
    tr.dataset.version = f.version;
    const actions = document.createElement("td");
    actions.append(button("New version", () => editForm(f)));
    if (!f.retired_at) actions.append(button("Retire", () => retire(f)));
    tr.append(cell(f.name), cell(`v${f.version}`), cell(f.title), cell(f.criteria.length), cell(weightSum(f.criteria)),
      cell(`${when(f.created_at)} by ${f.created_by}`), cell(f.retired_at ? `retired ${when(f.retired_at)}` : "in use",
        f.retired_at ? "muted form-state" : "form-state"), actions);
    return tr;
  }));
}

async function retire(f) {
  $("forms-error").textContent = "";
  if (!confirm(`Retire ${f.name} v${f.version}? No call can be scored on it afterwards.`)) return;
  try {
    await api(`/api/qa/forms/${f.id}/retire`, { method: "POST" });
  } catch (e) {
    $("forms-error").textContent = e.message;
  }
  await loadVersions();
  await editor.onChange();
}

// the editor -----------------------------------------------------------------------------------------------

function editForm(f) {
  $("f-heading").textContent = f ? `Next version of ${f.name} (from v${f.version})` : "New form";
  $("f-name").value = f ? f.name : "";
  $("f-title").value = f ? f.title : "";
  $("f-description").value = f ? f.description : "";
  $("f-criteria").tBodies[0].replaceChildren(...(f ? f.criteria : [BLANK_CRITERION]).map(criterionRow));
  $("f-errors").replaceChildren();
  $("f-result").textContent = "";
  showWeights();
}

function field(cls, value, attrs = {}) {
  const el = document.createElement("input");
  el.className = cls;
  if (attrs.type === "checkbox") el.checked = value;
  else el.value = value;
  Object.entries(attrs).forEach(([k, v]) => el.setAttribute(k, v));
  const td = document.createElement("td");
  td.append(el);
  return td;
}

function criterionRow(c) {
  const tr = document.createElement("tr");
  const remove = document.createElement("td");
  remove.append(button("Remove", () => { tr.remove(); showWeights(); }));
  tr.append(
    field("c-key", c.key, { size: 14, "aria-label": "criterion key" }),
    field("c-label", c.label, { size: 36, "aria-label": "criterion label" }),
    field("c-guidance", c.guidance, { size: 24, "aria-label": "criterion guidance" }),
    field("c-weight", c.weight, { type: "number", min: 0, max: 1000, step: "any", "aria-label": "weight" }),
    field("c-max", c.max_score, { type: "number", min: 1, max: 100, step: 1, "aria-label": "max score" }),
    field("c-critical", c.critical, { type: "checkbox", "aria-label": "critical" }),
    field("c-na", c.allow_na, { type: "checkbox", "aria-label": "n/a allowed" }),
    remove,
  );
  return tr;
}

function showWeights() {
  $("f-weights").textContent = weightSum(read().criteria);
}

function read() {
  const rows = [...$("f-criteria").tBodies[0].rows];
  const value = (tr, cls) => tr.querySelector(`.${cls}`).value.trim();
  return {
    name: $("f-name").value.trim(),
    title: $("f-title").value.trim(),
    description: $("f-description").value.trim(),
    criteria: rows.map((tr) => ({
      key: value(tr, "c-key"),
      label: value(tr, "c-label"),
      guidance: value(tr, "c-guidance"),
      weight: value(tr, "c-weight") === "" ? NaN : Number(value(tr, "c-weight")),
      max_score: value(tr, "c-max") === "" ? NaN : Number(value(tr, "c-max")),
      critical: tr.querySelector(".c-critical").checked,
      allow_na: tr.querySelector(".c-na").checked,
    })),
  };
}

// What the page can tell before asking the API (FormIn's rules); lengths and the rest the API checks.
function check(body) {
  const errors = [];
  if (!FORM_NAME.test(body.name)) errors.push("name: lowercase letters, digits, - and _, starting with a letter");
  if (!body.title) errors.push("title: required");
  if (!body.criteria.length) errors.push("add at least one criterion");
  body.criteria.forEach((c, i) => {
    const which = `criterion ${i + 1}${c.key ? ` (${c.key})` : ""}`;
    if (!CRITERION_KEY.test(c.key)) errors.push(`${which} key: lowercase letters, digits and _, starting with a letter`);
    if (!c.label) errors.push(`${which} label: required`);
    if (!(c.weight >= 0 && c.weight <= 1000)) errors.push(`${which} weight: a number from 0 to 1000`);
    if (!(Number.isInteger(c.max_score) && c.max_score >= 1 && c.max_score <= 100)) {
      errors.push(`${which} max score: a whole number from 1 to 100`);
    }
  });
  const keys = body.criteria.map((c) => c.key);
  const twice = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
  if (twice.length) errors.push(`criterion keys must be distinct: ${twice.join(", ")} appear more than once`);
  if (body.criteria.length && !body.criteria.some((c) => c.weight > 0 && !c.allow_na)) {
    errors.push("at least one criterion must carry weight and apply to every call (n/a not allowed)");
  }
  return errors;
}

// The API's refusal as lines: a validation error lists each field (criteria.2.label → criterion 3 label).
function refusal(e, body) {
  let detail;
  try {
    detail = JSON.parse(e.message);
  } catch {
    return [e.message];
  }
  if (!Array.isArray(detail)) return [e.message];
  return detail.map((d) => {
    const loc = d.loc.filter((p) => p !== "body");
    if (loc[0] === "criteria" && typeof loc[1] === "number") {
      const key = body.criteria[loc[1]]?.key;
      loc.splice(0, 2, `criterion ${loc[1] + 1}${key ? ` (${key})` : ""}`);
    }
    const msg = d.msg.replace(/^Value error, /, "");
    return loc.length ? `${loc.join(" ")}: ${msg}` : msg;
  });
}

function showErrors(lines) {
  $("f-errors").replaceChildren(...lines.map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  }));
}

async function publish(ev) {
  ev.preventDefault();
  $("f-result").textContent = "";
  const body = read();
  const errors = check(body);
  showErrors(errors);
  if (errors.length) return;
  let published;
  try {
    published = await api("/api/qa/forms", { method: "POST", body: JSON.stringify(body) });
  } catch (e) {
    showErrors(refusal(e, body));
    return;
  }
  editForm(published);
  $("f-result").textContent = `Published ${published.name} v${published.version}`;
  await loadVersions();
  await editor.onChange();
}

$("f-new").addEventListener("click", () => editForm(null));
$("f-add").addEventListener("click", () => {
  $("f-criteria").tBodies[0].append(criterionRow(BLANK_CRITERION));
  showWeights();
});
$("f-criteria").addEventListener("input", showWeights);
$("form-editor").addEventListener("submit", publish);
