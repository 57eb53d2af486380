// The agent desktop: sign-in, state buttons, the screen-pop, a ticket from the call,
// knowledge-base and customer search. Plain ES modules, no build step. Everything the
// server sends is inserted as text (textContent), never as HTML.
import { ApiError, DeskSocket, Session } from "./api.js";
import { applyWords, label, reasonLabel, t } from "./i18n.js";
// A sign-in with a temporary password changes it first (admin/static/password-change.js).
import { changePasswordFirst } from "/admin/password-change.js";

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};

const desk = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  config: null,
  pop: null,        // the pop object of the current call
  callId: null,
  state: "logged_out",
  lastPopAt: null,  // Date.now() when the latest pop was drawn (tests read it)
  wrapPending: false,  // the last call ended and its wrap-up code is not given yet
  rec: null,  // the current call's recording state (showRec)
  cc: null,  // the call controls' state (callControls below); tests read cc.view
};
window.hotlineDesk = desk;

const session = new Session(() => showSignIn(t(desk.lang, "expired")));
const socket = new DeskSocket(session, onFrame, (up) => {
  const link = $("link");
  link.dataset.state = up ? "on" : "off";
  link.textContent = t(desk.lang, up ? "link_on" : "link_retry");
});

// -- language ---------------------------------------------------------------------------

function setLang(lang) {
  desk.lang = lang;
  localStorage.setItem("hotline.lang", lang);
  applyWords(lang);
  if ($("link").dataset.state === "on") $("link").textContent = t(lang, "link_on");
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  if (desk.config) {
    $("center-name").textContent = label(lang, desk.config.center, "Hotline");
    fillSelects();
  }
  showState(desk.state, desk.reason);
  if (desk.pop) renderPop(desk.pop, false);
  showRec(desk.rec);
  if (desk.cc) {
    fillQueues();
    showCall(cc.view);
    if (cc.error) showError($("cc-error"), cc.error);
  }
}

// -- sign-in ----------------------------------------------------------------------------

function showSignIn(message = "") {
  socket.stop();
  stopWatching();
  $("desk").hidden = true;
  $("logout").hidden = true;
  $("me").hidden = true;
  $("state-badge").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("username").focus();
}

async function signIn(event) {
  event.preventDefault();
  $("signin-error").textContent = "";
  const typed = $("password").value;
  try {
    await session.login($("username").value.trim(), typed);
    $("password").value = "";
    if (session.data.must_change_password) {
      await changePasswordFirst({ session, host: $("signin"), lang: desk.lang, old: typed });
    }
    await enterDesk();
  } catch (err) {
    $("signin-error").textContent = err.message;
  }
}

async function enterDesk() {
  desk.config = await session.call("GET", "/api/desk/config");
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("logout").hidden = false;
  const me = $("me");
  me.hidden = false;
  me.textContent = `${session.user.display_name} · ${session.user.extension || "-"}`;
  $("center-name").textContent = label(desk.lang, desk.config.center, "Hotline");
  fillSelects();
  try {
    const status = await session.call("GET", "/api/agent/state");
    showState(status.state, status.reason);
  } catch (err) {
    $("state-error").textContent = err.message;
  }
  socket.start();
  fillQueues();
  watchCall();  // a call may be live already (the page was reloaded during it)
  $("main").focus();
}

function fillSelects() {
  const lang = desk.lang;
  const reason = $("reason");
  const keepReason = reason.value;
  reason.replaceChildren(
    ...desk.config.not_ready_reasons
      .filter((r) => r !== "no_answer")
      .map((r) => option(r, reasonLabel(lang, desk.config.reason_labels, r))),
  );
  if (keepReason) reason.value = keepReason;
  const wrap = $("wrap-code");
  const keepWrap = wrap.value;
  wrap.replaceChildren(option("", "—"), ...desk.config.wrap_up_codes.map((c) => option(c.name, label(lang, c.label, c.name))));
  wrap.value = keepWrap;
  const cat = $("t-category");
  const keepCat = cat.value;
  cat.replaceChildren(...desk.config.ticket_categories.map((c) => option(c.name, label(lang, c.label, c.name))));
  if (keepCat) cat.value = keepCat;
  limitPriorities();
}

function option(value, text) {
  const o = el("option", text);
  o.value = value;
  return o;
}

// -- agent state ------------------------------------------------------------------------

function showState(state, reason) {
  desk.state = state;
  desk.reason = reason;
  const badge = $("state-badge");
  if (!session.token) return;
  badge.hidden = false;
  badge.dataset.state = state;
  const why = reason ? ` · ${reasonLabel(desk.lang, desk.config?.reason_labels, reason)}` : "";
  badge.textContent = t(desk.lang, `st_${state}`) + why;
  // After the wrap-up timer ran out the code can still be given for the last call.
  $("wrap-done").disabled = state !== "wrap_up" && !desk.wrapPending;
}

async function command(path, body) {
  $("state-error").textContent = "";
  try {
    const status = await session.call("POST", path, body);
    if (path.endsWith("/wrap-up")) desk.wrapPending = false;
    showState(status.state, status.reason);
  } catch (err) {
    $("state-error").textContent = err.message;
  }
}

// -- frames from the socket -------------------------------------------------------------

function onFrame(frame) {
  if (frame.type === "pop") {
    renderPop(frame.pop, true);
    watchCall();
  } else if (frame.type === "call") {
    onCallEvent(frame);
    watchCall();  // held, resumed, transferred, conference, ended: ask what the call is now
  } else if (frame.type === "agent") {
    showState(frame.state, frame.reason);
    if (["reserved", "on_call"].includes(frame.state)) watchCall();
  }
}

const CALL_STATES = {
  "call.offered": "ringing",
  "call.answered": "answered",
  "call.agent_no_answer": "no_answer",
  "call.ended": "ended",
};

function onCallEvent(frame) {
  if (frame.call_id !== desk.callId) return;
  const mine = session.user && session.user.extension;
  // A call this agent transferred goes on with another agent: their answer is not ours.
  if (frame.event === "call.answered" && frame.agent && mine && String(frame.agent) !== mine) return;
  const state = CALL_STATES[frame.event];
  if (frame.event === "call.answered") {
    // on_demand: the agent decides; otherwise the policy recorded it on answer.
    showRec(desk.config && desk.config.recording_mode === "on_demand" ? "off" : "auto");
  }
  if (frame.event === "call.ended") {
    desk.wrapPending = true;
    showState(desk.state, desk.reason);
    showRec(null);
  }
  if (state) {
    const badge = $("call-state");
    badge.dataset.state = state;
    badge.textContent = t(desk.lang, `call_${state}`);
  }
}

// -- recording control of the call ---------------------------------------------------------

// state: null (no live call: hidden), "off", "auto" (the policy may be recording: every
// action offered), "recording", "paused", "stopped".
function showRec(state) {
  desk.rec = state;
  $("rec").hidden = state === null;
  if (state === null) return;
  $("rec-state").dataset.state = state;
  $("rec-state").textContent = t(desk.lang, `rec_${state}`);
  $("rec-start").disabled = !["off", "stopped", "auto"].includes(state);
  $("rec-pause").disabled = !["recording", "auto"].includes(state);
  $("rec-resume").disabled = !["paused", "auto"].includes(state);
  $("rec-stop").disabled = !["recording", "paused", "auto"].includes(state);
}

async function recControl(action) {
  $("rec-error").textContent = "";
  if (!desk.callId) return;
  try {
    const out = await session.call("POST", `/api/calls/${encodeURIComponent(desk.callId)}/recording/${action}`);
    showRec(out.state);
  } catch (err) {
    $("rec-error").textContent = err.message;
  }
}

// -- the pop ------------------------------------------------------------------------------

function renderPop(pop, fresh) {
  const lang = desk.lang;
  desk.pop = pop;
  desk.callId = pop.call_id;
  const card = $("pop");
  card.dataset.callId = pop.call_id;
  card.classList.toggle("urgent", pop.skill === "emergency");
  $("pop-empty").hidden = true;
  $("pop-body").hidden = false;
  if (fresh) {
    showRec(null);  // a new call rings: no recording control until it is answered
    const badge = $("call-state");
    badge.dataset.state = "ringing";
    badge.textContent = t(lang, "call_ringing");
  }
  const skill = label(lang, pop.skill_label, pop.skill || "");
  const waited = pop.wait_seconds != null ? t(lang, "waited", { s: Math.round(pop.wait_seconds) }) : "";
  $("pop-wait").textContent = [skill, waited].filter(Boolean).join(" · ");

  const c = pop.customer;
  $("pop-customer").textContent = c ? c.name : `${t(lang, "unknown_caller")} ${pop.caller.number}`;
  const details = $("pop-details");
  details.replaceChildren();
  const add = (key, value, cls) => {
    if (value === null || value === undefined || value === "") return;
    details.append(el("dt", t(lang, key)), el("dd", value, cls));
  };
  add("caller", pop.caller.number);
  if (pop.tier) add("tier", `${pop.tier.code} · ${label(lang, pop.tier.label)}`);
  if (c) {
    add("account", c.account_number);
    add("address", c.address);
    add("district", c.district);
    add("balance", `¥${c.balance}`);
    if (Number(c.arrears) > 0) add("arrears", `¥${c.arrears}`, "arrears");
    add("meter", c.meter_number);
    if (c.phones.length) {
      const dd = el("dd", null, "phones");
      dd.append(...c.phones.map((p, i) => dialButton(p.number, c.id, i)));
      details.append(el("dt", t(lang, "phones")), dd);
    }
  } else if (pop.candidates && pop.candidates.length) {
    add("candidates", pop.candidates.map((x) => `${x.name} (${x.account_number})`).join("; "));
  }
  if (pop.partial) details.append(el("dd", t(lang, "partial"), "error"));

  $("pop-ivr").replaceChildren(...pop.ivr.steps.map((s) => el("li", label(lang, s.label, s.node))));
  const facts = pop.ivr.facts.map((f) => el("li", label(lang, f.text, `${f.key}=${f.value}`)));
  if (pop.ivr.outcome_label) facts.push(el("li", label(lang, pop.ivr.outcome_label)));
  $("pop-facts").replaceChildren(...facts);
  const tickets = pop.open_tickets.map((x) => el("li", `${x.number} · ${x.subject} · ${x.state}`));
  $("pop-tickets").replaceChildren(...(tickets.length ? tickets : [el("li", t(lang, "none"), "hint")]));
  const calls = pop.recent_calls.map((x) =>
    el("li", `${fmtTime(x.started_at)} · ${skillName(x.skill)} · ${disposition(x.disposition)}`));
  $("pop-calls").replaceChildren(...(calls.length ? calls : [el("li", t(lang, "none"), "hint")]));

  renderCampaign(pop, fresh);

  if (fresh) {
    prefillTicket(pop);
    loadHistory(pop);
    suggestKb(pop);
    desk.lastPopAt = Date.now();
    const active = document.activeElement;
    const typing = active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName);
    // A preview waits for the agent's choice: the keyboard starts on "call".
    const waiting = preview.state === "waiting" && !$("preview").hidden;
    if (!typing) $(waiting ? "preview-call" : "pop-title").focus();
  }
}

// -- a campaign call: marked, and for a preview the agent calls or skips -----------------

const preview = { callId: null, until: 0, timer: null, state: null };
desk.preview = preview;  // tests read preview.state

function renderCampaign(pop, fresh) {
  const call = pop.call || {};
  const isCampaign = pop.kind === "campaign";
  $("campaign").hidden = !isCampaign;
  $("pop").classList.toggle("campaign-call", isCampaign);
  if (!isCampaign) {
    stopPreview();
    return;
  }
  $("campaign-name").textContent = call.campaign_name || "";
  const isPreview = call.dial_mode === "preview";
  $("preview").hidden = !isPreview;
  if (!isPreview) return;
  if (fresh) {
    stopPreview();
    preview.callId = pop.call_id;
    preview.state = "waiting";
    preview.until = Date.now() + 1000 * Number(call.preview_seconds || 30);
    $("preview-error").textContent = "";
    setPreviewButtons(false);
    preview.timer = setInterval(showPreviewCount, 250);
  }
  showPreviewCount();
}

function showPreviewCount() {
  const lang = desk.lang;
  if (preview.state === "waiting") {
    const left = Math.max(0, Math.ceil((preview.until - Date.now()) / 1000));
    $("preview-count").textContent = t(lang, "preview_count", { s: left });
    if (left <= 0) placedPreview("placed");
  } else if (preview.state) {
    $("preview-count").textContent = t(lang, `preview_${preview.state}`);
  }
}

function setPreviewButtons(disabled) {
  $("preview-call").disabled = disabled;
  $("preview-skip").disabled = disabled;
}

function placedPreview(state) {
  preview.state = state;
  if (preview.timer) clearInterval(preview.timer);
  preview.timer = null;
  setPreviewButtons(true);
  showPreviewCount();
}

function stopPreview() {
  if (preview.timer) clearInterval(preview.timer);
  preview.timer = null;
  preview.state = null;
}

async function decidePreview(decision) {
  if (preview.state !== "waiting" || !preview.callId) return;
  setPreviewButtons(true);
  try {
    await session.call("POST", "/api/agent/campaign-preview", { call_id: preview.callId, decision });
    placedPreview(decision === "skip" ? "skipped" : "placed");
  } catch (err) {
    setPreviewButtons(false);
    $("preview-error").textContent = t(desk.lang, "preview_failed");
  }
}

function skillName(skill) {
  return skill ? label(desk.lang, desk.config.skills[skill], skill) : "";
}

function disposition(d) {
  return t(desk.lang, `d_${d}`);
}

function fmtTime(iso) {
  const d = new Date(iso);
  return d.toLocaleString(desk.lang === "zh" ? "zh-CN" : "en-GB", { dateStyle: "short", timeStyle: "short" });
}

// -- the ticket from the call -----------------------------------------------------------

const CATEGORY_FOR_SKILL = {
  emergency: "repair", repair: "repair", billing: "billing_dispute", complaint: "complaint",
  business: "business_request",
};

function prefillTicket(pop) {
  const lang = desk.lang;
  const names = desk.config.ticket_categories.map((c) => c.name);
  const wanted = CATEGORY_FOR_SKILL[pop.skill] || "inquiry";
  $("t-category").value = names.includes(wanted) ? wanted : names[0];
  limitPriorities();
  const urgent = pop.skill === "emergency" || pop.ivr.facts.some((f) => f.value === "gas_leak");
  setPriority(urgent ? "urgent" : "normal");
  const who = pop.customer ? pop.customer.name : pop.caller.number;
  const firstFact = pop.ivr.facts.length ? label(lang, pop.ivr.facts[0].text) : "";
  const skill = label(lang, pop.skill_label, pop.skill || "");
  $("t-subject").value = [skill, who, firstFact].filter(Boolean).join(" · ").slice(0, 200);
  const lines = pop.ivr.facts.map((f) => `- ${label(lang, f.text)}`);
  const path = pop.ivr.steps.map((s) => label(lang, s.label, s.node)).join(" > ");
  if (path) lines.unshift(`${t(lang, "self_service")}: ${path}`);
  $("t-description").value = lines.join("\n");
  $("t-contact").value = pop.caller.number || "";
  $("ticket-result").textContent = "";
  $("ticket-error").textContent = "";
  $("ticket-create").disabled = false;
}

function limitPriorities() {
  const cat = desk.config.ticket_categories.find((c) => c.name === $("t-category").value);
  const allowed = new Set(cat ? cat.priorities : ["normal"]);
  for (const o of $("t-priority").options) o.disabled = !allowed.has(o.value);
  if (!allowed.has($("t-priority").value)) setPriority("normal");
}

function setPriority(value) {
  const select = $("t-priority");
  const o = [...select.options].find((x) => x.value === value && !x.disabled);
  select.value = o ? value : ([...select.options].find((x) => !x.disabled) || select.options[0]).value;
}

async function createTicket(event) {
  event.preventDefault();
  if (!desk.callId) return;
  $("ticket-error").textContent = "";
  const body = {
    category: $("t-category").value,
    priority: $("t-priority").value,
    subject: $("t-subject").value.trim(),
    description: $("t-description").value,
    contact_number: $("t-contact").value.trim() || null,
  };
  if (desk.pop && desk.pop.customer) body.customer_id = desk.pop.customer.id;
  $("ticket-create").disabled = true;
  try {
    const ticket = await session.call("POST", `/api/calls/${encodeURIComponent(desk.callId)}/tickets`, body);
    const key = ticket.created ? "ticket_created" : "ticket_linked";
    const result = $("ticket-result");
    result.textContent = t(desk.lang, key, { n: ticket.number });
    result.dataset.ticketId = ticket.id;
    result.dataset.number = ticket.number;
    $("wrap-code").value = "ticket_created";
  } catch (err) {
    $("ticket-error").textContent = err.message;
  } finally {
    $("ticket-create").disabled = false;
  }
}

// -- knowledge base -----------------------------------------------------------------------

async function searchKb(event) {
  event.preventDefault();
  const q = $("kb-q").value.trim();
  const list = $("kb-results");
  if (!q) {  // the full-text search needs words to look for
    list.replaceChildren();
    return;
  }
  try {
    const params = new URLSearchParams({ q, language: desk.lang });
    const hits = await session.call("GET", `/api/knowledge/search?${params}`);
    const articles = hits.map((hit) => hit.article);  // best first: [{article, rank}]
    list.replaceChildren(...articles.map(articleItem));
    if (!articles.length) list.append(el("li", t(desk.lang, "no_results"), "hint"));
  } catch (err) {
    list.replaceChildren(el("li", err.message, "error"));
  }
}

// Articles for this caller: by the line they chose, the IVR menu nodes they went through
// and their open tickets' categories (tickets.knowledge_categories in config.yaml).
async function suggestKb(pop) {
  const list = $("kb-suggested");
  const params = new URLSearchParams({ language: desk.lang });
  if (pop.skill) params.set("skill", pop.skill);
  if (pop.ivr && pop.ivr.path && pop.ivr.path.length) params.set("ivr_path", pop.ivr.path.join("/"));
  for (const c of new Set(pop.open_tickets.map((x) => x.category).filter(Boolean))) {
    params.append("category", c);
  }
  try {
    const articles = await session.call("GET", `/api/knowledge/suggest?${params}`);
    if (desk.callId !== pop.call_id) return;  // another call popped meanwhile
    list.replaceChildren(...articles.map(articleItem));
    $("kb-suggested-title").hidden = !articles.length;
  } catch (err) {
    list.replaceChildren(el("li", err.message, "error"));
  }
}

function articleItem(a) {
  const li = el("li");
  const button = el("button", a.title, "link-like");
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  const body = el("div", a.body, "kb-body");
  body.hidden = true;
  button.addEventListener("click", () => {
    body.hidden = !body.hidden;
    button.setAttribute("aria-expanded", String(!body.hidden));
  });
  li.append(button, body);
  return li;
}

// -- customers and call history ---------------------------------------------------------

async function searchCustomers(event) {
  event.preventDefault();
  $("cust-error").textContent = "";
  const list = $("cust-results");
  try {
    const hits = await session.call("GET", `/api/customers?q=${encodeURIComponent($("cust-q").value.trim())}`);
    list.replaceChildren(...hits.map((c) => {
      const li = el("li");
      const b = el("button", `${c.name} · ${c.account_number} · ${c.phones.join(", ")}`, "link-like");
      b.type = "button";
      b.addEventListener("click", () => loadHistory({ customer: c, caller: { number: "" } }));
      li.append(b, el("br"), ...c.phones.map((n, i) => dialButton(n, c.id, i)));
      return li;
    }));
    if (!hits.length) list.append(el("li", t(desk.lang, "no_results"), "hint"));
  } catch (err) {
    $("cust-error").textContent = err.message;
  }
}

async function loadHistory(pop) {
  const body = $("history").tBodies[0];
  try {
    const calls = pop.customer
      ? await session.call("GET", `/api/customers/${pop.customer.id}/calls?limit=20`)
      : await session.call("GET", `/api/calls?number=${encodeURIComponent(pop.caller.number || "")}&limit=20`);
    body.replaceChildren(...calls.map((c) => {
      const tr = el("tr");
      const wrap = desk.config.wrap_up_codes.find((w) => w.name === c.wrap_code);
      tr.append(
        el("td", fmtTime(c.started_at)),
        el("td", skillName(c.skill)),
        el("td", disposition(c.disposition)),
        el("td", wrap ? label(desk.lang, wrap.label) : c.wrap_code || ""),
      );
      return tr;
    }));
  } catch (err) {
    body.replaceChildren();
    $("cust-error").textContent = err instanceof ApiError ? err.message : String(err);
  }
}

// -- call controls (issue 14) -------------------------------------------------------------
//
// The panel #callctl shows the agent's call as GET /api/agent/call tells it (talking, held,
// consulting, conference), asked every second while the page thinks a call may be live
// (a pop, a call frame, a dial, one of the buttons) and stopping after IDLE_POLLS idle
// answers in a row. Each button is enabled only in the states where the API allows it.

const POLL_MS = 1000;
const IDLE_POLLS = 20;
const LIVE = ["ringing", "talking", "held", "consulting", "conference"];
const APPLIES = {
  hold: ["talking"],
  resume: ["held"],
  transfer: ["talking", "held"],
  consult: ["talking", "held"],
  complete: ["consulting"],
  cancel: ["consulting"],
  conference: ["talking", "held", "conference"],
  leave: ["conference"],
  keypad: ["talking"],
  hangup: LIVE,
};
const IDLE = { call_id: null, state: "idle" };
const cc = {
  view: IDLE,      // the latest call state from the API
  timer: null,
  inflight: false,
  again: false,
  idle: 0,         // idle answers in a row
  busy: false,     // a button's request is on its way
  error: null,     // the last error shown in the panel (re-translated on a language switch)
  errorUntil: 0,   // an error keeps the panel open this long after the call has gone
  dialling: null,  // {call_id, number, until}: a click-to-dial before the agent's phone rings
  keys: Promise.resolve(),
};
desk.cc = cc;

function applies(action, view = cc.view) {
  if (action === "complete" && !view.consulting) return false;  // not answered yet
  return APPLIES[action].includes(view.state);
}

function watchCall() {
  cc.idle = 0;
  refreshCall();
}

function stopWatching() {
  clearTimeout(cc.timer);
  cc.timer = null;
  cc.idle = IDLE_POLLS;
  cc.dialling = null;
  cc.errorUntil = 0;
  showCall(IDLE);
}

async function refreshCall() {
  if (cc.inflight) {
    cc.again = true;
    return;
  }
  clearTimeout(cc.timer);
  cc.inflight = true;
  try {
    do {
      cc.again = false;
      if (!session.token) return;
      try {
        showCall(await session.call("GET", "/api/agent/call"));
      } catch (err) {
        if (err.status === 401) return;
        panelError(err);
      }
    } while (cc.again);
  } finally {
    cc.inflight = false;
  }
  cc.idle = cc.view.state === "idle" ? cc.idle + 1 : 0;
  if (cc.idle < IDLE_POLLS && session.token && !$("desk").hidden) {
    cc.timer = setTimeout(refreshCall, POLL_MS);
  }
}

function showCall(view) {
  let v = view || IDLE;
  const d = cc.dialling;
  if (d && v.state === "idle" && Date.now() < d.until) {
    v = { call_id: d.call_id, state: "dialling", caller_number: d.number };
  } else if (d && v.state !== "idle") {
    cc.dialling = null;
  }
  cc.view = v;
  const lang = desk.lang;
  const panel = $("callctl");
  panel.hidden = v.state === "idle" && Date.now() > cc.errorUntil;
  panel.dataset.state = v.state;
  panel.dataset.callId = v.call_id || "";
  const badge = $("cc-state");
  badge.dataset.state = v.state;
  badge.textContent = t(lang, `cc_st_${v.state}`);
  const peer = [];
  if (v.caller_number) peer.push(t(lang, "cc_with", { n: v.caller_number }));
  if (v.state === "consulting") {
    peer.push(v.consulting ? t(lang, "cc_consulting_with", { n: v.consulting }) : t(lang, "cc_consult_ringing"));
  }
  if (v.conference && v.conference.length) {
    peer.push(t(lang, "cc_conference_with", { n: v.conference.join(", ") }));
  }
  $("cc-peer").textContent = peer.join(" · ");
  for (const action of Object.keys(APPLIES)) $(`cc-${action}`).disabled = cc.busy || !applies(action, v);
  // A form whose action no longer applies closes (the call was held, ended, ...).
  if (!$("cc-transfer-form").hidden && !applies("transfer", v)) closeForms();
  const target = $("cc-target-form");
  if (!target.hidden && !applies(target.dataset.mode, v)) closeForms();
  if (!$("cc-pad").hidden && !applies("keypad", v)) closeForms();
  if (panel.contains(document.activeElement) && document.activeElement.disabled) focusPanel();
}

function focusPanel() {
  const first = [...$("cc-buttons").querySelectorAll("button")].find((b) => !b.disabled);
  if (first) first.focus();
}

function errorText(err) {
  const key = `cc_err_${err.code}`;
  const known = err.code && t(desk.lang, key) !== key;
  return known ? t(desk.lang, key) : err.message;
}

function showError(node, err) {
  node.textContent = errorText(err);
  node.dataset.code = err.code || "";
  node.title = err.message || "";
}

function panelError(err) {
  cc.error = err;
  cc.errorUntil = Date.now() + 8000;
  showError($("cc-error"), err);
  $("callctl").hidden = false;
}

function clearPanelError() {
  cc.error = null;
  cc.errorUntil = 0;
  $("cc-error").textContent = "";
  $("cc-error").dataset.code = "";
}

const AFTER = { transferred: "cc_transferred", left: "cc_left", ended: "cc_ended" };

async function ccAction(operation, body) {
  if (cc.busy) return;
  clearPanelError();
  cc.busy = true;
  showCall(cc.view);
  let next = cc.view;
  try {
    const out = await session.call("POST", `/api/agent/call/${operation}`, body);
    closeForms();
    if (AFTER[out.state]) {
      // The call goes on without this agent (or ended): the panel leaves, the pop says so.
      next = IDLE;
      const badge = $("call-state");
      if (desk.callId === out.call_id) {
        badge.dataset.state = out.state;
        badge.textContent = t(desk.lang, AFTER[out.state]);
      }
    } else if (LIVE.includes(out.state)) {
      next = { ...cc.view, state: out.state };
    }
  } catch (err) {
    panelError(err);
  } finally {
    cc.busy = false;
    showCall(next);
    // The button just pressed may be disabled now (Hold after holding): focus stays in the panel.
    const active = document.activeElement;
    if (!$("callctl").hidden && (!active || active === document.body || active.disabled)) focusPanel();
    watchCall();
  }
}

// -- the panel's forms: transfer, consult / conference target, keypad

function closeForms(refocus = false) {
  // Back to the button that opened the form (Esc, Cancel), or the first one enabled.
  const opener = ["cc-transfer", "cc-consult", "cc-conference", "cc-keypad"]
    .map((id) => $(id))
    .find((b) => b.getAttribute("aria-expanded") === "true");
  for (const id of ["cc-transfer-form", "cc-target-form", "cc-pad"]) $(id).hidden = true;
  for (const id of ["cc-transfer", "cc-consult", "cc-conference", "cc-keypad"]) {
    $(id).setAttribute("aria-expanded", "false");
  }
  if (!refocus || !opener) return;
  if (opener.disabled) focusPanel();
  else opener.focus();
}

function ccFormOpen() {
  return ["cc-transfer-form", "cc-target-form", "cc-pad"].some((id) => !$(id).hidden);
}

function toggleForm(button, formId, mode) {
  const form = $(formId);
  const open = !form.hidden && (formId !== "cc-target-form" || form.dataset.mode === mode);
  closeForms();
  if (open) {
    button.focus();
    return;
  }
  form.hidden = false;
  button.setAttribute("aria-expanded", "true");
  if (formId === "cc-target-form") {
    form.dataset.mode = mode;
    const lab = $("cc-target-label");
    lab.dataset.i18n = `cc_target_${mode}`;
    lab.textContent = t(desk.lang, lab.dataset.i18n);
    $("cc-target").value = "";
    $("cc-target").focus();
  } else if (formId === "cc-transfer-form") {
    showTransferKind();
    transferField().focus();
  } else {
    form.querySelector("button").focus();
  }
}

function queueList() {
  // config.queues ([{name, label}]) when the desk config lists them; else the skills,
  // which name the holding queues in this center's config.yaml.
  const cfg = desk.config || {};
  if (Array.isArray(cfg.queues)) return cfg.queues;
  return Object.entries(cfg.skills || {}).map(([name, lab]) => ({ name, label: lab }));
}

function fillQueues() {
  const select = $("cc-xfer-queue");
  const keep = select.value;
  select.replaceChildren(...queueList().map((q) => option(q.name, label(desk.lang, q.label, q.name))));
  if (keep) select.value = keep;
}

function transferField() {
  const kind = $("cc-xfer-kind").value;
  return $(kind === "agent" ? "cc-xfer-ext" : kind === "queue" ? "cc-xfer-queue" : "cc-xfer-number");
}

function showTransferKind() {
  const kind = $("cc-xfer-kind").value;
  const lost = [$("cc-xfer-ext"), $("cc-xfer-queue"), $("cc-xfer-number")].includes(document.activeElement);
  $("cc-xfer-ext").hidden = kind !== "agent";
  $("cc-xfer-queue").hidden = kind !== "queue";
  $("cc-xfer-number").hidden = kind !== "number";
  if (lost) transferField().focus();  // the field the focus was in is hidden now
}

function submitTransfer(event) {
  event.preventDefault();
  const kind = $("cc-xfer-kind").value;
  const to = transferField().value.trim().replace(/[\s-]/g, "");
  ccAction("transfer", { target: `${kind}:${to}` });
}

function submitTarget(event) {
  event.preventDefault();
  const mode = $("cc-target-form").dataset.mode;
  ccAction(mode, { target: $("cc-target").value.trim() });
}

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

function buildKeypad() {
  const pad = $("cc-pad").querySelector(".cc-keys");
  pad.replaceChildren(...KEYS.map((k) => {
    const b = el("button", k);
    b.type = "button";
    b.dataset.key = k;
    b.addEventListener("click", () => sendKey(k));
    return b;
  }));
  $("cc-pad").addEventListener("keydown", (event) => {
    if (KEYS.includes(event.key) && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      sendKey(event.key);
    }
  });
}

function sendKey(key) {
  // One request per key, in the order pressed.
  cc.keys = cc.keys.then(async () => {
    try {
      await session.call("POST", "/api/agent/call/dtmf", { digits: key });
      const sent = $("cc-pad-sent");
      const was = sent.dataset.digits || "";
      sent.dataset.digits = (was + key).slice(-20);
      sent.textContent = t(desk.lang, "cc_sent", { d: sent.dataset.digits });
    } catch (err) {
      panelError(err);
    }
  });
}

// -- click-to-dial: a call button next to each phone number of a customer's file.
// Agents see masked numbers (139****5678): the call goes by the file's phone index and
// the server looks the number up (callcontrol/api.py).

function dialButton(number, customerId, index) {
  const wrap = el("span", null, "dial");
  const b = el("button", t(desk.lang, "cc_dial"), "dial-btn");
  b.type = "button";
  b.dataset.number = number;
  b.setAttribute("aria-label", t(desk.lang, "cc_dial_label", { n: number }));
  const note = el("span", "", "ok");
  note.setAttribute("role", "status");
  b.addEventListener("click", () => dial(number, customerId, b, note, index));
  wrap.append(el("span", number), b, note);
  return wrap;
}

async function dial(number, customerId, button, note, index) {
  button.disabled = true;
  note.className = "ok";
  note.textContent = "";
  const body = { number };
  if (customerId) body.customer_id = customerId;
  if (customerId && index != null) body.phone_index = index;
  try {
    const out = await session.call("POST", "/api/agent/call/dial", body);
    note.textContent = t(desk.lang, "cc_dialling", { n: out.number || number });
    cc.dialling = { call_id: out.call_id, number: out.number || number, until: Date.now() + 8000 };
    clearPanelError();
    showCall(cc.view);
    watchCall();
  } catch (err) {
    note.className = "error";
    showError(note, err);
  } finally {
    button.disabled = false;
  }
}

function wireCallControls() {
  $("cc-hold").addEventListener("click", () => ccAction("hold"));
  $("cc-resume").addEventListener("click", () => ccAction("resume"));
  $("cc-complete").addEventListener("click", () => ccAction("complete"));
  $("cc-cancel").addEventListener("click", () => ccAction("cancel"));
  $("cc-leave").addEventListener("click", () => ccAction("leave"));
  $("cc-hangup").addEventListener("click", () => ccAction("hangup"));
  $("cc-transfer").addEventListener("click", (e) => toggleForm(e.currentTarget, "cc-transfer-form"));
  $("cc-consult").addEventListener("click", (e) => toggleForm(e.currentTarget, "cc-target-form", "consult"));
  $("cc-conference").addEventListener("click", (e) => toggleForm(e.currentTarget, "cc-target-form", "conference"));
  $("cc-keypad").addEventListener("click", (e) => toggleForm(e.currentTarget, "cc-pad"));
  $("cc-xfer-kind").addEventListener("change", showTransferKind);
  $("cc-transfer-form").addEventListener("submit", submitTransfer);
  $("cc-target-form").addEventListener("submit", submitTarget);
  for (const b of document.querySelectorAll("#callctl .cc-close")) {
    b.addEventListener("click", () => closeForms(true));
  }
  buildKeypad();
}

// -- wiring -------------------------------------------------------------------------------

const SHORTCUTS = { i: "phone-in", r: "ready", n: "not-ready", w: "wrap-done", t: "ticket-create" };

function onKey(event) {
  if (event.key === "Escape" && !$("desk").hidden && ccFormOpen()) {
    // From the panel, or with the focus lost (the field it was in was hidden).
    const active = document.activeElement;
    if (!active || active === document.body || $("callctl").contains(active)) {
      closeForms(true);
      return;
    }
  }
  if (!event.altKey || event.ctrlKey || event.metaKey || $("desk").hidden) return;
  const key = event.key.toLowerCase();
  if (key === "h") {  // hold, or resume a held call
    const action = applies("hold") ? "hold" : applies("resume") ? "resume" : null;
    event.preventDefault();
    if (action && !cc.busy) ccAction(action);
    return;
  }
  if ((key === "c" || key === "s") && preview.state === "waiting" && !$("preview").hidden) {
    event.preventDefault();
    decidePreview(key === "c" ? "call" : "skip");
    return;
  }
  if (key === "k") {
    event.preventDefault();
    $("kb-q").focus();
    return;
  }
  const id = SHORTCUTS[key];
  if (id && !$(id).disabled) {
    event.preventDefault();
    $(id).click();
  }
}

function main() {
  setLang(desk.lang);
  $("lang").addEventListener("click", () => setLang(desk.lang === "zh" ? "en" : "zh"));
  $("signin-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", async () => {
    await session.logout().catch(() => {});
    showSignIn();
  });
  $("phone-in").addEventListener("click", () => command("/api/agent/sign-in", {}));
  $("ready").addEventListener("click", () => command("/api/agent/ready"));
  $("not-ready").addEventListener("click", () => command("/api/agent/not-ready", { reason: $("reason").value }));
  $("phone-out").addEventListener("click", () => command("/api/agent/sign-out"));
  $("wrap-done").addEventListener("click", () => command("/api/agent/wrap-up", { code: $("wrap-code").value || null }));
  for (const action of ["start", "pause", "resume", "stop"]) {
    $(`rec-${action}`).addEventListener("click", () => recControl(action));
  }
  $("t-category").addEventListener("change", limitPriorities);
  $("ticket-form").addEventListener("submit", createTicket);
  $("kb-form").addEventListener("submit", searchKb);
  $("cust-form").addEventListener("submit", searchCustomers);
  wireCallControls();
  $("preview-call").addEventListener("click", () => decidePreview("call"));
  $("preview-skip").addEventListener("click", () => decidePreview("skip"));
  document.addEventListener("keydown", onKey);
  if (session.token) {
    enterDesk().catch(() => showSignIn());
  } else {
    showSignIn();
  }
}

main();
