// The campaigns page (supervisors, admins): the list, a new campaign (script per kind,
// contacts from a customer filter with a count preview, or a CSV file), start, pause,
// resume, stop, live progress (GET every 2 s while a campaign is open), contacts with
// their outcomes, results export (CSV with the token, saved as a file), the do-not-call
// list. Plain ES module, no build step; what the server sends is inserted as text.
import { Session } from "/desk/api.js";
import { applyWords, t } from "./i18n.js";

const MANAGERS = new Set(["supervisor", "admin"]);
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};

const page = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  campaigns: [], current: null, contacts: [], dnc: [], said: null, timer: null,
};
window.hotlineCampaigns = page;  // tests read the page's state from here
const w = (key, vars) => t(page.lang, key, vars);
const session = new Session(() => showSignIn(w("expired")));
const say = (key, vars) => { page.said = { key, vars }; $("status").className = "hint ok"; $("status").textContent = w(key, vars); };
const fail = (err) => { page.said = null; $("status").className = "hint error"; $("status").textContent = err.message; };
const when = (iso) => (iso ? new Date(iso).toLocaleString(page.lang === "zh" ? "zh-CN" : "en-GB") : "");
const pct = (r) => (r === null || r === undefined ? w("none") : `${Math.round(r * 1000) / 10}%`);

// -- sign-in ----------------------------------------------------------------------------

function showSignIn(message = "") {
  stopPolling();
  for (const id of ["app", "logout", "me"]) $(id).hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("username").focus();
}

async function showPage() {
  const user = session.user;
  if (!user || !MANAGERS.has(user.role)) {
    if (user) session.logout().catch(() => {});
    showSignIn(w("not_allowed"));
    return;
  }
  $("signin").hidden = true;
  $("app").hidden = $("logout").hidden = $("me").hidden = false;
  $("me").textContent = user.display_name;
  await loadList().catch(fail);
  render();
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await session.login($("username").value.trim(), $("password").value);
    $("password").value = "";
    await showPage();
  } catch (err) {
    $("signin-error").textContent = err.message;
  }
});
$("logout").addEventListener("click", async () => {
  await session.logout().catch(() => {});
  showSignIn();
});
$("lang").addEventListener("click", () => setLang(page.lang === "zh" ? "en" : "zh"));

function setLang(lang) {
  page.lang = lang;
  localStorage.setItem("hotline.lang", lang);
  applyWords(lang);
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  render();
}

// -- tabs -------------------------------------------------------------------------------

const TABS = ["campaigns", "dnc", "report"];
function tab(name) {
  for (const t of TABS) {
    $(`tab-${t}`).setAttribute("aria-pressed", String(name === t));
    $(`${t}-view`).hidden = name !== t;
  }
  if (name === "dnc") loadDnc().then(render, fail);
  if (name === "report") loadReport().then(render, fail);
}
for (const t of TABS) $(`tab-${t}`).addEventListener("click", () => tab(t));

// -- the report by interval ---------------------------------------------------------------

const isoDay = (d) => d.toISOString().slice(0, 10);
$("rp-last").value = isoDay(new Date());
$("rp-first").value = isoDay(new Date(Date.now() - 29 * 86400_000));
function reportQuery() {
  return new URLSearchParams({ first: $("rp-first").value, last: $("rp-last").value, interval: $("rp-interval").value });
}
async function loadReport() {
  page.report = (await session.call("GET", `/api/campaigns/report?${reportQuery()}`)).rows;
}
$("report-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadReport().then(render, fail);
});
$("rp-export").addEventListener("click", () => download(`/api/campaigns/report?${reportQuery()}&format=csv`,
  `campaigns-${$("rp-first").value}-${$("rp-last").value}-${$("rp-interval").value}.csv`).catch(fail));

async function download(path, file) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || `HTTP ${r.status}`);
  const blob = await r.blob();
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = file;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  say("exported", { file });
}

function renderReport() {
  const body = $("report");
  body.replaceChildren();
  for (const r of page.report || []) {
    const tr = el("tr");
    tr.append(el("td", r.start), el("td", r.campaign), el("td", r.attempts), el("td", r.answered),
      el("td", r.confirmed), el("td", pct(r.answer_rate)));
    body.append(tr);
  }
  if (page.report && !page.report.length) {
    const tr = el("tr");
    const td = el("td", w("rp_empty"));
    td.colSpan = 6;
    tr.append(td);
    body.append(tr);
  }
}

// -- data -------------------------------------------------------------------------------

async function loadList() {
  page.campaigns = await session.call("GET", "/api/campaigns");
}

// The counts are read every 2 s; the contacts (full numbers, each read audited) only
// when the counts moved.
const signature = (c) => JSON.stringify([c.state, c.progress.states, c.progress.outcomes,
  c.progress.attempts, c.progress.confirmed, c.progress.opted_out]);

async function loadCurrent(force = false) {
  if (!page.current) return;
  const id = page.current.id;
  const campaign = await session.call("GET", `/api/campaigns/${id}`);
  const moved = force || page.signature !== signature(campaign) || page.contactsOf !== id;
  const contacts = moved ? await session.call("GET", `/api/campaigns/${id}/contacts?limit=500`) : page.contacts;
  if (!page.current || page.current.id !== id) return;
  page.current = campaign;
  page.contacts = contacts;
  page.signature = signature(campaign);
  page.contactsOf = id;
}

async function loadDnc() {
  const lifted = $("dnc-lifted").checked ? "true" : "false";
  page.dnc = await session.call("GET", `/api/do-not-call?include_lifted=${lifted}`);
}

function startPolling() {
  stopPolling();
  page.timer = setInterval(async () => {
    if (!session.token || !page.current) return;
    try { await loadCurrent(); renderDetail(); } catch (err) { fail(err); }
  }, POLL_MS);
}
function stopPolling() { if (page.timer) clearInterval(page.timer); page.timer = null; }

async function open(id) {
  page.current = { id };
  $("editor").hidden = true;
  try {
    await loadCurrent(true);
  } catch (err) { fail(err); return; }
  render();
  startPolling();
  $("detail-title").focus?.();
}

// -- the editor -------------------------------------------------------------------------

const KINDS = ["message", "survey", "appointment", "agent"];
function showKind() {
  const kind = $("c-kind").value;
  for (const k of KINDS) $(`script-${k}`).hidden = k !== kind;
  $("agent-fields").hidden = kind !== "agent";
}
$("c-kind").addEventListener("change", showKind);
for (const radio of document.querySelectorAll('input[name="source"]')) {
  radio.addEventListener("change", () => {
    const csv = $("src-csv").checked;
    $("filter-fields").hidden = csv;
    $("csv-fields").hidden = !csv;
  });
}
function editorMode(editing) {
  page.editing = editing;
  $("c-kind").disabled = editing;
  $("editor-title").textContent = w(editing ? "edit_title" : "new_title");
  $("editor-title").dataset.i18n = editing ? "edit_title" : "new_title";
  $("submit").textContent = w(editing ? "save" : "create");
  $("submit").dataset.i18n = editing ? "save" : "create";
}

function fillEditor(c) {
  const s = c.script || {};
  $("c-name").value = c.name;
  $("c-kind").value = c.kind;
  $("c-dial-mode").value = c.dial_mode || "preview";
  $("c-skill").value = c.skill || "";
  $("c-caller-id").value = c.caller_id || "";
  $("s-text").value = s.text || "";
  $("s-intro").value = c.kind === "survey" ? s.intro || "" : "";
  $("s-questions").value = (s.questions || []).map((q) => `${q.key}|${q.text}|${q.min}|${q.max}`).join("\n");
  $("s-thanks").value = s.thanks || "";
  $("a-intro").value = c.kind === "appointment" ? s.intro || "" : "";
  $("a-slots").value = (s.slots || []).map((x) => `${x.key}|${x.label}|${x.date}|${x.period || ""}`).join("\n");
  $("a-category").value = s.category || "";
  $("g-notes").value = s.notes || "";
  $("r-attempts").value = (c.rules && c.rules.max_attempts) || "";
  $("r-sms").checked = !!c.sms_fallback;
  $("r-sms-text").value = c.sms_text || "";
  for (const id of ["f-district", "f-arrears", "f-category"]) $(id).value = "";
  $("f-tier").value = "";
  $("f-csv").value = "";
}

$("edit").addEventListener("click", () => {
  const c = page.current;
  if (!c) return;
  stopPolling();
  fillEditor(c);
  page.draftId = c.id;
  editorMode(true);
  $("detail").hidden = true;
  $("editor").hidden = false;
  $("create-error").textContent = "";
  $("csv-report").hidden = true;
  showKind();
  $("c-name").focus();
});

$("new").addEventListener("click", () => {
  stopPolling();
  page.current = null;
  page.draftId = null;
  editorMode(false);
  $("detail").hidden = true;
  $("editor").hidden = false;
  $("create-error").textContent = "";
  $("csv-report").hidden = true;
  showKind();
  $("c-name").focus();
});
$("cancel").addEventListener("click", async () => {
  $("editor").hidden = true;
  $("preview-result").textContent = "";
  if (page.editing) await open(page.draftId);
  page.draftId = null;
});
$("refresh").addEventListener("click", () => loadList().then(render, fail));

function lines(text) {
  return text.split(/\n/).map((l) => l.trim()).filter(Boolean);
}

function script(kind) {
  if (kind === "message") return { text: $("s-text").value.trim() };
  if (kind === "survey") {
    const questions = lines($("s-questions").value).map((line, i) => {
      const [key, text, min, max] = line.split("|").map((s) => s.trim());
      if (!key || !text) throw new Error(w("bad_line", { n: i + 1, line }));
      return { key, text, min: Number(min || 1), max: Number(max || 5) };
    });
    return { intro: $("s-intro").value.trim(), questions, thanks: $("s-thanks").value.trim() };
  }
  if (kind === "appointment") {
    const slots = lines($("a-slots").value).map((line, i) => {
      const [key, label, date, period] = line.split("|").map((s) => s.trim());
      if (!key || !label || !date) throw new Error(w("bad_line", { n: i + 1, line }));
      return { key, label, date, period: period || "" };
    });
    return { intro: $("a-intro").value.trim(), slots, category: $("a-category").value.trim() };
  }
  return { notes: $("g-notes").value.trim() };
}

function filter() {
  const f = {};
  if ($("f-district").value.trim()) f.district = $("f-district").value.trim();
  if ($("f-tier").value) f.tier = $("f-tier").value;
  if ($("f-arrears").value !== "") f.arrears_above = $("f-arrears").value;
  if ($("f-category").value.trim()) f.ticket_category = $("f-category").value.trim();
  return f;
}

$("preview").addEventListener("click", async () => {
  // Editing: counted against the numbers already in the campaign; new: the filter alone.
  try {
    const path = page.editing ? `/api/campaigns/${page.draftId}/contacts/preview` : "/api/campaigns/preview";
    const p = await session.call("POST", path, { filter: filter() });
    page.preview = p;
    $("preview-result").textContent = w("preview_result", p);
  } catch (err) {
    $("create-error").textContent = err.message;
  }
});

function campaignBody() {
  const kind = $("c-kind").value;
  const body = { name: $("c-name").value.trim(), kind, script: script(kind), rules: {} };
  if (kind === "agent") body.dial_mode = $("c-dial-mode").value;
  if ($("c-skill").value.trim()) body.skill = $("c-skill").value.trim();
  if ($("c-caller-id").value.trim()) body.caller_id = $("c-caller-id").value.trim();
  if ($("r-attempts").value) body.rules.max_attempts = Number($("r-attempts").value);
  body.sms_fallback = $("r-sms").checked;
  if ($("r-sms-text").value.trim()) body.sms_text = $("r-sms-text").value.trim();
  return body;
}

async function draft() {
  const body = campaignBody();
  if (page.draftId) {
    const { kind, ...change } = body;
    await session.call("PATCH", `/api/campaigns/${page.draftId}`, change);
    return page.draftId;
  }
  const created = await session.call("POST", "/api/campaigns", body);
  page.draftId = created.id;
  return created.id;
}

async function uploadCsv(id, file) {
  const r = await fetch(`/api/campaigns/${id}/contacts/csv`, {
    method: "POST",
    headers: { Authorization: `Bearer ${session.token}`, "Content-Type": "text/csv", Accept: "application/json" },
    body: file,
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new Error((data && data.message) || `HTTP ${r.status}`);
  return data;
}

$("create-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("create-error").textContent = "";
  try {
    const csv = $("src-csv").checked;
    const file = $("f-csv").files[0];
    if (csv && !file) throw new Error(w("need_file"));
    const id = await draft();
    const name = $("c-name").value.trim();
    let added;
    if (page.editing && !csv && !Object.keys(filter()).length) {
      // Editing without a new list: only the campaign's fields change.
      say("saved", { name });
      page.draftId = null;
      $("editor").hidden = true;
      await loadList();
      await open(id);
      return;
    }
    if (csv) {
      added = await uploadCsv(id, file);
      $("csv-report").hidden = false;
      $("csv-summary").textContent = w("csv_summary", {
        rows: added.rows, added: added.added, failed: added.failed, dup: added.duplicates, dnc: added.do_not_call,
      });
      $("csv-errors").replaceChildren(...added.errors.map((e) => el("li", w("csv_error", e))));
    } else {
      added = await session.call("POST", `/api/campaigns/${id}/contacts/filter`, { filter: filter() });
    }
    say(page.editing ? "saved_added" : "created", { name, added: added.added, dnc: added.do_not_call, dup: added.duplicates });
    page.draftId = null;
    $("preview-result").textContent = "";
    await loadList();
    if (!csv) $("editor").hidden = true;
    await open(id);
  } catch (err) {
    $("create-error").textContent = err.message;
  }
});

// -- actions ----------------------------------------------------------------------------

const DONE = { start: "started", pause: "paused", resume: "resumed", stop: "stopped" };
for (const action of Object.keys(DONE)) {
  $(action).addEventListener("click", async () => {
    if (!page.current) return;
    if (action === "stop" && !window.confirm(w("confirm_stop"))) return;
    try {
      page.current = await session.call("POST", `/api/campaigns/${page.current.id}/${action}`);
      say(DONE[action]);
      await loadCurrent();
      await loadList();
      render();
    } catch (err) { fail(err); }
  });
}

$("export").addEventListener("click", async () => {
  if (!page.current) return;
  const id = page.current.id;
  await download(`/api/campaigns/${id}/results.csv`, `campaign-${id}.csv`).catch(fail);
});

$("dnc-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const entry = await session.call("POST", "/api/do-not-call", {
      number: $("dnc-number").value.trim(), note: $("dnc-note").value.trim() || null,
    });
    $("dnc-number").value = $("dnc-note").value = "";
    say("dnc_added", { number: entry.number });
    await loadDnc();
    render();
  } catch (err) { fail(err); }
});
$("dnc-lifted").addEventListener("change", () => loadDnc().then(render, fail));

// -- rendering --------------------------------------------------------------------------

function renderList() {
  const body = $("list");
  body.replaceChildren();
  for (const c of page.campaigns) {
    const tr = el("tr");
    tr.dataset.campaignId = c.id;
    if (page.current && page.current.id === c.id) tr.className = "selected";
    const actions = el("td", null, "actions");
    const b = el("button", w("open"));
    b.type = "button";
    b.setAttribute("aria-label", `${w("open")} ${c.name}`);
    b.addEventListener("click", () => open(c.id));
    actions.append(b);
    tr.append(el("td", c.name), el("td", w(`k_${c.kind}`)), el("td", w(`st_${c.state}`)), el("td", c.contacts), actions);
    body.append(tr);
  }
  $("list-empty").hidden = page.campaigns.length > 0;
}

function number(name, value) {
  const box = el("div", null, "n");
  box.dataset.count = name;
  box.append(el("div", w(`n_${name}`)), el("div", value, "value"));
  return box;
}

function renderDetail() {
  const c = page.current;
  $("detail").hidden = !c || !c.name;
  if (!c || !c.name) return;
  const p = c.progress;
  $("detail-title").textContent = c.name;
  $("detail-state").textContent = w(`st_${c.state}`);
  $("detail-state").dataset.state = c.state;
  $("start").hidden = c.state !== "draft";
  $("pause").hidden = c.state !== "running";
  $("resume").hidden = c.state !== "paused";
  $("stop").hidden = !["running", "paused"].includes(c.state);
  $("edit").hidden = !["draft", "paused"].includes(c.state);
  const pending = (p.states.pending || 0) + (p.states.dialing || 0);
  $("progress").replaceChildren(
    number("contacts", p.contacts), number("pending", pending), number("reached", p.reached),
    number("reach_rate", pct(p.reach_rate)), number("confirmed", p.confirmed),
    number("confirmation_rate", pct(p.confirmation_rate)), number("opted_out", p.opted_out),
    number("attempts", p.attempts),
  );
  const bars = $("bars");
  bars.replaceChildren();
  for (const [state, n] of Object.entries(p.states)) {
    const s = el("span", null, state);
    s.style.width = `${p.contacts ? (100 * n) / p.contacts : 0}%`;
    s.title = `${w(`cs_${state}`)} ${n}`;
    bars.append(s);
  }
  $("outcomes").textContent = Object.entries(p.attempts_by_outcome)
    .map(([o, n]) => `${w(`o_${o}`)} ${n}`).join(" · ") || w("none");
  $("survey-results").replaceChildren(...(p.survey || []).map((q) =>
    el("p", w("survey_avg", { text: q.text, avg: q.average ?? w("none"), n: q.count }))));
  const body = $("contacts");
  body.replaceChildren();
  for (const x of page.contacts) {
    const tr = el("tr");
    tr.dataset.contactId = x.id;
    tr.dataset.state = x.state;
    const call = el("td");
    if (x.call_url) {
      const b = el("button", x.call_linkedid);
      b.type = "button";
      b.setAttribute("aria-label", w("call_of", { id: x.call_linkedid }));
      b.addEventListener("click", () => showCall(x.call_url));
      call.append(b);
    }
    tr.append(
      el("td", x.number), el("td", x.name), el("td", w(`cs_${x.state}`)), el("td", x.attempts),
      el("td", x.last_outcome ? w(`o_${x.last_outcome}`) : ""), el("td", x.keys),
      el("td", x.confirmed ? w("yes") : ""), el("td", x.agent_name || ""), call,
    );
    body.append(tr);
  }
}

// The contact's call record, from the calls API (GET /api/calls/{linkedid}).
async function showCall(url) {
  try {
    page.call = await session.call("GET", url);
    renderCall();
    $("call-close").focus();
  } catch (err) { fail(err); }
}
$("call-close").addEventListener("click", () => { page.call = null; renderCall(); });

function renderCall() {
  const box = $("call-view");
  box.hidden = !page.call;
  if (!page.call) return;
  const c = page.call.call;
  const facts = [
    ["f_direction", c.direction === "out" ? w("d_out") : c.direction === "in" ? w("d_in") : c.direction],
    ["f_started", when(c.started_at)], ["f_ended", when(c.ended_at)],
    ["f_disposition", c.disposition], ["f_talk", Math.round(c.talk_seconds)],
    ["f_agents", (c.agents || []).join(", ")],
    ["f_recording", page.call.recording_id ?? w("none")],
  ];
  $("call-title").textContent = `${w("call_title")} ${c.linkedid}`;
  $("call-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", w(k)), el("dd", v)]));
}

function renderDnc() {
  const body = $("dnc");
  body.replaceChildren();
  for (const d of page.dnc) {
    const tr = el("tr");
    tr.dataset.entryId = d.id;
    const actions = el("td", null, "actions");
    if (!d.lifted_at) {
      const b = el("button", w("lift"));
      b.type = "button";
      b.setAttribute("aria-label", `${w("lift")} ${d.number}`);
      b.addEventListener("click", async () => {
        try {
          await session.call("POST", `/api/do-not-call/${d.id}/lift`);
          say("dnc_lifted", { number: d.number });
          await loadDnc();
          render();
        } catch (err) { fail(err); }
      });
      actions.append(b);
    }
    tr.append(el("td", d.number), el("td", w(`r_${d.reason}`)), el("td", d.note || ""),
      el("td", when(d.created_at)), el("td", when(d.lifted_at)), actions);
    body.append(tr);
  }
}

function render() {
  if (page.said) $("status").textContent = w(page.said.key, page.said.vars);
  if (!session.user) return;
  renderList();
  renderDetail();
  renderDnc();
  renderReport();
  renderCall();
}

setLang(page.lang);
showKind();
if (session.token) showPage();
else showSignIn();
