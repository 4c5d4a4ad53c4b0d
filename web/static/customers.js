// hotline customers back office: search, page through the list, open a customer's card and grade history.
"use strict";
const PER_PAGE = 20;
let page = 1;

const tierName = (t) => (t ? t.replace("_", " ") : "—");

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
}

async function search() {
  $("list-error").textContent = "";
  const params = new URLSearchParams({ page, per_page: PER_PAGE });
  if ($("q").value.trim()) params.set("q", $("q").value.trim());
  if ($("tier").value) params.set("tier", $("tier").value);
  let result;
  try {
    result = await api(`/api/customers?${params}`);
  } catch (e) {
    $("list-error").textContent = e.message;
    return;
  }
  const rows = result.items.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.id = c.id;
    tr.append(cell(c.id), cell(c.name), cell(c.phone), cell(tierName(c.tier)), cell(c.company), cell(c.city),
      cell(c.agreement));
    tr.addEventListener("click", () => show(c.id));
    return tr;
  });
  $("list").tBodies[0].replaceChildren(...rows);
  const pages = Math.max(1, Math.ceil(result.total / PER_PAGE));
  $("total").textContent = `${result.total} customer${result.total === 1 ? "" : "s"}`;
  $("page-info").textContent = `page ${page} of ${pages}`;
  $("prev").disabled = page <= 1;
  $("next").disabled = page >= pages;
}

async function show(id) {
  let d;
  try {
    d = await api(`/api/customers/${id}`);
  } catch (e) {
    $("list-error").textContent = e.message;
    return;
  }
  document.querySelectorAll("#list tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id == id));
  const c = d.card;
  $("customer").hidden = false;
  $("customer").dataset.id = c.id;
  $("c-name").textContent = c.name;
  $("c-tier").textContent = tierName(c.tier);
  $("c-tier").className = `badge ${c.tier}`;
  $("c-manual").textContent = d.tier_manual ? "(held by hand)" : "";
  $("c-company").textContent = c.company || "";
  $("c-credit").textContent = d.credit;
  $("c-phones").textContent = c.phones.join(", ");
  $("c-language").textContent = c.language || "—";
  $("c-agreement").textContent = c.agreement || "—";
  $("c-home-office").textContent = c.home_office || "—";
  $("c-agent").textContent = c.dedicated_agent || "—";
  $("c-notes").textContent = c.notes || "—";
  const addresses = d.addresses.map((a) => {
    const li = document.createElement("li");
    li.textContent = `${a.label ? a.label + ": " : ""}${a.text}${a.postal_code ? ", " + a.postal_code : ""}` +
      `${a.city ? " " + a.city : ""}`;
    return li;
  });
  $("c-addresses").replaceChildren(...addresses);
  const history = d.grade_history.map((g) => {
    const tr = document.createElement("tr");
    tr.append(cell(new Date(g.at).toLocaleString()), cell(tierName(g.old_tier)), cell(tierName(g.new_tier)),
      cell(g.by), cell(g.reason));
    return tr;
  });
  $("c-history").tBodies[0].replaceChildren(...history);
}

async function start() {
  let me;
  try {
    me = await api("/api/session");
  } catch (e) {
    return signOut();
  }
  $("user-name").textContent = me.display_name || me.username;
  showSignedIn();
  await search();
}

$("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); page = 1; search(); });
$("prev").addEventListener("click", () => { page -= 1; search(); });
$("next").addEventListener("click", () => { page += 1; search(); });
pageSession("book", "username", start);
