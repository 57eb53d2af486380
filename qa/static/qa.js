// The quality-inspection page. Inspectors (QA, supervisors, admins): the week's sample
// queue, a call's recording (fetched from /api/recordings/{id}/audio with the token, as a
// blob: an <audio> element cannot send the Authorization header), the scoring form of
// config.yaml, submit; an agent's evaluation and the supervisor's rating. Agents: their
// own scores with comments and their evaluation. Plain ES module, no build step; what the
// server sends is inserted as text (textContent), never as HTML.
import { Session } from "/desk/api.js";
import { applyWords, label, t } from "./qa-i18n.js";

const INSPECTORS = new Set(["qa", "supervisor", "admin"]);
const RATERS = new Set(["supervisor", "admin"]);
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};

const qa = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  forms: null, queue: [], agents: [], call: null, formKey: null, answers: {}, fatal: new Set(),
  agentId: null, agentEval: null, agentScores: [], myScores: [], myEval: null, audioUrl: null,
  said: null,
};
window.hotlineQa = qa;  // tests read the page's state from here
const w = (key, vars) => t(qa.lang, key, vars);
const session = new Session(() => showSignIn(w("expired")));
// The last message is kept as (key, vars), so it follows a change of language.
const say = (key, vars) => { qa.said = { key, vars }; $("status").className = "hint ok"; $("status").textContent = w(key, vars); };
const fail = (err) => { qa.said = null; $("status").className = "hint error"; $("status").textContent = err.message; };
const unsay = () => { qa.said = null; $("status").textContent = ""; };
const when = (iso) => (iso ? new Date(iso).toLocaleString(qa.lang === "zh" ? "zh-CN" : "en-GB") : "");
const form = (key) => (qa.forms ? qa.forms.forms.find((f) => f.key === key) : null);

// -- sign-in ----------------------------------------------------------------------------

function showSignIn(message = "") {
  for (const id of ["inspect", "mine", "logout", "me"]) $(id).hidden = true;
  $("signin").hidden = false;
  unsay();
  $("signin-error").textContent = message;
  $("username").focus();
}

async function showPage() {
  const user = session.user;
  const inspector = user && INSPECTORS.has(user.role);
  if (!user || (!inspector && user.role !== "agent")) {
    if (user) session.logout().catch(() => {});
    showSignIn(w("not_allowed"));
    return;
  }
  $("signin").hidden = true;
  unsay();
  $("logout").hidden = $("me").hidden = false;
  $("me").textContent = user.display_name;
  $("inspect").hidden = !inspector;
  $("mine").hidden = inspector;
  $("rating-form").hidden = !RATERS.has(user.role);
  try {
    qa.forms = await session.call("GET", "/api/qa/forms");
    if (inspector) {
      qa.agents = await session.call("GET", "/api/qa/agents");
      await loadQueue();
    } else {
      await loadMine();
    }
  } catch (err) {
    fail(err);
  }
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
  dropAudio();
  showSignIn();
});
$("lang").addEventListener("click", () => setLang(qa.lang === "zh" ? "en" : "zh"));

function setLang(lang) {
  qa.lang = lang;
  localStorage.setItem("hotline.lang", lang);
  applyWords(lang);
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  render();
}

// -- data -------------------------------------------------------------------------------

async function loadQueue() {
  const params = new URLSearchParams();
  if ($("week").value.trim()) params.set("week", $("week").value.trim());
  if ($("state-filter").value) params.set("state", $("state-filter").value);
  qa.queue = await session.call("GET", `/api/qa/samples?${params}`);
}

async function loadMine() {
  qa.myScores = await session.call("GET", "/api/qa/my-scores");
  qa.myEval = await session.call("GET", "/api/qa/evaluation");
}

async function loadAgent(agentId) {
  qa.agentId = agentId;
  if (!agentId) { qa.agentEval = null; qa.agentScores = []; return; }
  qa.agentEval = await session.call("GET", `/api/qa/agents/${agentId}/evaluation`);
  qa.agentScores = await session.call("GET", `/api/qa/scores?agent_id=${agentId}`);
}

async function openCall(callId) {
  qa.call = await session.call("GET", `/api/qa/calls/${callId}`);
  qa.formKey = qa.formKey || qa.forms.default_form;
  resetAnswers();
  render();
  $("scoring").hidden = false;
  $("scoring-title").focus();
  await loadAudio(qa.call.recording);
}

function resetAnswers() {
  const f = form(qa.formKey);
  qa.answers = Object.fromEntries(f.criteria.map((c) => [c.key, c.max_points]));
  qa.fatal = new Set();
  $("comment").value = "";
}

function dropAudio() {
  if (qa.audioUrl) URL.revokeObjectURL(qa.audioUrl);
  qa.audioUrl = null;
  $("player").removeAttribute("src");
  $("player").dataset.loaded = "no";
}

async function loadAudio(recording) {
  dropAudio();
  const note = $("player-note");
  if (!recording) { note.textContent = w("no_recording"); return; }
  note.textContent = w("loading_audio");
  try {
    const r = await fetch(recording.audio_url, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!r.ok) {
      const body = await r.json().catch(() => null);
      throw new Error((body && body.message) || `HTTP ${r.status}`);
    }
    qa.audioUrl = URL.createObjectURL(await r.blob());
    $("player").src = qa.audioUrl;
    $("player").dataset.loaded = "yes";
    note.textContent = w("audio_ready", { s: Math.round(recording.duration_seconds || 0) });
  } catch (err) {
    note.textContent = w("audio_failed", { m: err.message });
  }
}

// -- actions ----------------------------------------------------------------------------

$("refresh").addEventListener("click", () => act(loadQueue));
$("state-filter").addEventListener("change", () => act(loadQueue));
$("draw").addEventListener("click", () => act(async () => {
  const week = $("week").value.trim();
  const result = await session.call("POST", "/api/qa/samples/draw", week ? { week } : {});
  $("week").value = result.week;
  await loadQueue();
  say("drawn", { n: result.drawn, k: result.per_agent, w: result.week });
}, false));
$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = Number($("open-call").value);
  if (id > 0) act(() => openCall(id), false);
});
$("form-key").addEventListener("change", () => {
  qa.formKey = $("form-key").value;
  resetAnswers();
  render();
});
$("score-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("score-error").textContent = "";
  try {
    const body = {
      call_id: qa.call.id, form_key: qa.formKey, answers: qa.answers,
      fatal: [...qa.fatal], comment: $("comment").value.trim() || null,
    };
    const saved = await session.call("POST", "/api/qa/scores", body);
    qa.call = await session.call("GET", `/api/qa/calls/${qa.call.id}`);
    await loadQueue();
    if (qa.agentId === saved.agent_id) await loadAgent(saved.agent_id);
    say("scored", { t: saved.total });
    render();
  } catch (err) {
    $("score-error").textContent = err.message;
  }
});
$("agent-pick").addEventListener("change", () => act(() => loadAgent(Number($("agent-pick").value) || null)));
$("rating-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    await session.call("POST", "/api/qa/ratings", {
      agent_id: qa.agentId, period: $("rating-period").value.trim(),
      score: Number($("rating-score").value), comment: $("rating-comment").value.trim() || null,
    });
    $("rating-comment").value = "";
    await loadAgent(qa.agentId);
    say("rated");
  }, false);
});

async function act(run, clear = true) {
  try {
    if (clear) unsay();
    await run();
  } catch (err) {
    fail(err);
  }
  render();
}

// -- rendering --------------------------------------------------------------------------

function localTotal() {
  const f = form(qa.formKey);
  if (!f || qa.fatal.size) return 0;
  const weights = f.criteria.reduce((sum, c) => sum + c.weight, 0);
  const earned = f.criteria.reduce((sum, c) => sum + (c.weight * (qa.answers[c.key] ?? 0)) / c.max_points, 0);
  return Math.round((1000 * earned) / weights) / 10;
}

function button(key, onClick, vars) {
  const b = el("button", w(key, vars));
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function renderQueue() {
  const body = $("queue");
  body.replaceChildren();
  $("queue-empty").hidden = qa.queue.length > 0;
  for (const s of qa.queue) {
    const tr = el("tr");
    tr.dataset.callId = s.call_id;
    tr.append(el("td", s.agent_name), el("td", when(s.started_at)),
      el("td", w("seconds", { n: Math.round(s.talk_seconds || 0) })), el("td", s.queue || ""),
      el("td", w(`st_${s.state}`)));
    const actions = el("td", null, "actions");
    actions.append(button("score", () => act(() => openCall(s.call_id), false)));
    tr.append(actions);
    body.append(tr);
  }
}

function detailsText(score) {
  const f = form(score.form_key);
  if (!f) return "";
  return f.criteria.map((c) => `${label(qa.lang, c.label)} ${score.answers[c.key]}/${c.max_points}`).join(qa.lang === "zh" ? "；" : "; ");
}

function fatalText(score) {
  const f = form(score.form_key);
  const names = score.fatal.map((k) => label(qa.lang, f && f.fatal_errors.find((x) => x.key === k)?.label, k));
  return names.length ? w("fatal_hit", { f: names.join("、") }) : "";
}

function renderCall() {
  const c = qa.call;
  if (!c) return;
  $("scoring-title").textContent = w("scoring_title", { id: c.id });
  const facts = $("call-facts");
  facts.replaceChildren();
  for (const [key, value] of [["call_agent", c.agent_name], ["call_time", when(c.started_at)], ["call_queue", c.queue || ""]]) {
    facts.append(el("dt", w(key)), el("dd", value));
  }
  const select = $("form-key");
  select.replaceChildren(...qa.forms.forms.map((f) => {
    const o = el("option", label(qa.lang, f.label));
    o.value = f.key;
    return o;
  }));
  select.value = qa.formKey;
  const f = form(qa.formKey);
  const rows = $("criteria");
  rows.replaceChildren();
  for (const crit of f.criteria) {
    const id = `pts-${crit.key}`;
    const lab = el("label", label(qa.lang, crit.label));
    lab.htmlFor = id;
    const pick = el("select", null, "points");
    pick.id = id;
    pick.dataset.key = crit.key;
    for (let n = crit.max_points; n >= 0; n -= 1) {
      const o = el("option", n);
      o.value = String(n);
      pick.append(o);
    }
    pick.value = String(qa.answers[crit.key]);
    pick.addEventListener("change", () => { qa.answers[crit.key] = Number(pick.value); $("total").textContent = localTotal(); });
    const tr = el("tr");
    const first = el("td");
    first.append(lab);
    const last = el("td");
    last.append(pick, el("span", ` / ${crit.max_points}`));
    tr.append(first, el("td", crit.weight), last);
    rows.append(tr);
  }
  const fatal = $("fatal-list");
  fatal.replaceChildren();
  for (const item of f.fatal_errors) {
    const lab = el("label");
    const box = el("input");
    box.type = "checkbox";
    box.value = item.key;
    box.checked = qa.fatal.has(item.key);
    box.addEventListener("change", () => {
      if (box.checked) qa.fatal.add(item.key); else qa.fatal.delete(item.key);
      $("total").textContent = localTotal();
    });
    lab.append(box, el("span", label(qa.lang, item.label)));
    fatal.append(lab);
  }
  $("total").textContent = localTotal();
  const list = $("call-scores");
  list.replaceChildren();
  for (const s of c.scores) {
    const li = el("li", `${when(s.created_at)} · ${s.inspector_name} · ${w("total")} ${s.total}`);
    if (s.superseded_by) { li.className = "superseded"; li.append(el("span", w("superseded"))); }
    const fatalNote = fatalText(s);
    if (fatalNote) li.append(el("span", ` · ${fatalNote}`, "fatal-hit"));
    if (s.comment) li.append(el("div", s.comment, "hint"));
    list.append(li);
  }
}

function renderEvaluation(target, evaluation) {
  target.replaceChildren();
  if (!evaluation) return;
  const grid = el("div", null, "angles");
  const cell = (name, score, note) => {
    const box = el("div", null, "angle");
    box.dataset.angle = name;
    box.append(el("div", w(`a_${name}`)), el("div", score === null ? "—" : score, "value"), el("div", note, "hint"));
    return box;
  };
  grid.append(cell("overall", evaluation.overall, w("eval_window", { d: evaluation.days })));
  for (const a of evaluation.angles) {
    grid.append(cell(a.name, a.score, a.count ? w("a_count", { n: a.count }) : w("a_none")));
  }
  target.append(grid);
  if (evaluation.ratings && evaluation.ratings.length) {
    const list = el("ul", null, "list");
    for (const r of evaluation.ratings.slice(0, 5)) {
      list.append(el("li", `${r.period} · ${r.rater_name} · ${r.score}/5${r.comment ? ` · ${r.comment}` : ""}`));
    }
    target.append(list);
  }
}

function scoreRows(body, scores, withDetails) {
  body.replaceChildren();
  for (const s of scores) {
    const tr = el("tr");
    tr.dataset.scoreId = s.id;
    if (s.superseded_by) tr.className = "superseded";
    const total = el("td", s.total);
    const fatalNote = fatalText(s);
    if (fatalNote) total.append(el("div", fatalNote, "fatal-hit"));
    tr.append(el("td", when(s.call_started_at)), total);
    if (withDetails) tr.append(el("td", detailsText(s)));
    else tr.append(el("td", s.inspector_name));
    tr.append(el("td", s.comment || ""));
    if (withDetails) tr.append(el("td", s.inspector_name));
    body.append(tr);
  }
}

function renderAgents() {
  const pick = $("agent-pick");
  const chosen = qa.agentId ? String(qa.agentId) : "";
  const none = el("option", w("choose_agent"));
  none.value = "";
  pick.replaceChildren(none, ...qa.agents.map((a) => {
    const o = el("option", a.extension ? `${a.display_name} · ${a.extension}` : a.display_name);
    o.value = String(a.id);
    return o;
  }));
  pick.value = chosen;
  $("rating-form").hidden = !qa.agentId || !RATERS.has(session.user?.role);
  renderEvaluation($("agent-eval"), qa.agentEval);
  scoreRows($("agent-scores"), qa.agentScores, false);
}

function render() {
  if (qa.said) $("status").textContent = w(qa.said.key, qa.said.vars);
  if (!session.user) return;
  if (INSPECTORS.has(session.user.role)) {
    renderQueue();
    renderCall();
    renderAgents();
  } else {
    $("my-empty").hidden = qa.myScores.length > 0;
    renderEvaluation($("my-eval"), qa.myEval);
    scoreRows($("my-scores"), qa.myScores, true);
  }
}

setLang(qa.lang);
if (session.token) showPage();
else showSignIn();
