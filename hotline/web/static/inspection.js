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

// The recording is fetched whole (one audited play) and played from memory, so that any
// moment can be sought at once, whatever ranges the server offers.
const loaded = audio ? fetch(audio.dataset.src, {credentials: "same-origin"})
  .then((r) => { if (!r.ok) throw new Error(`recording: ${r.status}`); return r.blob(); })
  .then((blob) => {
    audio.src = URL.createObjectURL(blob);
    audio.dataset.state = "loaded";
    return new Promise((done) => audio.addEventListener("loadedmetadata", done, {once: true}));
  })
  .catch((err) => { audio.dataset.state = "failed"; audio.title = String(err); })
  : Promise.resolve();

if (audio) {
  audio.addEventListener("timeupdate", follow);
  audio.addEventListener("seeked", follow);
}
for (const link of document.querySelectorAll("a.seek")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    if (!audio) return;
    loaded.then(() => {
      audio.currentTime = parseFloat(link.dataset.seek);
      audio.play().catch(() => {});  // seeking works even where autoplay is refused
    });
  });
}
