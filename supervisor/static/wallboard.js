// The wallboard: live tiles per queue, two charts (SVG drawn here) and the alerts, from
// the supervisor websocket /ws/supervisor (supervisor/live_api.py). Plain ES modules, no
// build step; the staff sign-in is staff.js (over the desktop's /desk/api.js). Everything the
// server sends is inserted as text (textContent), never as HTML.
import { $, el, staffPage } from "/supervisor/staff.js";
import { applyWords, reasonLabel, t } from "./wallboard-i18n.js";

const HISTORY_MS = 10 * 60 * 1000;
const SVG = "http://www.w3.org/2000/svg";

const wb = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  snapshot: null, alerts: [], history: [], frames: 0, ws: null, delay: 500, stopped: true,
};
window.hotlineWallboard = wb;  // tests read the last snapshot from here
const { session, begin } = staffPage({
  state: wb, t, applyWords, render: () => render(),
  start: (user) => {
    $("me").textContent = user.display_name;
    wb.stopped = false;
    open();
  },
  stop: () => stop(),
});
session.onToken((token) => send({ type: "auth", token }));

// -- the socket -------------------------------------------------------------------------

function send(message) {
  if (wb.ws && wb.ws.readyState === WebSocket.OPEN) wb.ws.send(JSON.stringify(message));
}

function link(on) {
  $("link").dataset.state = on ? "on" : "off";
  $("link").textContent = t(wb.lang, on ? "link_on" : "link_retry");
}

function open() {
  if (wb.stopped || !session.token || wb.ws) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/supervisor`);
  wb.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: session.token }));
  ws.onmessage = (event) => receive(JSON.parse(event.data));
  ws.onclose = (event) => {
    if (wb.ws !== ws) return;
    wb.ws = null;
    clearInterval(wb.pinger);
    link(false);
    if (wb.stopped) return;
    const retry = () => setTimeout(open, wb.delay);
    wb.delay = Math.min(wb.delay * 2, 10_000);
    if (event.code === 1008) session.refresh().then(retry);  // expired or signed out
    else retry();
  };
  wb.pinger = setInterval(() => send({ type: "ping" }), 25_000);
}

function stop() {
  wb.stopped = true;
  clearInterval(wb.pinger);
  if (wb.ws) wb.ws.close(1000, "signed out");
  wb.ws = null;
}

function receive(frame) {
  wb.frames += 1;
  if (frame.type === "hello") {
    wb.reasonLabels = frame.reason_labels || {};  // config.yaml's labels
    wb.delay = 500;
    link(true);
  } else if (frame.type === "snapshot") {
    wb.snapshot = frame;
    const now = Date.now();
    wb.history.push([now, frame.total.waiting]);
    wb.history = wb.history.filter(([at]) => at > now - HISTORY_MS);
    mergeAlerts(frame.alerts || []);
    render();
  } else if (frame.type === "alert") {
    mergeAlerts([frame.alert]);
    renderAlerts();
  }
}

function mergeAlerts(alerts) {
  const known = new Set(wb.alerts.map((a) => a.id));
  for (const a of alerts) if (!known.has(a.id)) wb.alerts.push(a);
  wb.alerts.sort((a, b) => b.at - a.at);
  wb.alerts = wb.alerts.slice(0, 50);
}

// -- formatting -------------------------------------------------------------------------

const pct = (v) => (v === null || v === undefined ? t(wb.lang, "none") : `${(v * 100).toFixed(1)}%`);
function duration(seconds) {
  if (seconds === null || seconds === undefined) return t(wb.lang, "none");
  const n = Math.max(0, Math.round(seconds));
  return n < 60 ? t(wb.lang, "seconds", { n }) : t(wb.lang, "minutes", { m: Math.floor(n / 60), s: n % 60 });
}
const queueLabel = (name) => {
  const q = (wb.snapshot?.queues || []).find((x) => x.queue === name);
  return q ? q.label[wb.lang] || name : name || "";
};

// -- rendering --------------------------------------------------------------------------

function render() {
  const s = wb.snapshot;
  if (!s) return;
  $("updated").textContent = t(wb.lang, "updated", {
    time: new Date(s.at * 1000).toLocaleTimeString(wb.lang === "zh" ? "zh-CN" : "en-GB"),
  });
  renderTiles(s);
  renderSlChart(s);
  renderWaitingChart();
  renderAlerts();
  renderAgents(s);
}

function tile(title, m, agents, waiting, longest, target, key, pending) {
  const box = el("article", null, "tile");
  box.dataset.queue = key;
  const low = target && m.service_level !== null && m.service_level * 100 < target.percent;
  box.dataset.alert = String(Boolean(low));
  box.append(el("h2", title));
  const big = el("div", null, "big");
  const slCell = el("div");
  slCell.append(el("b", pct(m.service_level), low ? "low" : ""), el("span", t(wb.lang, "sl")));
  for (const [value, key2, name] of [[waiting, "waiting", "waiting"], [duration(longest), "longest", "longest"]]) {
    const cell = el("div");
    const b = el("b", value);
    b.dataset.field = name;
    cell.append(b, el("span", t(wb.lang, key2)));
    big.append(cell);
  }
  slCell.firstChild.dataset.field = "service_level";
  big.append(slCell);
  box.append(big);
  if (target) box.append(el("p", t(wb.lang, "target", { p: target.percent, s: target.seconds }), "target"));
  const dl = el("dl");
  const facts = [
    ["asa", duration(m.asa_seconds)], ["aht", duration(m.aht_seconds)], ["sl_offered", pct(m.service_level_offered)],
    ["offered", m.offered], ["answered", m.answered], ["abandoned", m.abandoned],
    ["ready", agents.ready], ["on_call", agents.on_call], ["wrap_up", agents.wrap_up],
    ["not_ready", agents.not_ready], ["callbacks", m.callbacks], ["occupancy", pct(m.occupancy)],
    ["callbacks_pending", pending ?? 0],
  ];
  if (!key) facts.push(["tickets", m.tickets ?? 0]);  // tickets belong to no queue
  for (const [name, value] of facts) {
    const wrap = el("div");
    const dd = el("dd", value);
    dd.dataset.field = name;
    wrap.append(el("dt", t(wb.lang, name)), dd);
    dl.append(wrap);
  }
  box.append(dl);
  return box;
}

function renderTiles(s) {
  const tiles = $("tiles");
  tiles.replaceChildren(
    tile(t(wb.lang, "center"), s.total, s.agents_total, s.total.waiting, s.total.longest_wait_seconds, null, "", s.total.callbacks_pending),
    ...s.queues.map((q) => tile(q.label[wb.lang] || q.queue, q.metrics, q.agents, q.waiting, q.longest_wait_seconds, q.target, q.queue, q.callbacks_pending)),
  );
  tiles.firstChild.classList.add("center");
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderSlChart(s) {
  const W = 360, H = 180, left = 34, bottom = 40, top = 10;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t(wb.lang, "chart_sl") });
  const y = (v) => top + (H - top - bottom) * (1 - v);
  for (const v of [0, 0.5, 1]) {
    root.append(svg("line", { x1: left, x2: W - 4, y1: y(v), y2: y(v), stroke: "#ddd" }));
    root.append(svg("text", { x: 2, y: y(v) + 4 }, `${v * 100}%`));
  }
  const n = Math.max(1, s.queues.length);
  const band = (W - left - 4) / n;
  s.queues.forEach((q, i) => {
    const x = left + i * band + band * 0.2;
    const w = band * 0.6;
    const v = q.metrics.service_level;
    const target = q.target.percent / 100;
    if (v !== null) {
      root.append(svg("rect", {
        x, y: y(v), width: w, height: y(0) - y(v), fill: v < target ? "#c62828" : "#2e7d32",
        "data-queue": q.queue,
      }));
    }
    root.append(svg("line", { x1: x - 3, x2: x + w + 3, y1: y(target), y2: y(target), stroke: "#1565c0", "stroke-width": 2 }));
    root.append(svg("text", { x: x + w / 2, y: H - bottom + 14, "text-anchor": "middle" }, q.label[wb.lang] || q.queue));
    root.append(svg("text", { x: x + w / 2, y: H - bottom + 28, "text-anchor": "middle" }, pct(v)));
  });
  $("chart-sl").replaceChildren(root);
}

function renderWaitingChart() {
  const W = 360, H = 180, left = 30, bottom = 20, top = 10;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t(wb.lang, "chart_waiting") });
  const now = Date.now();
  const max = Math.max(4, ...wb.history.map(([, v]) => v));
  const x = (at) => left + (W - left - 4) * (1 - (now - at) / HISTORY_MS);
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  for (const v of [0, max]) {
    root.append(svg("line", { x1: left, x2: W - 4, y1: y(v), y2: y(v), stroke: "#ddd" }));
    root.append(svg("text", { x: 4, y: y(v) + 4 }, String(v)));
  }
  if (wb.history.length) {
    const points = wb.history.map(([at, v]) => `${x(at).toFixed(1)},${y(v).toFixed(1)}`);
    points.push(`${x(now).toFixed(1)},${y(wb.history[wb.history.length - 1][1]).toFixed(1)}`);
    root.append(svg("polyline", { points: points.join(" "), fill: "none", stroke: "#1565c0", "stroke-width": 2 }));
  }
  $("chart-waiting").replaceChildren(root);
}

function alertText(a) {
  const lang = wb.lang;
  if (a.kind === "service_level") {
    return t(lang, "a_service_level", { queue: queueLabel(a.queue), sl: pct(a.service_level), target: a.target_percent });
  }
  if (a.kind === "long_wait") {
    return t(lang, "a_long_wait", { queue: queueLabel(a.queue), caller: a.caller_number || "", wait: duration(a.wait_seconds) });
  }
  if (a.kind === "customer.read_volume") {
    return t(lang, "a_customer.read_volume", { agent: a.agent_name || a.agent || "", n: a.reads, m: a.window_minutes });
  }
  if (a.kind === "sms.failed") {
    return t(lang, "a_sms.failed", { number: a.number || "", n: a.attempts || 0, error: a.error || "" });
  }
  const ticket = a.ticket || {};
  let text = t(lang, `a_${a.kind}`, {
    number: ticket.number || ticket.id || "", subject: ticket.subject || "", clock: t(lang, `clock_${a.clock}`),
  });
  if (a.level >= 2) text += t(lang, "escalated", { level: a.level - 1 });
  return text;
}

function renderAlerts() {
  const list = $("alerts");
  if (!wb.alerts.length) {
    list.replaceChildren(el("li", t(wb.lang, "alerts_empty"), "hint"));
    return;
  }
  list.replaceChildren(...wb.alerts.map((a) => {
    const li = el("li");
    li.dataset.kind = a.kind;
    const at = new Date(a.at * 1000);
    li.append(el("time", at.toLocaleTimeString(wb.lang === "zh" ? "zh-CN" : "en-GB")), document.createTextNode(alertText(a)));
    return li;
  }));
}

function renderAgents(s) {
  const rows = s.agents.filter((a) => a.state !== "logged_out").map((a) => {
    const tr = el("tr");
    tr.dataset.state = a.state;
    let state = t(wb.lang, `st_${a.state}`);
    if (a.reason) state += ` · ${reasonLabel(wb.lang, wb.reasonLabels, a.reason)}`;
    const caller = a.caller_number ? `${a.caller_number} · ${queueLabel(a.queue)}` : "";
    for (const text of [`${a.name || ""} ${a.extension || ""}`.trim(), state, duration(a.seconds_in_state), a.handled, caller]) {
      tr.append(el("td", text));
    }
    return tr;
  });
  $("agents").replaceChildren(...rows);
}

begin();
