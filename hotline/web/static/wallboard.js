// The wallboard refreshes itself every 2 s from GET /api/wallboard. A supervisor with a
// seat listens to, whispers to or barges into a talking call: POST /api/monitor rings their
// seat (the browser softphone below answers it by itself), then the mode can be switched.
import { wire } from "/static/softphone.js";

const MODE_NAMES = { listen: "监听", whisper: "耳语", barge: "强插" };
const STATE_NAMES = { dialling: "振铃中", connecting: "接通中", active: "进行中",
                      switching: "切换中", ending: "结束中", ended: "已结束" };
const monitor = document.getElementById("monitor");
const hasSeat = monitor.dataset.seat === "yes";
const panel = document.getElementById("softphone");
const phone = panel ? wire(panel) : null;
let mine = null;  // the supervisor's session, as GET /api/monitor last said
let expectRing = false;

if (panel) panel.addEventListener("phonestate", (e) => {
  if (e.detail === "ringing" && expectRing) {
    expectRing = false;
    phone.answer().catch((err) => console.error(err));
  }
});

async function post(url, data) {
  const r = await fetch(url, { method: "POST", body: new URLSearchParams(data),
                               headers: { "X-CSRF-Token": monitor.dataset.csrf } });
  if (!r.ok) { document.getElementById("monitor-state").textContent = await r.text(); return null; }
  return r.json();
}

async function startMonitor(call, mode) {
  expectRing = true;
  const s = await post("/api/monitor", { call, mode });
  if (s) showMonitor(s);
}

function showMonitor(s) {
  mine = s && s.state !== "ended" ? s : null;
  const state = document.getElementById("monitor-state");
  state.textContent = mine ? `记录 ${mine.call}：${MODE_NAMES[mine.mode]}（${STATE_NAMES[mine.state]}）` : "未监听";
  monitor.dataset.state = mine ? mine.state : "none";
  monitor.dataset.mode = mine ? mine.mode : "";
  for (const mode of Object.keys(MODE_NAMES))
    document.getElementById(`monitor-${mode}`).hidden = !mine || mine.mode === mode;
  document.getElementById("monitor-stop").hidden = !mine;
}

for (const mode of Object.keys(MODE_NAMES))
  document.getElementById(`monitor-${mode}`).addEventListener("click", async () => {
    if (mine) showMonitor(await post(`/api/monitor/${mine.id}/mode`, { mode }) || mine);
  });
document.getElementById("monitor-stop").addEventListener("click", async () => {
  if (mine) showMonitor(await post(`/api/monitor/${mine.id}/stop`, {}));
});
document.getElementById("board-calls-table").addEventListener("click", (e) => {
  const b = e.target.closest(".monitor-start");
  if (b) startMonitor(b.closest("tr").dataset.call, b.dataset.mode).catch(console.error);
});

async function refreshMonitor() {
  const r = await fetch("/api/monitor");
  if (!r.ok) return;
  const { sessions } = await r.json();
  const me = monitor.dataset.user;
  showMonitor(sessions.find((s) => s.id === mine?.id || s.by === me) || null);
}

const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };

async function refresh() {
  const r = await fetch("/api/wallboard");
  if (!r.ok) return;
  const b = await r.json();
  document.getElementById("board-at").textContent = b.at;
  document.getElementById("board-waiting").textContent = b.waiting.length;
  document.getElementById("board-talking").textContent = b.talking.length;
  document.getElementById("board-calls").textContent = b.today.calls;
  document.getElementById("board-rate").textContent =
    b.today.rate === null ? "-" : `${(b.today.rate * 100).toFixed(1)}%`;
  const uncovered = document.getElementById("board-uncovered");
  uncovered.textContent = b.uncovered.length ? b.uncovered.join(", ") : "-";
  uncovered.className = b.uncovered.length ? "flag" : "";
  const ops = document.getElementById("board-operators");
  ops.querySelectorAll("tr:not(:first-child)").forEach((tr) => tr.remove());
  for (const op of b.operators) {
    const tr = document.createElement("tr");
    tr.className = op.state;
    tr.append(cell(op.job_number), cell(op.name), cell(op.state_name));
    ops.append(tr);
  }
  const sos = document.getElementById("board-emergencies");
  sos.querySelectorAll("tr:not(:first-child)").forEach((tr) => tr.remove());
  for (const e of b.emergencies) {
    const tr = document.createElement("tr");
    tr.className = "emergency";
    tr.append(cell(e.id), cell(e.caller), cell(e.line), cell(e.outcome), cell(e.at));
    sos.append(tr);
  }
  const calls = document.getElementById("board-calls-table");
  calls.querySelectorAll("tr:not(:first-child)").forEach((tr) => tr.remove());
  for (const c of b.waiting) {
    const tr = document.createElement("tr");
    tr.append(cell(c.id), cell(c.caller), cell("等待"), cell(c.waited_s), cell(""));
    calls.append(tr);
  }
  for (const c of b.talking) {
    const tr = document.createElement("tr");
    tr.dataset.call = c.id;
    const actions = cell("");
    if (hasSeat) for (const [mode, name] of Object.entries(MODE_NAMES)) {
      const btn = document.createElement("button");
      btn.className = "monitor-start";
      btn.dataset.mode = mode;
      btn.textContent = name;
      actions.append(btn);
    }
    tr.append(cell(c.id), cell(c.caller), cell(c.operator), cell(c.talk_s), actions);
    calls.append(tr);
  }
}
setInterval(() => refresh().catch(() => {}), 2000);
if (hasSeat) setInterval(() => refreshMonitor().catch(() => {}), 1000);
