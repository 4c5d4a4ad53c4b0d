// hotline IVR admin page: the menu in use drawn as a tree of nodes (nested lists), its version and the last
// reload error; admins can make the controller read the menu file again.
"use strict";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("hotline.token");

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(path, { ...options, headers });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401) signOut("your session ended: sign in again");
  if (!r.ok) throw new Error(body.message || (body.detail && JSON.stringify(body.detail)) || r.statusText);
  return body;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

// One node's box: its name, kind, what it plays or where it queues.
function box(node) {
  const span = el("span", `node ${node.kind}`);
  span.id = `node-${node.id}`;
  span.dataset.node = node.id;
  span.append(el("span", "kind", node.kind), el("strong", null, node.id));
  if (node.queue) span.append(el("span", "text", `queue ${node.queue}`));
  if (node.text) span.append(el("span", "text", `“${node.text}”`));
  return span;
}

// The tree from ``root``: each node drawn once; a node met again is a link to its drawing.
function draw(graph, root, drawn) {
  const byId = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  const out = new Map();
  for (const e of graph.edges) {
    if (!out.has(e.from)) out.set(e.from, []);
    out.get(e.from).push(e);
  }
  function item(id, label) {
    const li = el("li");
    if (label) li.append(el("span", "edge", `${label} →`));
    if (drawn.has(id)) {
      const a = el("a", "again", id);
      a.href = `#node-${id}`;
      li.append(a);
      return li;
    }
    drawn.add(id);
    li.append(box(byId[id]));
    const edges = (out.get(id) || []).filter((e) => e.label !== "fallback" || e.to !== graph.fallback);
    if (edges.length) {
      const ul = el("ul");
      for (const e of edges) ul.append(item(e.to, e.label));
      li.append(ul);
    }
    return li;
  }
  const ul = el("ul");
  ul.append(item(root, ""));
  return ul;
}

async function load() {
  const graph = await api("/api/ivr/menu");
  $("menu-version").textContent = graph.version;
  $("menu-file").textContent = graph.file;
  $("menu-error").textContent = graph.error ? `The file was not taken: ${graph.error}` : "";
  const drawn = new Set();
  $("tree").replaceChildren(draw(graph, graph.start, drawn));
  $("fallback-tree").replaceChildren(draw(graph, graph.fallback, drawn));
  $("survey-tree").replaceChildren(...(graph.survey ? [draw(graph, graph.survey, drawn)] : []));
}

async function start() {
  let me;
  try {
    me = await api("/api/session");
  } catch (e) {
    return signOut();
  }
  $("user-name").textContent = me.display_name || me.username;
  $("reload").hidden = !(me.roles || []).includes("admin");
  $("login-panel").hidden = true;
  $("who").hidden = false;
  try {
    await load();
    $("menu").hidden = false;
  } catch (e) {
    $("login-error").textContent = e.message;
    $("login-panel").hidden = false;
  }
}

function signOut(message = "") {
  if (token) fetch("/api/session", { method: "DELETE", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  token = null;
  sessionStorage.removeItem("hotline.token");
  $("menu").hidden = true; $("who").hidden = true; $("login-panel").hidden = false;
  $("login-error").textContent = message;
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    const r = await api("/api/session", { method: "POST",
      body: JSON.stringify({ username: $("username").value.trim(), password: $("password").value }) });
    token = r.token;
    sessionStorage.setItem("hotline.token", token);
    await start();
  } catch (e) {
    $("login-error").textContent = e.message;
  }
});
$("reload").addEventListener("click", async () => {
  $("reload-result").textContent = "";
  try {
    const r = await api("/api/ivr/menu/reload", { method: "POST" });
    $("reload-result").textContent = r.error ? "kept the version in use" : r.changed ? "reloaded" : "unchanged";
    await load();
  } catch (e) {
    $("reload-result").textContent = e.message;
  }
});
$("signout").addEventListener("click", () => signOut());
if (token) start();
