// The supervisor page: the agent board (polled from /api/supervisor/board), listening
// sessions and waiting calls, with the actions of supervisor/api.py. Plain ES modules, no
// build step; the staff sign-in is staff.js (over the desktop's /desk/api.js). Everything
// the server sends is inserted as text (textContent), never as HTML.
import { $, el, staffPage } from "./staff.js";
import { applyWords, reasonLabel, t } from "./supervisor-i18n.js";

// Not-ready reasons are labelled by config.yaml (GET /api/supervisor/board).
const reasonOf = (reason) => reasonLabel(sv.lang, sv.board?.reason_labels, reason);

const POLL_MS = 2000;

const sv = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  board: null, spies: [], fetchedAt: 0, timer: null, editing: null,
};
window.hotlineSupervisor = sv;  // tests read the last board from here
const { session, begin } = staffPage({
  state: sv, t, applyWords, render: () => render(),
  start: (user) => {
    $("me").textContent = user.extension ? `${user.display_name} · ${user.extension}` : user.display_name;
    if (!$("my-ext").value) $("my-ext").value = user.extension || "";
    poll();
    clearInterval(sv.timer);
    sv.timer = setInterval(poll, POLL_MS);
  },
  stop: () => clearInterval(sv.timer),
});
const say = (key, vars) => { $("status").className = "ok"; $("status").textContent = t(sv.lang, key, vars); };
const fail = (err) => { $("status").className = "error"; $("status").textContent = err.message; };

function button(key, onClick, { disabled = false, dataKey = "" } = {}) {
  const b = el("button", t(sv.lang, key));
  b.type = "button";
  b.disabled = disabled;
  b.dataset.key = dataKey || key;
  b.addEventListener("click", onClick);
  return b;
}

async function act(run, key, vars) {
  try {
    await run();
    say(key, vars);
  } catch (err) {
    fail(err);
  }
  await poll();
}

// -- data -------------------------------------------------------------------------------

async function poll() {
  if (!session.token) return;
  try {
    sv.board = await session.call("GET", "/api/supervisor/board");
    sv.fetchedAt = Date.now();
    sv.spies = await session.call("GET", "/api/supervisor/spy").catch(() => []);
    $("link").dataset.state = "on";
    $("link").textContent = t(sv.lang, "link_on");
  } catch (err) {
    $("link").dataset.state = "off";
    $("link").textContent = t(sv.lang, "link_retry");
    if (err.status !== 401) $("status").textContent = err.message;
  }
  render();
}

const stateText = (a) => {
  let text = t(sv.lang, `st_${a.state}`);
  if (a.reason) text += ` · ${reasonOf(a.reason)}`;
  if (a.pending_not_ready) text += t(sv.lang, "pending", { r: reasonOf(a.pending_not_ready) });
  return text;
};

function duration(seconds) {
  const n = Math.max(0, Math.floor(seconds));
  return n < 60 ? t(sv.lang, "seconds", { n }) : t(sv.lang, "minutes", { m: Math.floor(n / 60), s: n % 60 });
}

function queueLabel(name) {
  const queue = (sv.board?.queues || []).find((q) => q.name === name);
  return queue ? queue.label[sv.lang] || name : name;
}

function skillLabel(name) {
  const skill = (sv.board?.skills || []).find((s) => s.name === name);
  return skill ? skill.label[sv.lang] || name : name;
}

// -- rendering --------------------------------------------------------------------------

function keepFocus(container, draw) {
  const key = container.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  draw();
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

function render() {
  if (!sv.board) return;
  const reason = $("reason");
  if (!reason.options.length || reason.dataset.lang !== sv.lang) {
    const chosen = reason.value;
    reason.replaceChildren(...sv.board.reasons.map((r) => new Option(reasonOf(r), r)));
    if (chosen) reason.value = chosen;
    reason.dataset.lang = sv.lang;
  }
  keepFocus($("agents"), renderAgents);
  keepFocus($("spies"), renderSpies);
  if (!$("calls").contains(document.activeElement) || document.activeElement.tagName !== "INPUT") {
    keepFocus($("calls"), renderCalls);
  }
}

function renderAgents() {
  $("agents").replaceChildren(...sv.board.agents.map((a) => {
    const row = el("tr");
    row.dataset.agentId = a.agent_id;
    row.dataset.state = a.state;
    const name = a.name || a.username || `#${a.agent_id}`;
    const badge = el("span", stateText(a), "badge");
    badge.dataset.state = a.state;
    const since = el("td", duration(a.seconds_in_state), "since");
    since.dataset.seconds = a.seconds_in_state;
    const skills = Object.entries(a.skills).map(([k, v]) => `${skillLabel(k)} ${v}`).join("，");
    const actions = el("td", null, "actions");
    const onCall = a.state === "on_call";
    const id = a.agent_id;
    for (const mode of ["listen", "whisper", "barge"]) {
      actions.append(button(mode, () => spy(id, mode), { disabled: !onCall, dataKey: `${mode}-${id}` }));
    }
    actions.append(
      button("force_not_ready", () => forceNotReady(id, name),
        { disabled: a.state === "logged_out", dataKey: `nr-${id}` }),
      button("force_sign_out", () => act(
        () => session.call("POST", `/api/supervisor/agents/${id}/sign-out`), "done_sign_out", { name }),
      { disabled: a.state === "logged_out", dataKey: `out-${id}` }),
      button("edit_skills", () => openSkills(a, name), { dataKey: `sk-${id}` }),
    );
    // The agent's call itself (callcontrol/: audited with the supervisor's name).
    for (const [action, verb] of [["call_hold", "hold"], ["call_resume", "resume"], ["call_end", "hangup"]]) {
      actions.append(button(action, () => act(
        () => session.call("POST", `/api/supervisor/agents/${id}/call/${verb}`),
        `done_${action}`, { name }),
      { disabled: !onCall, dataKey: `${action}-${id}` }));
    }
    // Recording of the agent's current call (audited; see the call's record).
    for (const action of ["rec_start", "rec_pause", "rec_resume", "rec_stop"]) {
      const verb = action.slice(4);
      actions.append(button(action, () => act(
        () => session.call("POST", `/api/calls/${encodeURIComponent(a.linkedid)}/recording/${verb}`),
        `done_${action}`, { name }),
      { disabled: !onCall || !a.linkedid, dataKey: `${action}-${id}` }));
    }
    const stateCell = el("td");
    stateCell.append(badge);
    row.append(
      el("td", a.extension ? `${name} · ${a.extension}` : name), stateCell, since, el("td", a.caller_number || ""), el("td", skills, "skills-cell"), actions,
    );
    return row;
  }));
}

function renderSpies() {
  $("spy-empty").hidden = sv.spies.length > 0;
  $("spies").replaceChildren(...sv.spies.map((s) => {
    const item = el("li");
    item.dataset.sessionId = s.session_id;
    const agent = sv.board.agents.find((a) => a.extension === s.agent_extension);
    const who = agent ? `${agent.name || agent.username} · ${s.agent_extension}` : s.agent_extension;
    const mode = s.active ? t(sv.lang, `m_${s.mode}`) : t(sv.lang, "ringing");
    item.append(el("span", `${who} — `), el("span", mode, "spy-mode"), el("br"));
    for (const m of ["listen", "whisper", "barge"]) {
      item.append(button(m, () => act(
        () => session.call("PUT", `/api/supervisor/spy/${s.session_id}`, { mode: m }),
        "done_mode", { mode: t(sv.lang, m) }), { disabled: !s.active || s.mode === m, dataKey: `${m}-${s.session_id}` }));
    }
    item.append(button("hangup", () => act(
      () => session.call("DELETE", `/api/supervisor/spy/${s.session_id}`), "done_hangup"),
    { dataKey: `hang-${s.session_id}` }));
    return item;
  }));
}

function renderCalls() {
  const calls = sv.board.calls;
  $("calls-empty").hidden = calls.length > 0;
  $("calls").closest("table").hidden = calls.length === 0;
  // The line order uses the priority after ageing (routing.ageing): "raise" goes above it.
  const rank = (c) => c.effective_priority ?? c.priority;
  const top = Math.max(0, ...calls.map(rank));
  $("calls").replaceChildren(...calls.map((c) => {
    const row = el("tr");
    row.dataset.callId = c.call_id;
    const input = el("input");
    Object.assign(input, { type: "number", min: 0, max: 100000, value: c.priority });
    input.dataset.key = `p-${c.call_id}`;
    input.setAttribute("aria-label", `${t(sv.lang, "h_priority")} ${c.caller_number || c.call_id}`);
    const setTo = (p) => act(
      () => session.call("PUT", `/api/supervisor/calls/${encodeURIComponent(c.call_id)}/priority`, { priority: p }),
      "done_priority", { call: c.caller_number || c.call_id, p });
    const cell = el("td", null, "actions");
    cell.append(
      button("set_priority", () => setTo(Number(input.value)), { dataKey: `set-${c.call_id}` }),
      button("raise", () => setTo(top + 1), { disabled: rank(c) === top && calls.length > 1, dataKey: `up-${c.call_id}` }),
    );
    const prio = el("td");
    prio.append(input);
    row.append(el("td", c.caller_number || c.call_id), el("td", queueLabel(c.queue)),
      el("td", duration(c.wait_seconds)), prio, cell);
    return row;
  }));
}

// Time in state ticks between polls.
setInterval(() => {
  const extra = (Date.now() - sv.fetchedAt) / 1000;
  for (const cell of document.querySelectorAll("#agents td.since")) {
    cell.textContent = duration(Number(cell.dataset.seconds) + extra);
  }
}, 1000);

// -- actions ----------------------------------------------------------------------------

function spy(agentId, mode) {
  const extension = $("my-ext").value.trim();
  const body = { mode };
  if (extension && extension !== session.user.extension) body.extension = extension;
  return act(() => session.call("POST", `/api/supervisor/agents/${agentId}/spy`, body),
    "done_spy", { ext: extension || session.user.extension });
}

function forceNotReady(agentId, name) {
  const reason = $("reason").value;
  return act(() => session.call("POST", `/api/supervisor/agents/${agentId}/not-ready`, { reason }),
    "done_not_ready", { name });
}

function openSkills(agent, name) {
  sv.editing = { agent, name };
  $("skills-title").textContent = t(sv.lang, "skills_of", { name });
  $("skills-error").textContent = "";
  $("skills-rows").replaceChildren(...sv.board.skills.flatMap((s) => {
    const input = el("input");
    Object.assign(input, { type: "number", min: 0, max: 10, id: `skill-${s.name}`, name: s.name });
    input.value = agent.skills[s.name] || 0;
    const lab = el("label", s.label[sv.lang] || s.name);
    lab.htmlFor = input.id;
    return [lab, input];
  }));
  for (const box of document.querySelectorAll("#skills-form input[name=lang]")) {
    box.checked = agent.languages.includes(box.value);
  }
  $("skills-dialog").showModal();
}

$("skills-form").addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "save") return;  // cancel closes the dialog
  event.preventDefault();
  const { agent, name } = sv.editing;
  const skills = {};
  for (const input of $("skills-rows").querySelectorAll("input")) {
    const level = Number(input.value);
    if (level > 0) skills[input.name] = level;
  }
  const languages = [...document.querySelectorAll("#skills-form input[name=lang]:checked")].map((b) => b.value);
  try {
    await session.call("PUT", `/api/supervisor/agents/${agent.agent_id}/skills`, { skills, languages });
    $("skills-dialog").close();
    say("done_skills", { name });
    await poll();
  } catch (err) {
    $("skills-error").textContent = err.message;
  }
});

begin();
