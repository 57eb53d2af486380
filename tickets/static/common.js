// What the workbench page and its print view share: DOM helpers, the signed-in Session
// (the desktop's /desk/api.js: token in sessionStorage), authorised binary reads (an
// attachment, a recording) and formatting. Everything is inserted as text, never as HTML.
import { ApiError, Session } from "/desk/api.js";
import { label, t } from "./workbench-i18n.js";

export const $ = (id) => document.getElementById(id);
export const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};

export const wb = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  context: null,
  offset: 0, // server clock minus this browser's clock (ms): countdowns follow the server
};
export const w = (key, vars) => t(wb.lang, key, vars);

export function newSession(onExpired) {
  return new Session(onExpired);
}

// GET a binary resource with the bearer token: an object URL for <img>, <audio>, links.
export async function blobUrl(session, path) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  if (!r.ok) {
    const body = await r.json().catch(() => null);
    if (r.status === 401) session.expire();
    throw new ApiError(r.status, body);
  }
  return URL.createObjectURL(await r.blob());
}

// POST multipart (the attachment upload) with the bearer token.
export async function upload(session, path, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const r = await fetch(path, {
    method: "POST", body: form,
    headers: { Authorization: `Bearer ${session.token}`, Accept: "application/json" },
  });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    if (r.status === 401) session.expire();
    throw new ApiError(r.status, body);
  }
  return body;
}

export function syncClock(serverNow) {
  if (serverNow) wb.offset = Date.parse(serverNow) - Date.now();
}
const serverNow = () => Date.now() + wb.offset;

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const tz = wb.context?.timezone;
  return d.toLocaleString(wb.lang === "zh" ? "zh-CN" : "en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hour12: false, ...(tz ? { timeZone: tz } : {}),
  });
}

export function span(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = [];
  if (d) parts.push(w("d", { n: d }));
  if (d || h) parts.push(w("h", { n: h }));
  parts.push(w("m", { n: m }));
  if (!d) parts.push(w("s", { n: String(s).padStart(2, "0") }));
  return parts.join(wb.lang === "zh" ? "" : " ");
}

// A live SLA countdown: <span class="countdown" data-due data-clock data-sla>. The state
// the server computed (warning) stays; a deadline passing in front of you turns it breached.
export function countdown(item) {
  const node = el("span", "", "countdown");
  node.dataset.sla = item.sla_state;
  if (item.sla_due_at) {
    node.dataset.due = item.sla_due_at;
    node.dataset.clock = item.sla_clock || "";
  }
  tickOne(node);
  return node;
}

function tickOne(node) {
  if (!node.dataset.due) {
    node.textContent = w(`sla_${node.dataset.sla}`);
    return;
  }
  const left = Date.parse(node.dataset.due) - serverNow();
  const clock = w(`clock_${node.dataset.clock}`);
  if (left <= 0) node.dataset.sla = "breached";
  node.textContent = left > 0 ? w("left", { clock, t: span(left) }) : w("over", { clock, t: span(-left) });
  node.title = w(`sla_${node.dataset.sla}`);
}

export function tickCountdowns() {
  for (const node of document.querySelectorAll(".countdown")) tickOne(node);
}

export const departmentLabel = (name) => {
  const d = (wb.context?.departments || []).find((x) => x.name === name);
  return d ? label(wb.lang, d.label, name) : name;
};
export const categoryLabel = (name) => {
  const c = (wb.context?.categories || []).find((x) => x.name === name);
  return c ? label(wb.lang, c.label, name) : name;
};
export const staffName = (id) => (wb.context?.staff || []).find((s) => s.id === id)?.display_name;

export function badge(kind, value) {
  const node = el("span", w(`${kind}_${value}`), "badge");
  node.dataset[kind] = value;
  return node;
}

// The query string of the list's filters (the list and its print view use the same).
export function listQuery(filters) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) {
    if (v === "" || v === null || v === undefined) continue;
    if (k === "state" && v === "open") {
      for (const s of ["new", "assigned", "in_progress"]) q.append("state", s);
    } else q.append(k, v);
  }
  return q.toString();
}
