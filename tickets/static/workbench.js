// The work-order workbench (/tickets/): a department's working list with filters and live
// SLA countdowns, and a work-order sheet where a clerk or a repair crew claims, logs work,
// attaches photos, transfers, resolves, marks the customer informed, closes or reopens.
// Reads: /api/workbench/* (tickets/workbench_api.py); every change: the tickets API
// (/api/tickets/{id}/assign|transition|transfer|notes). Plain ES modules, no build step.
import {
  $, badge, blobUrl, categoryLabel, countdown, departmentLabel, el, listQuery, newSession,
  staffName, syncClock, tickCountdowns, upload, w, wb, when,
} from "./common.js";
import { applyWords, label } from "./workbench-i18n.js";

const POLL_MS = 30_000;
const state = {
  scope: "department", filters: {}, items: [], sheet: null, openId: null, timer: null,
  ticker: null, objectUrls: [],
};
window.hotlineWorkbench = state; // tests read the last list and sheet from here

const session = newSession(() => showSignIn(w("expired")));
const say = (node, key, vars, ok = true) => {
  node.className = ok ? "ok" : "error";
  node.textContent = key ? w(key, vars) : "";
};
const fail = (node, err) => { node.className = "error"; node.textContent = err.message; };

// -- sign-in ----------------------------------------------------------------------------

function showSignIn(message = "") {
  clearInterval(state.timer);
  clearInterval(state.ticker);
  $("board").hidden = $("logout").hidden = $("me").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("username").focus();
}

async function showBoard() {
  try {
    wb.context = await session.call("GET", "/api/workbench/context");
  } catch (err) {
    showSignIn(err.message);
    return;
  }
  syncClock(wb.context.now);
  const me = wb.context.me;
  $("me").textContent = me.department ? `${me.display_name} · ${departmentLabel(me.department)}` : me.display_name;
  $("signin").hidden = true;
  $("board").hidden = $("logout").hidden = $("me").hidden = false;
  fillFilters();
  render();
  const id = Number(new URLSearchParams(location.hash.slice(1)).get("ticket"));
  await loadList();
  if (id) await openSheet(id);
  clearInterval(state.timer);
  state.timer = setInterval(() => { loadList(); if (state.openId) loadSheet(); }, POLL_MS);
  clearInterval(state.ticker);
  state.ticker = setInterval(tickCountdowns, 1000);
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await session.login($("username").value.trim(), $("password").value);
    $("password").value = "";
    await showBoard();
  } catch (err) {
    $("signin-error").textContent = err.message;
  }
});
$("logout").addEventListener("click", async () => {
  await session.logout().catch(() => {});
  showSignIn();
});
$("lang").addEventListener("click", () => setLang(wb.lang === "zh" ? "en" : "zh"));

function setLang(lang) {
  wb.lang = lang;
  localStorage.setItem("hotline.lang", lang);
  applyWords(lang);
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  $("filters").setAttribute("aria-label", w("filters"));
  render();
}

// -- filters and list -------------------------------------------------------------------

function options(select, pairs, keep = true) {
  const chosen = select.value;
  select.replaceChildren(...pairs.map(([value, text]) => new Option(text, value)));
  if (keep && pairs.some(([v]) => v === chosen)) select.value = chosen;
}

function fillFilters() {
  const c = wb.context;
  if (!c) return;
  const all = ["", w("all")];
  options($("f-department"), [all, ...c.departments.map((d) => [d.name, label(wb.lang, d.label, d.name)])]);
  options($("f-category"), [all, ...c.categories.map((x) => [x.name, label(wb.lang, x.label, x.name)])]);
  options($("f-priority"), [all, ...c.priorities.map((p) => [p, w(`pr_${p}`)])]);
  options($("f-sla"), [all, ...["on_time", "warning", "breached"].map((s) => [s, w(`sla_${s}`)])]);
  options($("f-state"), [all, ["open", w("state_open")], ...c.states.map((s) => [s, w(`st_${s}`)])]);
  options($("transfer-to"), c.departments.map((d) => [d.name, label(wb.lang, d.label, d.name)]));
  const staff = c.staff.map((s) => [String(s.id), s.department ? `${s.display_name} · ${departmentLabel(s.department)}` : s.display_name]);
  options($("assign-to"), staff);
  $("attach-label").textContent = w("attach_file", { mb: Math.round((c.attachment_max_bytes || 10485760) / 1048576) });
}

function readFilters() {
  const f = {};
  for (const [k, v] of new FormData($("filters")).entries()) f[k] = String(v).trim();
  return f;
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  state.filters = readFilters();
  loadList();
});
$("reset").addEventListener("click", () => {
  $("filters").reset();
  state.filters = {};
  loadList();
});
for (const b of document.querySelectorAll("[data-scope]")) {
  b.addEventListener("click", () => {
    state.scope = b.dataset.scope;
    loadList();
  });
}
$("print-list").addEventListener("click", () => {
  const q = listQuery({ scope: state.scope, ...readFilters() });
  location.href = `print.html?list=1&${q}`;
});

async function loadList() {
  if (!session.token) return;
  const q = listQuery({ scope: state.scope, ...state.filters, limit: 200 });
  try {
    const body = await session.call("GET", `/api/workbench/tickets?${q}`);
    syncClock(body.now);
    state.items = body.items;
    state.department = body.department;
    if ($("status").className === "error") $("status").textContent = "";
  } catch (err) {
    fail($("status"), err);
  }
  renderList();
}

function renderList() {
  for (const b of document.querySelectorAll("[data-scope]")) {
    b.setAttribute("aria-pressed", String(b.dataset.scope === state.scope));
  }
  $("count").textContent = w("count", { n: state.items.length });
  $("list-empty").hidden = state.items.length > 0;
  $("tickets").replaceChildren(...state.items.map((item) => {
    const row = el("tr");
    row.dataset.ticketId = item.id;
    row.dataset.sla = item.sla_state;
    const open = el("button", item.number, "linkish");
    open.type = "button";
    open.setAttribute("aria-label", `${w("open")} ${item.number}`);
    open.addEventListener("click", () => openSheet(item.id));
    const cells = [
      [w("h_number"), open],
      [w("h_subject"), el("span", item.subject)],
      [w("h_category"), el("span", categoryLabel(item.category))],
      [w("h_priority"), badge("pr", item.priority)],
      [w("h_state"), badge("st", item.state)],
      [w("h_customer"), el("span", [item.customer_name || item.contact_name, item.district, item.contact_number].filter(Boolean).join(" · "))],
      [w("h_assignee"), el("span", item.assignee_name || w("unassigned"))],
      [w("h_sla"), countdown(item)],
      [w("h_created"), el("span", when(item.created_at))],
    ];
    row.replaceChildren(...cells.map(([head, node]) => {
      const td = el("td");
      td.dataset.label = head;
      td.append(node);
      return td;
    }));
    return row;
  }));
}

// -- the sheet ---------------------------------------------------------------------------

async function openSheet(id) {
  state.openId = id;
  history.replaceState(null, "", `#ticket=${id}`);
  for (const node of ["sheet-status"]) $(node).textContent = "";
  await loadSheet();
  $("list-view").hidden = true;
  $("sheet").hidden = false;
  $("sheet").focus();
}

$("back").addEventListener("click", () => {
  state.openId = null;
  state.sheet = null;
  history.replaceState(null, "", "#");
  $("sheet").hidden = true;
  $("list-view").hidden = false;
  loadList();
});

async function loadSheet() {
  try {
    state.sheet = await session.call("GET", `/api/workbench/tickets/${state.openId}`);
    syncClock(state.sheet.now);
  } catch (err) {
    fail($("sheet-status"), err);
  }
  renderSheet();
}

function detail(dl, key, value) {
  if (value === null || value === undefined || value === "") return;
  dl.append(el("dt", w(key)));
  const dd = el("dd");
  if (value instanceof Node) dd.append(value); else dd.textContent = value;
  dl.append(dd);
}

function renderSheet() {
  const s = state.sheet;
  if (!s) return;
  const t = s.ticket;
  $("sheet-title").textContent = `${t.number} · ${t.subject}`;
  $("print-sheet").href = `print.html?id=${t.id}`;
  const dl = $("sheet-details");
  dl.replaceChildren();
  detail(dl, "state", badge("st", t.state));
  detail(dl, "sla", countdown(t));
  detail(dl, "priority", badge("pr", t.priority));
  detail(dl, "category", categoryLabel(t.category));
  detail(dl, "department", departmentLabel(t.department));
  detail(dl, "assignee", t.assignee_name || w("unassigned"));
  detail(dl, "h_customer", s.customer ? s.customer.name : null);
  detail(dl, "account", s.customer ? s.customer.account_number : null);
  detail(dl, "district", t.district);
  detail(dl, "address", s.customer ? s.customer.address : null);
  detail(dl, "contact", t.contact_name);
  detail(dl, "phone", t.contact_number);
  detail(dl, "created", when(t.created_at));
  $("sheet-description").textContent = s.description || "—";
  $("sheet-resolution-box").hidden = !s.resolution;
  $("sheet-resolution").textContent = s.resolution || "";

  const can = new Set(s.actions);
  const me = wb.context.me.id;
  $("act-claim").hidden = !can.has("assign") || t.assignee_id === me;
  $("assign-form").hidden = !can.has("assign");
  $("act-start").hidden = !can.has("start");
  $("resolve-form").hidden = !can.has("resolve");
  $("act-inform").hidden = !can.has("inform");
  $("act-close").hidden = !can.has("close");
  $("reopen-form").hidden = !can.has("reopen");
  $("transfer-form").hidden = !can.has("transfer");
  if (t.assignee_id) $("assign-to").value = String(t.assignee_id);

  renderAttachments(s.attachments);
  renderCalls(s.calls);
  $("history").replaceChildren(...s.history.map((e) => {
    const li = el("li");
    li.dataset.action = e.action;
    const what = w(`ev_${e.action}`);
    li.append(el("time", when(e.at)), " ", el("strong", what === `ev_${e.action}` ? e.action : what), " · ", e.actor_name);
    const change = eventChange(e);
    if (change) li.append(el("div", change, "hint"));
    if (e.note) li.append(el("div", e.note, "pre"));
    return li;
  }));
}

function eventChange(e) {
  if (e.field === "assignee_id") return [e.from_value, e.to_value].map((v) => (v ? staffName(Number(v)) || v : w("unassigned"))).join(" → ");
  if (e.field === "state") return [e.from_value, e.to_value].filter(Boolean).map((v) => w(`st_${v}`)).join(" → ");
  if (e.field === "department") return [e.from_value, e.to_value].map(departmentLabel).join(" → ");
  if (e.field === "attachment") return e.to_value;
  if (e.from_value || e.to_value) return `${e.from_value ?? ""} → ${e.to_value ?? ""}`;
  return "";
}

function renderAttachments(files) {
  $("attachments-empty").hidden = files.length > 0;
  $("attachments").replaceChildren(...files.map((a) => {
    const li = el("li");
    li.dataset.attachmentId = a.id;
    const view = el("button", w("view"));
    view.type = "button";
    view.addEventListener("click", () => showAttachment(a));
    const down = el("button", w("download"));
    down.type = "button";
    down.addEventListener("click", () => downloadAttachment(a));
    const meta = `${w("size_kb", { n: Math.max(1, Math.round(a.size_bytes / 1024)) })} · ${a.uploaded_by_name} · ${when(a.uploaded_at)}${a.sealed ? ` · ${w("sealed")}` : ""}`;
    li.append(el("span", a.filename, "fname"), el("span", meta, "hint"), view, down);
    return li;
  }));
}

async function showAttachment(a) {
  try {
    const url = await blobUrl(session, `/api/workbench/attachments/${a.id}`);
    state.objectUrls.push(url);
    const box = $("preview");
    if (a.content_type.startsWith("image/")) {
      const img = el("img");
      img.src = url;
      img.alt = a.filename;
      box.replaceChildren(img);
    } else {
      const link = el("a", a.filename);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener";
      box.replaceChildren(link);
    }
    box.hidden = false;
  } catch (err) {
    fail($("sheet-status"), err);
  }
}

async function downloadAttachment(a) {
  try {
    const url = await blobUrl(session, `/api/workbench/attachments/${a.id}?download=true`);
    const link = el("a");
    link.href = url;
    link.download = a.filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    fail($("sheet-status"), err);
  }
}

function renderCalls(calls) {
  $("calls-empty").hidden = calls.length > 0;
  $("calls").replaceChildren(...calls.map((c) => {
    const li = el("li");
    li.dataset.linkedid = c.linkedid;
    li.append(el("span", [when(c.started_at), c.caller_number, w(`disp_${c.disposition}`)].filter(Boolean).join(" · ")));
    for (const [i, r] of c.recordings.entries()) {
      const box = el("div", "", "recording");
      if (!r.playable) {
        box.append(el("span", `${w("recording", { n: i + 1 })}: ${w("no_permission")}`, "hint"));
      } else {
        const play = el("button", `${w("play")} ${i + 1}`);
        play.type = "button";
        play.addEventListener("click", async () => {
          try {
            const url = await blobUrl(session, `/api/recordings/${r.id}/audio`);
            state.objectUrls.push(url);
            const audio = el("audio");
            audio.controls = true;
            audio.src = url;
            audio.dataset.recordingId = r.id;
            play.replaceWith(audio);
            audio.play().catch(() => {});
          } catch (err) {
            fail($("sheet-status"), err);
          }
        });
        box.append(play);
      }
      li.append(box);
    }
    return li;
  }));
}

// -- actions (the tickets API) -----------------------------------------------------------

async function act(run, doneKey, vars = {}) {
  const t = state.sheet?.ticket;
  if (!t) return;
  try {
    await run(t);
    say($("sheet-status"), doneKey, { n: t.number, ...vars });
  } catch (err) {
    fail($("sheet-status"), err);
  }
  await loadSheet();
}

const post = (t, what, body) => session.call("POST", `/api/tickets/${t.id}/${what}`, body);

$("act-claim").addEventListener("click", () =>
  act((t) => post(t, "assign", { assignee_id: wb.context.me.id }), "done_claim"));
$("assign-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = Number($("assign-to").value);
  act((t) => post(t, "assign", { assignee_id: id }), "done_assign", { who: staffName(id) });
});
$("act-start").addEventListener("click", () => act((t) => post(t, "transition", { to: "start" }), "done_start"));
$("act-inform").addEventListener("click", () => act((t) => post(t, "transition", { to: "inform" }), "done_inform"));
$("act-close").addEventListener("click", () => act((t) => post(t, "transition", { to: "close" }), "done_close"));
$("resolve-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("resolution-text").value.trim();
  if (!text) { say($("sheet-status"), "need_resolution", {}, false); $("resolution-text").focus(); return; }
  act(async (t) => {
    await post(t, "transition", { to: "resolve", resolution: text });
    $("resolution-text").value = "";
  }, "done_resolve");
});
$("reopen-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const note = $("reopen-text").value.trim() || null;
  act(async (t) => {
    await post(t, "transition", { to: "reopen", note });
    $("reopen-text").value = "";
  }, "done_reopen");
});
$("transfer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const department = $("transfer-to").value;
  const reason = $("transfer-reason").value.trim();
  if (!reason) { say($("sheet-status"), "need_reason", {}, false); $("transfer-reason").focus(); return; }
  act(async (t) => {
    await post(t, "transfer", { department, reason });
    $("transfer-reason").value = "";
  }, "done_transfer", { dept: departmentLabel(department) });
});
$("note-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("note-text").value.trim();
  if (!text) { say($("sheet-status"), "need_text", {}, false); $("note-text").focus(); return; }
  act(async (t) => {
    await post(t, "notes", { text });
    $("note-text").value = "";
  }, "done_note");
});
$("attach-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const file = $("attach-file").files[0];
  if (!file) { say($("sheet-status"), "need_file", {}, false); $("attach-file").focus(); return; }
  act(async (t) => {
    await upload(session, `/api/workbench/tickets/${t.id}/attachments`, file);
    $("attach-file").value = "";
  }, "done_attach", { name: file.name });
});

// -- start -------------------------------------------------------------------------------

function render() {
  fillFilters();
  renderList();
  renderSheet();
}

// On a phone the filters start folded: the list comes first.
if (window.matchMedia("(max-width: 600px)").matches) $("filter-box").open = false;
setLang(wb.lang);
if (session.token) showBoard(); else showSignIn();
