// hotline reports: a period's figures by interval, day, queue or agent, drawn as inline SVG, with a CSV
// download and the Erlang C staffing calculator. Figures come from /api/reports/* (docs/METRICS.md).
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)} %`);
const sec = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} s`);
const num = (v) => (v === null || v === undefined ? "—" : String(v));
const COLUMNS = [
  ["offered", num], ["answered", num], ["abandoned", num], ["short_abandoned", num], ["service_level", pct],
  ["asa_seconds", sec], ["aht_seconds", sec], ["att_seconds", sec], ["hold_seconds", sec], ["acw_seconds", sec],
  ["abandon_rate", pct], ["fcr", pct], ["occupancy", pct], ["utilisation", pct], ["ivr_containment", pct],
  ["csat", (v) => (v === null ? "—" : v.toFixed(2))],
];
const KPIS = [["offered", "offered", num], ["service_level", "service level", pct], ["asa_seconds", "ASA", sec],
  ["aht_seconds", "AHT", sec], ["abandon_rate", "abandon rate", pct], ["fcr", "FCR", pct],
  ["occupancy", "occupancy", pct], ["csat", "CSAT", (v) => (v === null ? "—" : v.toFixed(2))]];

function localDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function params(extra = {}) {
  // the chosen local days, from the first one's midnight to the midnight after the last one
  const since = new Date(`${$("from").value}T00:00`);
  const until = new Date(`${$("to").value}T00:00`);
  until.setDate(until.getDate() + 1);
  const p = new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), ...extra });
  for (const q of $("queues").value.split(",").map((s) => s.trim()).filter(Boolean)) p.append("queue", q);
  return p;
}

function label(key, by) {
  if (by === "interval") {
    const d = new Date(key);
    return `${localDay(d)} ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  }
  return key === "" ? "(no queue)" : key;
}

function el(name, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

// bars: one group per row, each series a colour; labels every few bars so they stay legible
function barChart(target, labels, series, max) {
  const W = 600, H = 220, L = 36, B = 40, top = 10;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const peak = Math.max(max ?? 0, 1, ...series.flatMap((s) => s.values));
  const slot = (W - L - 4) / Math.max(labels.length, 1);
  const bar = Math.max(1, (slot * 0.8) / series.length);
  svg.append(el("line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#9ca3af" }));
  svg.append(el("text", { x: 2, y: top + 8 }, String(peak)), el("text", { x: 2, y: H - B }, "0"));
  const every = Math.ceil(labels.length / 12);
  labels.forEach((name, i) => {
    series.forEach((s, j) => {
      const h = ((H - B - top) * s.values[i]) / peak;
      const rect = el("rect", { x: L + i * slot + j * bar, y: H - B - h, width: bar, height: h, class: s.cls });
      rect.append(el("title", {}, `${name}: ${s.values[i]} ${s.name}`));
      svg.append(rect);
    });
    if (i % every === 0) svg.append(el("text", { x: L + i * slot, y: H - B + 14 }, name.slice(-11)));
  });
  target.replaceChildren(svg);
}

function lineChart(target, labels, values, goal) {
  const W = 600, H = 220, L = 36, B = 40, top = 10;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const x = (i) => L + ((W - L - 8) * (labels.length > 1 ? i / (labels.length - 1) : 0.5));
  const y = (v) => H - B - (H - B - top) * v;
  svg.append(el("line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#9ca3af" }));
  svg.append(el("text", { x: 2, y: y(1) + 4 }, "100 %"), el("text", { x: 2, y: H - B }, "0"));
  svg.append(el("line", { x1: L, y1: y(goal), x2: W, y2: y(goal), class: "target" }));
  const points = values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
  if (points.length) svg.append(el("polyline", { points: points.join(" "), class: "line" }));
  values.forEach((v, i) => {
    if (v === null) return;
    const dot = el("circle", { cx: x(i), cy: y(v), r: 3, class: "answered" });
    dot.append(el("title", {}, `${labels[i]}: ${pct(v)}`));
    svg.append(dot);
  });
  target.replaceChildren(svg);
}

function cells(tr, values) {
  for (const v of values) {
    const td = document.createElement("td");
    td.textContent = v;
    tr.append(td);
  }
  return tr;
}

async function show() {
  $("error").textContent = "";
  const by = $("by").value;
  let report;
  try {
    report = await api(`/api/reports/summary?${params({ by })}`);
  } catch (e) {
    $("error").textContent = e.message;
    return;
  }
  const labels = report.rows.map((r) => label(r.key, by));
  $("table").tBodies[0].replaceChildren(...report.rows.map((r, i) =>
    cells(document.createElement("tr"), [labels[i], ...COLUMNS.map(([k, f]) => f(r[k]))])));
  $("table").tFoot.replaceChildren(cells(document.createElement("tr"),
    ["total", ...COLUMNS.map(([k, f]) => f(report.total[k]))]));
  $("kpis").replaceChildren(...KPIS.map(([k, name, f]) => {
    const div = document.createElement("div");
    div.className = "kpi";
    div.dataset.kpi = k;
    const b = document.createElement("b");
    b.textContent = f(report.total[k]);
    const span = document.createElement("span");
    span.textContent = name;
    div.append(b, span);
    return div;
  }));
  barChart($("chart-calls"), labels, [
    { name: "answered", cls: "answered", values: report.rows.map((r) => r.answered) },
    { name: "abandoned", cls: "abandoned", values: report.rows.map((r) => r.abandoned) },
  ]);
  lineChart($("chart-sl"), labels, report.rows.map((r) => r.service_level), 0.8);
}

async function downloadCsv(ev) {
  ev.preventDefault();
  const r = await fetch(`/api/reports/summary?${params({ by: $("by").value, format: "csv" })}`,
    { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) { $("error").textContent = `CSV: ${r.statusText}`; return; }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await r.blob());
  a.download = `report-${$("by").value}-${$("from").value}-${$("to").value}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
}

async function staffing() {
  $("staffing-error").textContent = "";
  let plan;
  try {
    plan = await api(`/api/reports/staffing?${params({ target_sl: $("target").value,
      threshold_s: $("threshold").value, max_occupancy: $("occupancy").value })}`);
  } catch (e) {
    $("staffing-error").textContent = e.message;
    return;
  }
  const labels = plan.rows.map((r) => label(r.interval, "interval"));
  $("staffing").tBodies[0].replaceChildren(...plan.rows.map((r, i) => cells(document.createElement("tr"), [
    labels[i], r.calls, sec(r.aht_seconds), r.traffic_erlangs.toFixed(2), r.agents, pct(r.service_level),
    sec(r.asa_seconds), pct(r.occupancy)])));
  $("peak").textContent = `peak: ${plan.peak_agents} agent${plan.peak_agents === 1 ? "" : "s"}` +
    (plan.aht_seconds === null ? "" : ` · measured AHT ${sec(plan.aht_seconds)}`);
  barChart($("chart-staff"), labels, [{ name: "agents", cls: "agents", values: plan.rows.map((r) => r.agents) }]);
}

async function start() {
  let me;
  try {
    me = await api("/api/session");
  } catch (e) {
    return signOut();
  }
  $("user-name").textContent = me.display_name || me.username;
  if (!$("queues").value && me.supervised_queues.length) $("queues").placeholder = me.supervised_queues.join(", ");
  showSignedIn();
  await show();
}

const today = localDay(new Date());
$("from").value = today;
$("to").value = today;
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
$("staffing-form").addEventListener("submit", (ev) => { ev.preventDefault(); staffing(); });
$("csv").addEventListener("click", downloadCsv);
pageSession("reports", "username", start);
