// The reports page: GET /api/reports as a table, /api/reports/chart (format=json) drawn
// here as line, bar and pie charts (SVG built below, no library), CSV/PNG/SVG downloads
// through the same API, and the staffing forecast (GET /api/reports/staffing). Plain ES
// module, no build step; server text is inserted with textContent, never as HTML.
import { Session } from "/desk/api.js";
import { applyWords, t } from "./reports-i18n.js";

const READERS = new Set(["supervisor", "qa", "admin"]);
const SHOWN = ["offered", "answered", "abandoned", "service_level", "abandon_rate",
  "asa_seconds", "aht_seconds", "occupancy", "survey_average", "tickets"];
const RATIOS = new Set(["service_level", "service_level_offered", "abandon_rate", "occupancy",
  "first_contact_resolution", "survey_satisfied", "sla_resolution_rate"]);
const METRICS = ["offered", "answered", "abandoned", "short_abandoned", "callbacks", "overflowed",
  "service_level", "service_level_offered", "abandon_rate", "asa_seconds", "aht_seconds", "occupancy",
  "transfers", "first_contact_resolution", "surveys", "survey_average", "survey_satisfied", "tickets",
  "sla_response_met", "sla_response_breached", "sla_resolution_met", "sla_resolution_breached",
  "sla_resolution_rate"];
const COLORS = ["#1f6feb", "#d4380d", "#389e0d", "#c41d7f", "#d48806", "#08979c", "#531dab", "#5c5c5c"];
const SVG_NS = "http://www.w3.org/2000/svg";

const rp = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  report: null, charts: {}, staffing: null, query: null,
  asked: { report: 0, staffing: 0 }, // only the latest request's answer is shown
};
window.hotlineReports = rp; // tests read the last answers from here
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};
const w = (key, vars) => t(rp.lang, key, vars);
const session = new Session(() => showSignIn(w("expired")));

// -- sign-in ------------------------------------------------------------------------------

function showSignIn(message = "") {
  $("board").hidden = $("logout").hidden = $("me").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("username").focus();
}

function showBoard() {
  const user = session.user;
  if (!user || !READERS.has(user.role)) {
    if (user) session.logout().catch(() => {});
    showSignIn(w("not_reader"));
    return;
  }
  $("signin").hidden = true;
  $("board").hidden = $("logout").hidden = $("me").hidden = false;
  $("me").textContent = user.display_name;
  runReport();
  runStaffing();
}

function setLang(lang) {
  rp.lang = lang;
  localStorage.setItem("hotline.lang", lang);
  applyWords(lang);
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  fillMetrics();
  if (session.token && !$("board").hidden) {
    runReport();
    if (rp.staffing) runStaffing();
  }
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await session.login($("username").value.trim(), $("password").value);
    $("password").value = "";
    showBoard();
  } catch (err) {
    $("signin-error").textContent = err.message;
  }
});
$("logout").addEventListener("click", async () => {
  await session.logout().catch(() => {});
  showSignIn();
});
$("lang").addEventListener("click", () => setLang(rp.lang === "zh" ? "en" : "zh"));

// -- formatting ---------------------------------------------------------------------------

function fmt(metric, value) {
  if (value === null || value === undefined) return "–";
  if (RATIOS.has(metric)) return `${(value * 100).toFixed(1)}%`;
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(1);
}

function fillMetrics() {
  const select = $("metric");
  const chosen = select.value || "offered";
  select.replaceChildren(...METRICS.map((m) => new Option(w(`m_${m}`), m)));
  select.value = chosen;
}

const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

// -- report -------------------------------------------------------------------------------

function reportParams(extra = {}) {
  const p = new URLSearchParams({
    interval: $("interval").value, dimension: $("dimension").value,
    from: $("from").value, to: $("to").value, lang: rp.lang, ...extra,
  });
  return p.toString();
}

async function runReport() {
  if (!$("from").value) {
    const today = new Date();
    const start = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6);
    $("from").value = isoDay(start);
    $("to").value = isoDay(today);
  }
  $("status").className = "hint";
  $("status").textContent = w("loading");
  const metric = $("metric").value || "offered";
  const ask = ++rp.asked.report;
  try {
    const [report, line, bar, pie] = await Promise.all([
      session.call("GET", `/api/reports?${reportParams()}`),
      ...["line", "bar", "pie"].map((kind) => session.call(
        "GET", `/api/reports/chart?${reportParams({ kind, metric, title: w(`m_${metric}`), format: "json" })}`)),
    ]);
    if (ask !== rp.asked.report) return;
    rp.report = report;
    rp.charts = { line, bar, pie };
    rp.query = reportParams();
    renderReport();
    $("status").textContent = report.rows.length
      ? w("loaded", { n: report.rows.length, from: report.from, to: report.to }) : w("no_data");
    for (const id of ["dl-csv", "dl-png", "dl-svg"]) $(id).disabled = false;
  } catch (err) {
    if (ask !== rp.asked.report) return;
    $("status").className = "error";
    $("status").textContent = err.message;
  }
}

function renderReport() {
  const r = rp.report;
  const metric = $("metric").value || "offered";
  const columns = SHOWN.includes(metric) ? SHOWN : [...SHOWN, metric];
  $("report-head").replaceChildren(el("th", w("h_start")), el("th", w("h_key")),
    ...columns.map((m) => el("th", w(`m_${m}`))));
  const when = (iso) => (r.interval === "day" ? iso.slice(0, 10)
    : r.interval === "month" ? iso.slice(0, 7) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`);
  $("report-rows").replaceChildren(...r.rows.map((row) => {
    const tr = el("tr");
    tr.dataset.key = row.key;
    tr.dataset.start = row.interval_start;
    tr.append(el("td", when(row.interval_start)), el("td", row.label));
    for (const m of columns) {
      const td = el("td", fmt(m, row[m]), "num");
      td.dataset.metric = m;
      tr.append(td);
    }
    return tr;
  }));
  const foot = el("tr");
  foot.append(el("th", w("total")), el("th", ""), ...columns.map((m) => {
    const td = el("td", fmt(m, r.total[m]), "num");
    td.dataset.metric = m;
    return td;
  }));
  $("report-total").replaceChildren(foot);
  drawLine($("chart-line"), rp.charts.line, metric);
  drawBar($("chart-bar"), rp.charts.bar, metric);
  drawPie($("chart-pie"), rp.charts.pie, metric);
}

$("report-form").addEventListener("submit", (event) => {
  event.preventDefault();
  runReport();
});
$("metric").addEventListener("change", () => { if (rp.report) runReport(); });

// -- downloads (the API's own CSV, PNG and SVG: the files match the report API) -----------

async function download(path, fallback) {
  try {
    const r = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!r.ok) {
      const body = await r.json().catch(() => null);
      throw new Error((body && body.message) || `HTTP ${r.status}`);
    }
    const blob = await r.blob();
    const match = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
    const name = match ? match[1] : fallback;
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    $("status").className = "ok";
    $("status").textContent = w("downloaded", { name });
  } catch (err) {
    $("status").className = "error";
    $("status").textContent = err.message;
  }
}

const chartPath = (format) => {
  const metric = $("metric").value || "offered";
  return `/api/reports/chart?${reportParams({ kind: $("dl-kind").value, metric, title: w(`m_${metric}`), format })}`;
};
$("dl-csv").addEventListener("click", () => download(`/api/reports?${reportParams({ format: "csv" })}`, "report.csv"));
$("dl-png").addEventListener("click", () => download(chartPath("png"), "chart.png"));
$("dl-svg").addEventListener("click", () => download(chartPath("svg"), "chart.svg"));

// -- charts (SVG) -------------------------------------------------------------------------

function svgNode(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function frame(box, title, width = 520, height = 260) {
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart-svg" });
  svg.append(svgNode("title", {}, title));
  box.replaceChildren(svg);
  return svg;
}

// A round axis top (1, 2, 2.5 or 5 × 10^k) divided into four ticks.
function niceMax(values) {
  const max = Math.max(0, ...values.filter((v) => v !== null && Number.isFinite(v)));
  if (max <= 0) return 1;
  const step = max / 4;
  const unit = 10 ** Math.floor(Math.log10(step));
  const nice = [1, 2, 2.5, 5, 10].find((m) => m * unit >= step) * unit;
  return nice * 4;
}

function axes(svg, left, top, right, bottom, max, metric) {
  for (let i = 0; i <= 4; i += 1) {
    const y = bottom - ((bottom - top) * i) / 4;
    const value = (max * i) / 4;
    const text = RATIOS.has(metric) ? fmt(metric, value) : String(Number(value.toFixed(2)));
    svg.append(svgNode("line", { x1: left, x2: right, y1: y, y2: y, class: "grid" }));
    svg.append(svgNode("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, text));
  }
}

function legend(svg, names, x, y) {
  names.forEach((name, i) => {
    svg.append(svgNode("rect", { x, y: y + i * 16, width: 10, height: 10, fill: COLORS[i % COLORS.length] }));
    svg.append(svgNode("text", { x: x + 14, y: y + i * 16 + 9, class: "tick" }, name));
  });
}

export function drawLine(box, data, metric, { width = 520, height = 260, legendWidth = 120, every = 0 } = {}) {
  const svg = frame(box, data.title, width, height);
  const left = 48, top = 12, right = width - legendWidth, bottom = height - 36;
  const all = data.series.flatMap((s) => s.values);
  const max = niceMax(all);
  axes(svg, left, top, right, bottom, max, metric);
  const n = data.x.length;
  const xAt = (i) => (n <= 1 ? (left + right) / 2 : left + ((right - left) * i) / (n - 1));
  const yAt = (v) => bottom - ((bottom - top) * v) / max;
  const step = every || Math.max(1, Math.ceil(n / 6));
  data.x.forEach((label, i) => {
    if (i % step === 0) svg.append(svgNode("text", { x: xAt(i), y: bottom + 16, "text-anchor": "middle", class: "tick" }, label));
  });
  data.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    let d = "";
    s.values.forEach((v, i) => {
      if (v === null) return;
      d += `${d && s.values[i - 1] !== null ? "L" : "M"}${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`;
    });
    svg.append(svgNode("path", { d, fill: "none", stroke: color, "stroke-width": 2, class: "series" }));
    s.values.forEach((v, i) => {
      if (v === null || n > 60) return;
      const dot = svgNode("circle", { cx: xAt(i), cy: yAt(v), r: 3, fill: color, class: "point" });
      dot.append(svgNode("title", {}, `${s.name} ${data.x[i]}: ${fmt(metric, v)}`));
      svg.append(dot);
    });
  });
  legend(svg, data.series.map((s) => s.name), right + 12, top);
}

function drawBar(box, data, metric) {
  const svg = frame(box, data.title);
  const left = 48, top = 12, right = 500, bottom = 224;
  const values = data.series[0]?.values || [];
  const max = niceMax(values);
  axes(svg, left, top, right, bottom, max, metric);
  const slot = (right - left) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const h = v === null ? 0 : ((bottom - top) * v) / max;
    const bar = svgNode("rect", {
      x: left + i * slot + slot * 0.15, y: bottom - h, width: slot * 0.7, height: h,
      fill: COLORS[i % COLORS.length], class: "bar",
    });
    bar.append(svgNode("title", {}, `${data.x[i]}: ${fmt(metric, v)}`));
    svg.append(bar);
    svg.append(svgNode("text", { x: left + i * slot + slot / 2, y: bottom + 16, "text-anchor": "middle", class: "tick" }, data.x[i]));
  });
}

function drawPie(box, data, metric) {
  const svg = frame(box, data.title);
  const values = (data.series[0]?.values || []).map((v) => (v && v > 0 ? v : 0));
  const sum = values.reduce((a, b) => a + b, 0);
  const cx = 130, cy = 130, r = 110;
  if (sum <= 0) {
    svg.append(svgNode("circle", { cx, cy, r, fill: "#eee" }));
  } else {
    let angle = -Math.PI / 2;
    values.forEach((v, i) => {
      if (!v) return;
      const share = v / sum;
      const end = angle + share * 2 * Math.PI;
      const node = share >= 0.9999
        ? svgNode("circle", { cx, cy, r, fill: COLORS[i % COLORS.length], class: "slice" })
        : svgNode("path", {
          d: `M${cx},${cy} L${cx + r * Math.cos(angle)},${cy + r * Math.sin(angle)} A${r},${r} 0 ${share > 0.5 ? 1 : 0} 1 ${cx + r * Math.cos(end)},${cy + r * Math.sin(end)} Z`,
          fill: COLORS[i % COLORS.length], class: "slice",
        });
      node.append(svgNode("title", {}, `${data.x[i]}: ${fmt(metric, v)} (${(share * 100).toFixed(1)}%)`));
      svg.append(node);
      angle = end;
    });
  }
  legend(svg, data.x.map((x, i) => `${x}: ${fmt(metric, values[i])}`), 260, 20);
}

// -- staffing -----------------------------------------------------------------------------

async function runStaffing() {
  const params = new URLSearchParams({ lang: rp.lang });
  if ($("st-week").value) params.set("week_start", $("st-week").value);
  if ($("st-weeks").value) params.set("weeks", $("st-weeks").value);
  $("st-status").className = "hint";
  $("st-status").textContent = w("loading");
  const ask = ++rp.asked.staffing;
  try {
    const answer = await session.call("GET", `/api/reports/staffing?${params}`);
    if (ask !== rp.asked.staffing) return;
    rp.staffing = answer;
    rp.staffingQuery = params.toString();
    const s = rp.staffing;
    $("st-week").value = s.week_start;
    $("st-weeks").value = s.weeks;
    let text = w("st_loaded", { from: s.week_start, to: s.week_end, weeks: s.weeks, hfrom: s.history_from, hto: s.history_to });
    if (s.holidays.length) text += ` ${w("st_holidays", { days: s.holidays.join(", ") })}`;
    $("st-status").textContent = text;
    fillStaffingChoices();
    renderStaffing();
    $("st-csv").disabled = false;
  } catch (err) {
    if (ask !== rp.asked.staffing) return;
    $("st-status").className = "error";
    $("st-status").textContent = err.message;
  }
}

function fillStaffingChoices() {
  const s = rp.staffing;
  const queue = $("st-queue");
  const chosenQueue = queue.value || "";
  queue.replaceChildren(new Option(w("all_queues"), ""), ...s.queues.map((q) => new Option(q.label, q.queue)));
  queue.value = s.queues.some((q) => q.queue === chosenQueue) ? chosenQueue : "";
  const day = $("st-day");
  const chosenDay = day.value;
  const names = w("weekdays").split(",");
  const days = [];
  for (let i = 0; i < 7; i += 1) {
    const d = new Date(`${s.week_start}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + i);
    const iso = d.toISOString().slice(0, 10);
    days.push(new Option(`${iso} ${names[(d.getUTCDay() + 6) % 7]}`, iso));
  }
  day.replaceChildren(...days);
  day.value = days.some((o) => o.value === chosenDay) ? chosenDay : days[0].value;
}

// Rows of the chosen queue, or every queue summed.
function staffingRows() {
  const s = rp.staffing;
  const chosen = $("st-queue").value;
  const signed = new Map(s.signed_in.map((x) => [x.start, x]));
  if (chosen) {
    const q = s.queues.find((x) => x.queue === chosen);
    return { queue: q, rows: q.intervals.map((r) => ({ ...r, signed: signed.get(r.start) })) };
  }
  const rows = s.signed_in.map((x, i) => {
    const parts = s.queues.map((q) => q.intervals[i]);
    const calls = parts.reduce((a, r) => a + r.calls, 0);
    return {
      start: x.start, calls, signed: x,
      aht_seconds: calls ? parts.reduce((a, r) => a + r.calls * r.aht_seconds, 0) / calls : null,
      traffic_erlangs: parts.reduce((a, r) => a + r.traffic_erlangs, 0),
      agents_needed: parts.reduce((a, r) => a + r.agents_needed, 0),
      agents_scheduled: parts.reduce((a, r) => a + r.agents_scheduled, 0),
      service_level: null, asa_seconds: null, basis: parts[0]?.basis || "weekday",
    };
  });
  return { queue: null, rows };
}

function renderStaffing() {
  const s = rp.staffing;
  const { queue, rows } = staffingRows();
  const total = rows.reduce((a, r) => a + r.calls, 0);
  const peak = Math.max(0, ...rows.map((r) => r.agents_needed));
  $("st-summary").textContent = queue
    ? w("st_summary", { queue: queue.label, calls: total.toFixed(1), peak, pct: queue.service_level.percent, sec: queue.service_level.seconds })
    : w("st_summary", { queue: w("all_queues"), calls: total.toFixed(1), peak, pct: "–", sec: "–" });
  const names = w("weekdays").split(",");
  const label = (iso) => {
    const d = new Date(`${iso.slice(0, 10)}T12:00:00Z`);
    return `${names[(d.getUTCDay() + 6) % 7]} ${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  };
  drawLine($("chart-staffing"), {
    title: w("st_chart"),
    x: rows.map((r) => label(r.start)),
    series: [
      { name: w("s_calls"), values: rows.map((r) => r.calls) },
      { name: w("s_needed"), values: rows.map((r) => r.agents_needed) },
      { name: w("s_signed"), values: rows.map((r) => r.signed?.history_agents ?? null) },
    ],
  }, "calls", { width: 1000, height: 280, legendWidth: 160, every: rows.length / 7 });
  const day = $("st-day").value;
  $("staffing-rows").replaceChildren(...rows.filter((r) => r.start.startsWith(day)).map((r) => {
    const tr = el("tr");
    tr.dataset.start = r.start;
    const cells = [
      r.start.slice(11, 16), fmt("calls", r.calls), fmt("aht", r.aht_seconds), fmt("erl", r.traffic_erlangs),
      r.agents_needed, r.agents_scheduled, fmt("service_level", r.service_level), fmt("asa", r.asa_seconds),
      fmt("agents", r.signed?.agents), fmt("agents", r.signed?.history_agents), w(`basis_${r.basis}`),
    ];
    const keys = ["interval", "calls", "aht", "erlangs", "needed", "scheduled", "sl", "asa", "signed", "signed_hist", "basis"];
    cells.forEach((c, i) => {
      const td = el("td", c, i > 0 && i < 10 ? "num" : "");
      td.dataset.col = keys[i];
      tr.append(td);
    });
    return tr;
  }));
}

$("staffing-form").addEventListener("submit", (event) => {
  event.preventDefault();
  runStaffing();
});
$("st-queue").addEventListener("change", () => { if (rp.staffing) renderStaffing(); });
$("st-day").addEventListener("change", () => { if (rp.staffing) renderStaffing(); });
$("st-csv").addEventListener("click", () => download(`/api/reports/staffing?${rp.staffingQuery}&format=csv`, "staffing.csv"));

// -- start ---------------------------------------------------------------------------------

fillMetrics();
setLang(rp.lang);
if (session.token) showBoard();
else showSignIn();
