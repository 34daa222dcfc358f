// The inspector's player: the transcript row being played is highlighted as the recording
// plays; a finding, a time or a pre-check's ▶ seeks the recording to its segment.
const audio = document.getElementById("recording");
const rows = [...document.querySelectorAll("#timeline tr.seg")];

function follow() {
  const t = audio.currentTime;
  let current = null;
  for (const row of rows) {  // the last segment started at or before t (until it ends)
    const start = parseFloat(row.dataset.start), end = parseFloat(row.dataset.end);
    if (start <= t + 0.05 && (t <= Math.max(end, start + 1) || current === null)) current = row;
  }
  for (const row of rows) row.classList.toggle("playing", row === current);
  if (current) current.scrollIntoView({block: "nearest"});
}

if (audio) {
  audio.addEventListener("timeupdate", follow);
  audio.addEventListener("seeked", follow);
}
for (const link of document.querySelectorAll("a.seek")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    if (!audio) return;
    audio.currentTime = parseFloat(link.dataset.seek);
    audio.play().catch(() => {});  // seeking works even where autoplay is refused
  });
}
