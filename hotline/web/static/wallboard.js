// The wallboard refreshes itself every 2 s from GET /api/wallboard.
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
    tr.append(cell(c.id), cell(c.caller), cell("等待"), cell(c.waited_s));
    calls.append(tr);
  }
  for (const c of b.talking) {
    const tr = document.createElement("tr");
    tr.append(cell(c.id), cell(c.caller), cell(c.operator), cell(c.talk_s));
    calls.append(tr);
  }
}
setInterval(() => refresh().catch(() => {}), 2000);
