// The operator's desk: the softphone, and the live feed of this operator's calls (the call
// pop-up with the caller's history, the transcript, directory and knowledge suggestions,
// warm transfer).
import { wire } from "/static/softphone.js";

const desk = document.getElementById("desk");
const csrf = desk.dataset.csrf;
const popup = document.getElementById("popup");
let current = null;

const el = (tag, text, attrs = {}) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};

function showCall(call, brief) {
  current = call.id;
  popup.hidden = false;
  popup.dataset.call = call.id;
  document.getElementById("popup-caller").textContent = `来电 ${call.id}：${call.caller}（${call.arrived}）`;
  const link = document.getElementById("popup-record");
  link.href = `/calls/${call.id}`;
  document.getElementById("popup-brief").textContent = brief || "";
  const hist = document.getElementById("popup-history");
  hist.replaceChildren();
  for (const [id, at, summary] of call.earlier) hist.append(el("li", `${at} ${summary || ""}（记录 ${id}）`));
  if (!call.earlier.length) hist.append(el("li", "无此前来电"));
  const tickets = document.getElementById("popup-tickets");
  tickets.replaceChildren();
  for (const [id, kind, status] of call.tickets) tickets.append(el("li", `工单 ${id} ${kind} ${status}`));
  if (!call.tickets.length) tickets.append(el("li", "无未办结工单"));
  const said = document.getElementById("live-transcript");
  said.replaceChildren();
  for (const t of call.transcript) addLine(t.speaker, t.text);
  document.getElementById("popup-status").textContent = "";
  document.getElementById("knowledge-suggestions").replaceChildren();
  document.getElementById("knowledge-item").hidden = true;
  openItem = null;
}

function addLine(speaker, text) {
  const who = speaker === "operator" ? "坐席" : "来电人";
  document.getElementById("live-transcript").append(el("li", `${who}：${text}`, { class: speaker }));
}

function showSuggestions(m) {
  const table = document.getElementById("suggestions");
  table.replaceChildren();
  const select = document.querySelector("#transfer-form select[name=entry]");
  for (const r of m.results) {
    const row = el("tr");
    row.append(el("td", r.name), el("td", r.district), el("td", r.phone),
               el("td", m.confident ? "可信" : String(r.score)));
    table.append(row);
    if (r.transfer && select && ![...select.options].some((o) => o.value === r.id)) {
      select.append(el("option", `${r.name}（${r.district}）`, { value: r.id }));
    }
  }
}

// 一次性告知: the knowledge items the caller's words are about; the operator opens one, tells
// the caller everything in it at once, and marks it told on the call's record.
const KNOWLEDGE_FIELDS = [["unit", "责任单位"], ["basis", "依据"], ["time_limit", "时限"],
  ["procedure", "程序"], ["materials", "所需材料"], ["fees", "收费"], ["where_when", "地点和时间"],
  ["refusal", "不予办理的情形"]];
let openItem = null;

function showKnowledge(m) {
  if (!m.results.length) return;  // a turn with nothing to look up keeps what was there
  const table = document.getElementById("knowledge-suggestions");
  table.replaceChildren();
  for (const r of m.results) {
    const row = el("tr", undefined, { "data-item": r.id });
    const open = el("button", "查看", { type: "button", class: "knowledge-open" });
    open.addEventListener("click", () => openKnowledge(r.id));
    const cell = el("td");
    cell.append(open);
    row.append(el("td", r.title), el("td", r.unit), cell);
    table.append(row);
  }
}

async function openKnowledge(id) {
  const r = await fetch(`/api/knowledge/${encodeURIComponent(id)}`);
  if (!r.ok) return;
  const item = await r.json();
  openItem = item;
  document.getElementById("knowledge-item").hidden = false;
  document.getElementById("knowledge-title").textContent =
    `${item.title}（v${item.version}）` + (item.overdue ? " 已过复核日期" : "");
  const dl = document.getElementById("knowledge-fields");
  dl.replaceChildren();
  for (const [k, label] of KNOWLEDGE_FIELDS) {
    const value = Array.isArray(item[k]) ? item[k].map((x, i) => `${i + 1}. ${x}`).join("\n") : item[k];
    dl.append(el("dt", label), el("dd", value, { style: "white-space:pre-line" }));
  }
  document.getElementById("knowledge-status").textContent = "";
}

document.getElementById("knowledge-told")?.addEventListener("click", async () => {
  if (current === null || openItem === null) return;
  const body = new URLSearchParams({ item: openItem.id });
  const r = await fetch(`/calls/${current}/told`, { method: "POST", body,
    headers: { "X-CSRF-Token": csrf } });
  const status = document.getElementById("knowledge-status");
  status.textContent = r.ok ? `已一次性告知：${openItem.title}` : `未记录：${await r.text()}`;
  if (r.ok) setStatus(`已一次性告知 ${openItem.title}`);
});

// The attendant's messages, complaints and callbacks waiting for someone to take them over
// (接手): they pop up when this operator comes on duty, and again as the list changes.
function showWaiting(m) {
  const box = document.getElementById("waiting");
  const table = document.getElementById("waiting-list");
  const before = new Set([...table.querySelectorAll("tr")].map((r) => r.dataset.ticket));
  table.replaceChildren();
  for (const t of m.tickets) {
    const row = el("tr", undefined, { "data-ticket": String(t.id) });
    if (!before.has(String(t.id))) row.classList.add("new");
    const what = el("td", t.summary);
    if (t.confidential) what.append(" ", el("span", "保密", { class: "flag" }));
    const form = el("form", undefined, { method: "post", action: `/tickets/${t.id}/take-over` });
    form.append(el("input", undefined, { type: "hidden", name: "csrf", value: csrf }),
                el("input", undefined, { name: "reason", size: "16", placeholder: "接手原因" }),
                el("button", "接手"));
    const act = el("td");
    act.append(form);
    row.append(el("td", String(t.id)), el("td", t.kind_name), el("td", t.due), what, act);
    table.append(row);
  }
  document.getElementById("waiting-title").textContent =
    `待接手：${m.post}号话务员受理的事项（${m.tickets.length}）`;
  box.hidden = !m.tickets.length;
  if (table.querySelector("tr.new")) box.scrollIntoView({ block: "nearest" });
}

function handle(m) {
  if (m.type === "waiting") showWaiting(m);
  else if (m.type === "offered") showCall(m.call, "");
  else if (m.type === "transfer") showCall(m.call, `${m.by} 转来：${m.summary}`);
  else if (m.id !== current) return;
  else if (m.type === "transcript") addLine(m.speaker, m.text);
  else if (m.type === "suggestions") showSuggestions(m);
  else if (m.type === "knowledge") showKnowledge(m);
  else if (m.type === "transferred") setStatus(`已转接 ${m.to}`);
  else if (m.type === "transfer_failed") setStatus(`转接 ${m.to} 未成功（${m.reason}）`);
  else if (m.type === "ended") setStatus("通话已结束");
}

function setStatus(text) {  // a line of the call's history on this desk: "已转接 1002；通话已结束"
  const status = document.getElementById("popup-status");
  status.textContent = status.textContent ? `${status.textContent}；${text}` : text;
}

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/desk/live`);
  ws.onopen = () => { desk.dataset.live = "open"; };
  ws.onmessage = (ev) => handle(JSON.parse(ev.data));
  ws.onclose = () => { desk.dataset.live = "closed"; setTimeout(connect, 2000); };
}

document.getElementById("transfer-form")?.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (current === null) return;
  const body = new URLSearchParams(new FormData(e.target));
  if (body.get("seat")) body.delete("entry"); else body.delete("seat");
  const r = await fetch(`/calls/${current}/transfer`, { method: "POST", body,
    headers: { "X-CSRF-Token": csrf } });
  setStatus(r.ok ? "正在转接，请稍候" : `转接失败：${await r.text()}`);
});

const panel = document.getElementById("softphone");
if (panel) wire(panel);
connect();
