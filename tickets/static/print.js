// The printable work-order sheet (print.html?id=N) and list (print.html?list=1&filters,
// the same filters as the workbench's list). Signed in through the workbench's session
// (same tab). Everything is inserted as text.
import { $, categoryLabel, departmentLabel, el, newSession, syncClock, w, wb, when } from "./common.js";
import { applyWords, label } from "./workbench-i18n.js";

const params = new URLSearchParams(location.search);
const session = newSession(() => { location.href = "./"; });
const view = { sheet: null, list: null };
window.hotlinePrint = view;

function setLang(lang) {
  wb.lang = lang;
  localStorage.setItem("hotline.lang", lang);
  applyWords(lang);
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  render();
}
$("lang").addEventListener("click", () => setLang(wb.lang === "zh" ? "en" : "zh"));
$("print").addEventListener("click", () => window.print());

function sla(item) {
  if (!item.sla_due_at) return w(`sla_${item.sla_state}`);
  const left = Date.parse(item.sla_due_at) - (Date.now() + wb.offset);
  const clock = w(`clock_${item.sla_clock}`);
  const mins = Math.abs(Math.round(left / 60000));
  const t = `${Math.floor(mins / 60)}${w("h", { n: "" })}${mins % 60}${w("m", { n: "" })}`.replace(/\s/g, "");
  return `${w(`sla_${item.sla_state}`)} · ${left > 0 ? w("left", { clock, t }) : w("over", { clock, t })} (${when(item.sla_due_at)})`;
}

function row(cells, tag = "td") {
  const tr = el("tr");
  for (const c of cells) tr.append(el(tag, c));
  return tr;
}

function render() {
  if (!wb.context) return;
  const center = label(wb.lang, wb.context.center_name, "");
  $("printed").textContent = w("printed_at", { t: when(new Date(Date.now() + wb.offset).toISOString()) });
  $("masked").hidden = !wb.context.masked;
  if (view.sheet) renderSheet(center);
  if (view.list) renderList(center);
}

function renderSheet(center) {
  const s = view.sheet;
  const t = s.ticket;
  document.title = `${t.number} · ${w("sheet_title")}`;
  $("center").textContent = center;
  $("number").textContent = t.number;
  const c = s.customer;
  const fields = [
    ["h_subject", t.subject], ["state", w(`st_${t.state}`)], ["priority", w(`pr_${t.priority}`)],
    ["category", categoryLabel(t.category)], ["department", departmentLabel(t.department)],
    ["assignee", t.assignee_name || w("unassigned")], ["created", when(t.created_at)],
    ["sla", sla(t)], ["h_customer", c ? c.name : ""], ["account", c ? c.account_number : ""],
    ["district", t.district || ""], ["address", c ? c.address : ""],
    ["contact", t.contact_name || ""], ["phone", t.contact_number || ""],
  ];
  $("fields").replaceChildren(...fields.map(([k, v]) => {
    const tr = el("tr");
    tr.append(el("th", w(k)), el("td", v || "—"));
    return tr;
  }));
  $("description").textContent = s.description || "—";
  $("resolution").textContent = s.resolution || "";
  $("attachments").replaceChildren(...(s.attachments.length ? s.attachments.map((a) =>
    el("li", `${a.filename} · ${a.uploaded_by_name} · ${when(a.uploaded_at)}`)) : [el("li", "—")]));
  $("calls").replaceChildren(...(s.calls.length ? s.calls.map((x) =>
    el("li", `${when(x.started_at)} · ${x.caller_number || ""} · ${x.linkedid}`)) : [el("li", "—")]));
  $("history").replaceChildren(...s.history.map((e) => {
    const what = w(`ev_${e.action}`);
    const change = e.field === "state" ? [e.from_value, e.to_value].filter(Boolean).map((v) => w(`st_${v}`)).join(" → ")
      : e.field === "department" ? [e.from_value, e.to_value].map(departmentLabel).join(" → ")
        : e.field === "attachment" ? e.to_value : "";
    return row([when(e.at), what === `ev_${e.action}` ? e.action : what, e.actor_name, [change, e.note].filter(Boolean).join(" · ")]);
  }));
  $("sheet").hidden = false;
}

function renderList(center) {
  const items = view.list.items;
  $("list-center").textContent = center;
  $("list-count").textContent = w("count", { n: items.length });
  const described = [];
  for (const [k, v] of params.entries()) if (k !== "list" && v) described.push(`${k}=${v}`);
  $("list-filter").textContent = described.join(" · ");
  $("rows").replaceChildren(...items.map((i) => row([
    i.number, i.subject, categoryLabel(i.category), w(`pr_${i.priority}`), w(`st_${i.state}`),
    [i.customer_name || i.contact_name, i.district, i.contact_number].filter(Boolean).join(" · "),
    i.assignee_name || "", sla(i), when(i.created_at),
  ])));
  $("list").hidden = false;
}

async function start() {
  if (!session.token) { location.href = "./"; return; }
  try {
    wb.context = await session.call("GET", "/api/workbench/context");
    syncClock(wb.context.now);
    if (params.get("id")) {
      view.sheet = await session.call("GET", `/api/workbench/tickets/${encodeURIComponent(params.get("id"))}`);
      $("back").href = `./#ticket=${view.sheet.ticket.id}`;
    } else {
      const q = new URLSearchParams(params);
      q.delete("list");
      if (!q.has("limit")) q.set("limit", "500");
      view.list = await session.call("GET", `/api/workbench/tickets?${q}`);
    }
    $("status").hidden = true;
  } catch (err) {
    $("status").textContent = err.message;
    return;
  }
  render();
}

setLang(wb.lang);
start();
