// The administration page: users, knowledge articles, outage notices, the business
// calendar and the audit log (admin/api.py; articles and notices through their own APIs,
// knowledge/api.py and customers/api.py), and a customer's personal data exported or erased
// (privacy/api.py, found with the customer search of desk/routes/customers_api.py). Plain ES modules, no build step; everything the
// server sends is inserted as text (textContent), never as HTML. Admins only: another
// account is turned away. A sign-in that must change its password does that first.
import { Session } from "/desk/api.js";
import { applyWords, label, t } from "./admin-i18n.js";
import { changePasswordFirst } from "./password-change.js";

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};
const TABS = ["users", "knowledge", "notices", "calendar", "audit", "privacy"];
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const AUDIT_PAGE = 50;

const ad = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  tab: "users", options: null, users: [], articles: [], notices: [], calendar: null,
  editing: null, kbEditing: null, noticeEditing: null, audit: null, auditOffset: 0,
  customers: [], erasing: null, exported: null, erasure: null,
};
window.hotlineAdmin = ad;  // tests read the last answers from here
const w = (key, vars) => t(ad.lang, key, vars);
const session = new Session(() => showSignIn(w("expired")));

function say(key, vars) { $("status").className = "ok"; $("status").textContent = w(key, vars); }
function fail(err, where = "status") { $(where).className = "error"; $(where).textContent = err.message; }

function button(key, onClick, vars) {
  const b = el("button", w(key, vars));
  b.type = "button";
  b.dataset.key = key;
  b.addEventListener("click", onClick);
  return b;
}

// -- sign-in ----------------------------------------------------------------------------

function showSignIn(message = "") {
  $("board").hidden = $("logout").hidden = $("me").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("username").focus();
}

async function showBoard() {
  const user = session.user;
  if (!user || user.role !== "admin") {
    if (user) await session.logout().catch(() => {});
    showSignIn(w("not_admin"));
    return;
  }
  $("signin").hidden = true;
  $("board").hidden = $("logout").hidden = $("me").hidden = false;
  $("me").textContent = user.display_name;
  ad.options = await session.call("GET", "/api/admin/options");
  fillSelects();
  await openTab(ad.tab);
}

async function signIn(event) {
  event.preventDefault();
  $("signin-error").textContent = "";
  const typed = $("password").value;
  try {
    await session.login($("username").value.trim(), typed);
    $("password").value = "";
    if (session.data.must_change_password) {
      await changePasswordFirst({ session, host: $("signin"), lang: ad.lang, old: typed });
    }
    await showBoard();
  } catch (err) {
    $("signin-error").textContent = err.message;
  }
}

// -- tabs (arrow keys move between them, as the ARIA tabs pattern) ------------------------

async function openTab(name) {
  ad.tab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const on = tab === name;
    button.setAttribute("aria-selected", String(on));
    button.tabIndex = on ? 0 : -1;
    $(`panel-${tab}`).hidden = !on;
  }
  try {
    if (name === "users") await loadUsers();
    if (name === "knowledge") await loadArticles();
    if (name === "notices") await loadNotices();
    if (name === "calendar") await loadCalendar();
    if (name === "audit") await loadAudit();
    if (name === "privacy") renderCustomers();
  } catch (err) {
    fail(err);
  }
}

function onTabKey(event) {
  const i = TABS.indexOf(event.currentTarget.id.slice("tab-".length));
  const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -i, End: TABS.length - 1 - i };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = TABS[(i + moves[event.key] + TABS.length) % TABS.length];
  openTab(next).then(() => $(`tab-${next}`).focus());
}

function fillSelects() {
  const o = ad.options;
  const roles = $("u-role");
  roles.replaceChildren(...o.roles.map((r) => Object.assign(el("option", w(`role_${r}`)), { value: r })));
  const depts = $("u-dept");
  depts.replaceChildren(Object.assign(el("option", w("none")), { value: "" }),
    ...o.departments.map((d) => Object.assign(el("option", label(ad.lang, d.label, d.name)), { value: d.name })));
  const cats = $("kb-category");
  cats.replaceChildren(...o.knowledge_categories.map((c) =>
    Object.assign(el("option", label(ad.lang, c.label, c.name)), { value: c.name })));
  const skills = $("u-skills");
  skills.replaceChildren();
  for (const s of o.skills) {
    const input = Object.assign(el("input"), { id: `u-skill-${s.name}`, type: "number", min: 0, max: 10, value: 0 });
    input.dataset.skill = s.name;
    skills.append(Object.assign(el("label", label(ad.lang, s.label, s.name)), { htmlFor: input.id }), input);
  }
}

// -- users ------------------------------------------------------------------------------

const skillLabel = (name) => {
  const s = ad.options.skills.find((k) => k.name === name);
  return s ? label(ad.lang, s.label, name) : name;
};
const deptLabel = (name) => {
  const d = ad.options.departments.find((k) => k.name === name);
  return d ? label(ad.lang, d.label, name) : name || "";
};

async function loadUsers() {
  ad.users = await session.call("GET", "/api/admin/users");
  renderUsers();
}

function renderUsers() {
  const rows = ad.users.map((u) => {
    const tr = el("tr");
    tr.dataset.username = u.username;
    if (!u.active) tr.className = "inactive";
    const skills = Object.entries(u.skills).map(([k, v]) => `${skillLabel(k)} ${v}`).join(ad.lang === "zh" ? "，" : ", ");
    const state = u.active ? (u.must_change_password ? w("must_change") : w("active")) : w("inactive");
    tr.append(el("td", u.username), el("td", u.display_name), el("td", w(`role_${u.role}`)),
      el("td", u.extension || ""), el("td", deptLabel(u.department)), el("td", skills), el("td", state));
    const actions = el("td", null, "actions");
    actions.append(button("edit", () => editUser(u)));
    const me = session.user && session.user.id === u.id;  // the API refuses it too
    if (u.active && !me) actions.append(button("disable", () => setActive(u, false)));
    else if (!u.active) actions.append(button("enable", () => setActive(u, true)));
    actions.append(button("reset_password", () => resetPassword(u)));
    tr.append(actions);
    return tr;
  });
  $("users").replaceChildren(...rows);
}

function editUser(u) {
  ad.editing = u;
  $("temp-password").hidden = true;
  $("user-form").hidden = false;
  $("user-error").textContent = "";
  $("user-form-title").textContent = u ? w("edit_user", { name: u.display_name }) : w("new_user");
  $("u-username").value = u ? u.username : "";
  $("u-username").disabled = Boolean(u);
  $("u-name").value = u ? u.display_name : "";
  $("u-role").value = u ? u.role : "agent";
  $("u-ext").value = u ? u.extension || "" : "";
  $("u-dept").value = u ? u.department || "" : "";
  const langs = u ? u.languages : ["zh"];
  $("u-lang-zh").checked = langs.includes("zh");
  $("u-lang-en").checked = langs.includes("en");
  $("u-password").value = "";
  $("u-password").hidden = $("u-password-label").hidden = Boolean(u);
  for (const input of $("u-skills").querySelectorAll("input")) {
    input.value = (u && u.skills[input.dataset.skill]) || 0;
  }
  (u ? $("u-name") : $("u-username")).focus();
}

async function saveUser(event) {
  event.preventDefault();
  const skills = {};
  for (const input of $("u-skills").querySelectorAll("input")) {
    const level = Number(input.value);
    if (level > 0) skills[input.dataset.skill] = level;
  }
  const body = {
    display_name: $("u-name").value.trim(),
    role: $("u-role").value,
    extension: $("u-ext").value.trim() || null,
    department: $("u-dept").value || null,
    languages: ["zh", "en"].filter((l) => $(`u-lang-${l}`).checked),
    skills,
  };
  try {
    if (ad.editing) {
      const saved = await session.call("PATCH", `/api/admin/users/${ad.editing.id}`, body);
      say("done_saved", { name: saved.display_name });
    } else {
      body.username = $("u-username").value.trim();
      body.password = $("u-password").value || null;
      const made = await session.call("POST", "/api/admin/users", body);
      say("done_created", { name: made.user.display_name });
      showTemporary(made.temporary_password);
    }
    $("user-form").hidden = true;
    await loadUsers();
  } catch (err) {
    fail(err, "user-error");
  }
}

function showTemporary(password) {
  const box = $("temp-password");
  box.hidden = !password;
  box.textContent = password ? w("temp_shown", { pw: password }) : "";
}

async function setActive(u, active) {
  if (!active && !window.confirm(w("confirm_disable", { name: u.display_name }))) return;
  try {
    await session.call("POST", `/api/admin/users/${u.id}/${active ? "enable" : "disable"}`);
    say(active ? "done_enabled" : "done_disabled", { name: u.display_name });
  } catch (err) {
    fail(err);
  }
  await loadUsers();
}

async function resetPassword(u) {
  try {
    const out = await session.call("POST", `/api/admin/users/${u.id}/password-reset`, {});
    say("done_reset", { name: u.display_name });
    showTemporary(out.temporary_password);
  } catch (err) {
    fail(err);
  }
  await loadUsers();
}

// -- knowledge --------------------------------------------------------------------------

async function loadArticles() {
  ad.articles = await session.call("GET", "/api/admin/knowledge");
  const cat = (name) => {
    const c = ad.options.knowledge_categories.find((k) => k.name === name);
    return c ? label(ad.lang, c.label, name) : name;
  };
  $("articles").replaceChildren(...ad.articles.map((a) => {
    const tr = el("tr");
    tr.dataset.articleId = a.id;
    if (!a.active) tr.className = "inactive";
    const actions = el("td", null, "actions");
    actions.append(button("edit", () => editArticle(a)));
    tr.append(el("td", a.title), el("td", cat(a.category)), el("td", w(`lang_${a.language}`)),
      el("td", a.active ? w("active") : w("inactive")), actions);
    return tr;
  }));
}

function editArticle(a) {
  ad.kbEditing = a;
  $("kb-form").hidden = false;
  $("kb-error").textContent = "";
  $("kb-title").value = a ? a.title : "";
  if (a) $("kb-category").value = a.category;
  $("kb-language").value = a ? a.language : ad.lang;
  $("kb-language").disabled = Boolean(a);
  $("kb-tags").value = a ? a.tags.join(", ") : "";
  $("kb-slug").value = a ? a.slug || "" : "";
  $("kb-slug").disabled = Boolean(a);
  $("kb-active").checked = a ? a.active : true;
  $("kb-body").value = a ? a.body : "";
  $("kb-title").focus();
}

async function saveArticle(event) {
  event.preventDefault();
  const body = {
    title: $("kb-title").value.trim(),
    category: $("kb-category").value,
    tags: $("kb-tags").value.split(/[,，]/).map((s) => s.trim()).filter(Boolean),
    body: $("kb-body").value,
  };
  try {
    let saved;
    if (ad.kbEditing) {
      body.active = $("kb-active").checked;
      saved = await session.call("PATCH", `/api/knowledge/articles/${ad.kbEditing.id}`, body);
    } else {
      body.language = $("kb-language").value;
      body.slug = $("kb-slug").value.trim() || null;
      saved = await session.call("POST", "/api/knowledge/articles", body);
    }
    say("done_article", { title: saved.title });
    $("kb-form").hidden = true;
    await loadArticles();
  } catch (err) {
    fail(err, "kb-error");
  }
}

// -- notices ----------------------------------------------------------------------------

const localInput = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const isoOf = (local) => (local ? new Date(local).toISOString() : null);
const shown = (iso) => (iso ? new Date(iso).toLocaleString(ad.lang === "zh" ? "zh-CN" : "en-GB") : "");

async function loadNotices() {
  ad.notices = await session.call("GET", "/api/notices/manage?include_past=true");
  $("notices").replaceChildren(...ad.notices.map((n) => {
    const tr = el("tr");
    tr.dataset.noticeId = n.id;
    const title = ad.lang === "en" && n.title_en ? n.title_en : n.title_zh;
    const actions = el("td", null, "actions");
    if (!n.withdrawn_at) {
      actions.append(button("edit", () => editNotice(n)), button("withdraw", () => withdraw(n, title)));
    }
    tr.append(el("td", title), el("td", n.district || w("whole_city")), el("td", w(`kind_${n.kind}`)),
      el("td", `${shown(n.valid_from)} – ${shown(n.valid_to)}`),
      el("td", n.withdrawn_at ? w("withdrawn") : w("active")), actions);
    return tr;
  }));
}

function editNotice(n) {
  ad.noticeEditing = n;
  $("notice-form").hidden = false;
  $("notice-error").textContent = "";
  $("n-title-zh").value = n ? n.title_zh : "";
  $("n-title-en").value = n ? n.title_en : "";
  $("n-body-zh").value = n ? n.body_zh : "";
  $("n-body-en").value = n ? n.body_en : "";
  $("n-district").value = n ? n.district || "" : "";
  $("n-kind").value = n ? n.kind : "outage";
  $("n-from").value = localInput(n ? n.valid_from : new Date().toISOString());
  $("n-to").value = localInput(n ? n.valid_to : null);
  $("n-title-zh").focus();
}

async function saveNotice(event) {
  event.preventDefault();
  const body = {
    title_zh: $("n-title-zh").value.trim(), title_en: $("n-title-en").value.trim(),
    body_zh: $("n-body-zh").value, body_en: $("n-body-en").value,
    district: $("n-district").value.trim() || null, kind: $("n-kind").value,
    valid_from: isoOf($("n-from").value), valid_to: isoOf($("n-to").value),
  };
  try {
    const saved = ad.noticeEditing
      ? await session.call("PATCH", `/api/notices/${ad.noticeEditing.id}`, body)
      : await session.call("POST", "/api/notices", body);
    say("done_notice", { title: saved.title_zh });
    $("notice-form").hidden = true;
    await loadNotices();
  } catch (err) {
    fail(err, "notice-error");
  }
}

async function withdraw(n, title) {
  try {
    await session.call("POST", `/api/notices/${n.id}/withdraw`);
    say("done_withdrawn", { title });
  } catch (err) {
    fail(err);
  }
  await loadNotices();
}

// -- calendar ---------------------------------------------------------------------------

const rangesText = (ranges) => ranges.map(([a, b]) => `${a}-${b}`).join(", ");
function parseRanges(text) {
  return text.split(/[,，;；]/).map((s) => s.trim()).filter(Boolean).map((part) => {
    const [a, b] = part.split(/[-–~]/).map((x) => x.trim());
    return [a, b];
  });
}

async function loadCalendar() {
  const cal = await session.call("GET", "/api/admin/calendar");
  ad.calendar = cal;
  const week = (weekly) => WEEKDAYS.map((d) => `${w(`wd_${d}`)} ${weekly[d].length ? rangesText(weekly[d]) : w("closed")}`).join("；");
  $("cal-config").textContent = week(cal.config.weekly);
  const days = cal.days.map((d) => {
    const tr = el("tr");
    tr.dataset.day = d.day;
    const hours = d.kind === "holiday" ? w("closed") : (d.ranges.length ? rangesText(d.ranges) : w("normal_hours"));
    const actions = el("td", null, "actions");
    actions.append(button("remove", () => removeDay(d.day)));
    tr.append(el("td", d.day), el("td", w(`kind_${d.kind}`)), el("td", hours), el("td", d.note), actions);
    return tr;
  });
  if (!days.length) {
    const tr = el("tr");
    const td = el("td", w("cal_empty"));
    td.colSpan = 5;
    tr.append(td);
    days.push(tr);
  }
  $("cal-days").replaceChildren(...days);
  $("cal-weeks").replaceChildren(...cal.weeks.map((wk) => {
    const p = el("p", `${wk.valid_from}：${week(wk.weekly)} ${wk.note}`);
    p.dataset.validFrom = wk.valid_from;
    p.append(" ", button("remove", () => removeWeek(wk.valid_from)));
    return p;
  }));
}

async function saveDay(event) {
  event.preventDefault();
  $("day-error").textContent = "";
  const day = $("d-day").value;
  const body = { kind: $("d-kind").value, ranges: parseRanges($("d-ranges").value), note: $("d-note").value };
  try {
    await session.call("PUT", `/api/admin/calendar/days/${day}`, body);
    say("done_day", { day });
    await loadCalendar();
  } catch (err) {
    fail(err, "day-error");
  }
}

async function removeDay(day) {
  try {
    await session.call("DELETE", `/api/admin/calendar/days/${day}`);
    say("done_day_removed", { day });
  } catch (err) {
    fail(err);
  }
  await loadCalendar();
}

async function saveWeek(event) {
  event.preventDefault();
  $("week-error").textContent = "";
  const day = $("w-from").value;
  const weekly = {};
  for (const d of WEEKDAYS) weekly[d] = parseRanges($(`w-${d}`).value);
  try {
    await session.call("PUT", `/api/admin/calendar/weeks/${day}`, { weekly, note: $("w-note").value });
    say("done_week", { day });
    await loadCalendar();
  } catch (err) {
    fail(err, "week-error");
  }
}

async function removeWeek(day) {
  try {
    await session.call("DELETE", `/api/admin/calendar/weeks/${day}`);
  } catch (err) {
    fail(err);
  }
  await loadCalendar();
}

async function check(event) {
  event.preventDefault();
  try {
    const at = isoOf($("c-at").value);
    const out = await session.call("GET", `/api/admin/calendar/open?at=${encodeURIComponent(at)}`);
    const when = shown(out.at);
    $("check-result").textContent = out.open
      ? w("is_open", { at: when, ranges: rangesText(out.day_ranges) }) : w("is_closed", { at: when });
    $("check-result").dataset.open = String(out.open);
  } catch (err) {
    fail(err, "check-result");
  }
}

// -- audit ------------------------------------------------------------------------------

function auditQuery() {
  const q = new URLSearchParams();
  const put = (key, value) => { if (value) q.set(key, value); };
  put("actor", $("a-actor").value.trim());
  put("action", $("a-action").value.trim());
  put("object_type", $("a-type").value.trim());
  put("object_id", $("a-id").value.trim());
  put("since", isoOf($("a-since").value));
  put("until", isoOf($("a-until").value));
  return q;
}

async function loadAudit() {
  const q = auditQuery();
  q.set("offset", ad.auditOffset);
  q.set("limit", AUDIT_PAGE);
  $("audit-error").textContent = "";
  try {
    ad.audit = await session.call("GET", `/api/admin/audit?${q}`);
  } catch (err) {
    fail(err, "audit-error");
    return;
  }
  const page = ad.audit;
  const rows = page.entries.map((e) => {
    const tr = el("tr");
    tr.append(el("td", shown(e.at)), el("td", e.actor_role ? `${e.actor_name} (${e.actor_role})` : e.actor_name),
      el("td", e.action), el("td", `${e.object_type} ${e.object_id}`), el("td", e.source || ""),
      el("td", Object.keys(e.detail).length ? JSON.stringify(e.detail) : "", "detail"));
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", w("audit_empty"));
    td.colSpan = 6;
    tr.append(td);
    rows.push(tr);
  }
  $("audit-rows").replaceChildren(...rows);
  const to = page.offset + page.entries.length;
  $("audit-page").textContent = w("page_of", { from: page.entries.length ? page.offset + 1 : 0, to, total: page.total });
  $("audit-prev").disabled = page.offset === 0;
  $("audit-next").disabled = to >= page.total;
}

async function exportCsv() {
  try {
    const r = await fetch(`/api/admin/audit.csv?${auditQuery()}`, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || `HTTP ${r.status}`);
    const blob = await r.blob();
    const name = (r.headers.get("content-disposition") || "").match(/filename="([^"]+)"/)?.[1] || "audit.csv";
    const link = Object.assign(el("a"), { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (err) {
    fail(err, "audit-error");
  }
}

// -- privacy: a customer's data exported (a JSON file) or erased (irreversible) ------------

async function searchCustomers(event) {
  event.preventDefault();
  $("pv-error").textContent = "";
  const q = $("pv-q").value.trim();
  if (!q) { $("pv-error").textContent = w("pv_q"); $("pv-q").focus(); return; }
  try {
    ad.customers = await session.call("GET", `/api/customers?${new URLSearchParams({ q, limit: 20 })}`);
  } catch (err) {
    fail(err, "pv-error");
    return;
  }
  renderCustomers();
}

function renderCustomers() {
  const rows = ad.customers.map((c) => {
    const tr = el("tr");
    tr.dataset.customerId = c.id;
    tr.append(el("td", c.account_number), el("td", c.name), el("td", c.district), el("td", c.address));
    const actions = el("td", null, "actions");
    actions.append(button("pv_export", () => exportCustomer(c)), button("pv_erase", () => askErase(c)));
    tr.append(actions);
    return tr;
  });
  if (!rows.length && $("pv-q").value.trim()) {
    const tr = el("tr");
    const td = el("td", w("pv_empty"));
    td.colSpan = 5;
    tr.append(td);
    rows.push(tr);
  }
  $("pv-rows").replaceChildren(...rows);
}

async function exportCustomer(c) {
  $("pv-error").textContent = "";
  try {
    const r = await fetch(`/api/privacy/customers/${c.id}/export`, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || `HTTP ${r.status}`);
    const blob = await r.blob();
    const name = (r.headers.get("content-disposition") || "").match(/filename="([^"]+)"/)?.[1] || `customer-${c.id}.json`;
    const link = Object.assign(el("a"), { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    ad.exported = name;
    showResult(w("pv_exported", { name: c.name, file: name }));
  } catch (err) {
    fail(err, "pv-error");
  }
}

function showResult(text) {
  $("pv-result").hidden = false;
  $("pv-result").textContent = text;
}

function askErase(c) {
  ad.erasing = c;
  $("erase-form").hidden = false;
  $("erase-error").textContent = "";
  $("erase-title").textContent = w("erase_title", { name: c.name, account: c.account_number });
  $("erase-reason").value = "";
  $("erase-confirm").checked = false;
  $("erase-reason").focus();
}

async function erase(event) {
  event.preventDefault();
  const c = ad.erasing;
  const reason = $("erase-reason").value.trim();
  $("erase-error").textContent = "";
  if (!c) return;
  if (!reason) { $("erase-error").textContent = w("erase_need_reason"); $("erase-reason").focus(); return; }
  if (!$("erase-confirm").checked) {
    $("erase-error").textContent = w("erase_need_confirm");
    $("erase-confirm").focus();
    return;
  }
  try {
    const out = await session.call("POST", `/api/privacy/customers/${c.id}/erase`, { reason });
    ad.erasure = out;
    const vars = {
      id: out.customer_id, at: shown(out.erased_at), phones: out.phones_removed, calls: out.calls_masked,
      tickets: out.tickets_masked, callbacks: out.callbacks_masked, follow_ups: out.follow_ups_masked,
    };
    showResult(w(out.already_erased ? "erase_already" : "erase_done", vars));
    $("erase-form").hidden = true;
    ad.erasing = null;
    if ($("pv-q").value.trim()) await searchCustomers(new Event("submit"));
  } catch (err) {
    fail(err, "erase-error");
  }
}

// -- start ------------------------------------------------------------------------------

function setLang(lang) {
  ad.lang = lang;
  localStorage.setItem("hotline.lang", lang);
  applyWords(lang);
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  if (ad.options && session.token && !$("board").hidden) {
    fillSelects();
    openTab(ad.tab);
  }
}

function main() {
  setLang(ad.lang);
  $("lang").addEventListener("click", () => setLang(ad.lang === "zh" ? "en" : "zh"));
  $("signin-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", async () => {
    await session.logout().catch(() => {});
    showSignIn();
  });
  for (const tab of TABS) {
    $(`tab-${tab}`).addEventListener("click", () => openTab(tab));
    $(`tab-${tab}`).addEventListener("keydown", onTabKey);
  }
  $("user-new").addEventListener("click", () => editUser(null));
  $("user-cancel").addEventListener("click", () => { $("user-form").hidden = true; });
  $("user-form").addEventListener("submit", saveUser);
  $("kb-new").addEventListener("click", () => editArticle(null));
  $("kb-cancel").addEventListener("click", () => { $("kb-form").hidden = true; });
  $("kb-form").addEventListener("submit", saveArticle);
  $("notice-new").addEventListener("click", () => editNotice(null));
  $("notice-cancel").addEventListener("click", () => { $("notice-form").hidden = true; });
  $("notice-form").addEventListener("submit", saveNotice);
  $("day-form").addEventListener("submit", saveDay);
  $("week-form").addEventListener("submit", saveWeek);
  $("check-form").addEventListener("submit", check);
  $("audit-form").addEventListener("submit", (event) => { event.preventDefault(); ad.auditOffset = 0; loadAudit(); });
  $("audit-prev").addEventListener("click", () => { ad.auditOffset = Math.max(0, ad.auditOffset - AUDIT_PAGE); loadAudit(); });
  $("audit-next").addEventListener("click", () => { ad.auditOffset += AUDIT_PAGE; loadAudit(); });
  $("audit-csv").addEventListener("click", exportCsv);
  $("pv-form").addEventListener("submit", searchCustomers);
  $("erase-form").addEventListener("submit", erase);
  $("erase-cancel").addEventListener("click", () => { $("erase-form").hidden = true; ad.erasing = null; });
  if (session.token && !(session.data && session.data.must_change_password)) {
    showBoard().catch(() => showSignIn());
  } else {
    showSignIn();
  }
}

main();
