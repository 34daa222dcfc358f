"""Whisper base (faster-whisper, int8, CPU) on espeak-ng Mandarin through an 8 kHz A-law
telephone path: latency, cost and accuracy, ours against a straightforward integration.

    .venv/bin/python -m bench.asr --engine whisper [--utterances 200] [--seconds 30]

Ours: the utterance the project's endpointer cut, decoded once it ends, greedy (beam 1) at
temperature 0, the step's vocabulary as the prompt, no conditioning on earlier text, output
normalised. Baseline: faster-whisper's defaults (beam 5, its own VAD, temperature fallback,
conditioning on earlier text), no prompt, raw text.

Figures: utterance latency (end of speech to final text) p50/p95 for 1-4 s utterances with 1,
2 and 4 callers speaking at once; CPU seconds per second of audio; character error rate,
lookup top-1 (through the real directory index), yes/no understood and digits exact, with
and without the vocabulary. Goals: p50 <= 1.0 s and p95 <= 2.0 s at 2 callers; top-1 >= 90%
with the vocabulary; yes/no >= 98%; digits exact >= 95%.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hotline.attendant.port import Expect
from hotline.attendant.words import yes_no
from hotline.directory.index import DirectoryIndex
from hotline.directory.records import Entry, parse_csv
from hotline.paths import cache_dir
from hotline.speech.normalise import digits_of, normalise
from hotline.speech.vocabulary import Vocabulary, vocabulary_of
from hotline.speech.whisper_engine import WhisperEngine, WhisperSettings
from hotline.speech.whisper_model import install_base
from tests.pcap_audio import pinyin

SAMPLE = Path(__file__).parents[1] / "directory" / "sample.csv"
YES = ["是的", "对", "对的", "好的", "可以", "是", "嗯对", "对对对", "是的是的", "要的"]
NO = ["不是", "不对", "不用了", "不要", "没有了", "不是的", "错了", "不需要"]


def phone_audio(text: str, speed: int = 150) -> bytes:
    """espeak-ng Mandarin (from pinyin) as 16 kHz PCM that went through 8 kHz A-law."""
    wav = subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(speed), "--stdout",
                          "--", pinyin(text)], capture_output=True, check=True).stdout
    alaw = subprocess.run(["sox", "-t", "wav", "-", "-r", "8000", "-e", "a-law", "-t", "wav",
                           "-"], input=wav, capture_output=True, check=True).stdout
    return subprocess.run(["sox", "-t", "wav", "-", "-r", "16000", "-b", "16", "-e", "signed",
                           "-c", "1", "-L", "-t", "raw", "-"], input=alaw,
                          capture_output=True, check=True).stdout


@dataclass(frozen=True)
class Item:
    kind: str  # name | district | yes_no | digits
    said: str
    expect: Expect
    want: str  # the entry id, the text, "yes"/"no", or the digits


def items(entries: list[Entry], count: int, rng: random.Random) -> list[Item]:
    out: list[Item] = []
    frames = ["帮我查一下{}的电话", "{}的电话是多少", "我要找{}", "{}"]
    by_name = rng.sample(entries, min(len(entries), count * 55 // 100))
    for i, e in enumerate(by_name):
        called = e.aliases[0] if e.aliases and i % 2 else e.name
        out.append(Item("name", frames[i % len(frames)].format(called), Expect.FREE, e.id))
    for d in sorted({e.district for e in entries if e.district})[:10]:
        out.append(Item("district", d, Expect.DISTRICT, d))
    for w in YES + NO:
        out.append(Item("yes_no", w, Expect.YES_NO, "yes" if w in YES else "no"))
    while len(out) < count:
        number = rng.choice(["1", "023"]) + "".join(rng.choice("0123456789") for _ in range(
            10 if len(out) % 2 else 8))
        spoken = "".join("零一二三四五六七八九"[int(c)] for c in number)
        out.append(Item("digits", spoken, Expect.DIGITS, number))
    return out


def cer(ref: str, hyp: str) -> tuple[int, int]:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1], len(ref)


def decode_baseline(engine: WhisperEngine, audio: bytes) -> str:
    import numpy as np

    samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
    segments, _ = engine._model.transcribe(samples, language="zh")  # the library's defaults
    return "".join(s.text for s in segments)


def accuracy(engine: WhisperEngine, index: DirectoryIndex, vocab: Vocabulary,
             work: list[tuple[Item, bytes]], label: str, mode: str) -> dict[str, float]:
    errors = chars = 0
    hits = {"name": [0, 0], "yes_no": [0, 0], "digits": [0, 0], "district": [0, 0]}
    for item, audio in work:
        if mode == "baseline":
            heard = decode_baseline(engine, audio)
        else:
            hint = vocab.hint(item.expect) if mode == "ours" else ""
            heard = engine.decode(audio, hint)
        text = normalise(heard, digits=item.expect is Expect.DIGITS)
        e, n = cer(normalise(item.said), normalise(heard))
        errors, chars = errors + e, chars + n
        if item.kind == "name":
            result = index.search(text)
            ok = bool(result.hits) and result.hits[0].entry.id == item.want
        elif item.kind == "yes_no":
            ok = yes_no(text) is (item.want == "yes")
        elif item.kind == "digits":
            ok = digits_of(text) == item.want
        else:
            ok = item.want in text
        hits[item.kind][0] += ok
        hits[item.kind][1] += 1
    rates = {k: v[0] / v[1] for k, v in hits.items() if v[1]}
    print(f"  {label:<40} CER {errors / max(chars, 1):6.1%}; lookup top-1 "
          f"{rates['name']:6.1%} ({hits['name'][1]}); yes/no {rates['yes_no']:6.1%} "
          f"({hits['yes_no'][1]}); digits exact {rates['digits']:6.1%} "
          f"({hits['digits'][1]}); district {rates['district']:6.1%}")
    return rates


async def latency(engine: WhisperEngine, callers: int, clips: list[bytes],
                  seconds: float) -> tuple[list[float], float, float]:
    """``callers`` speak at once, each an utterance then ~2 s of listening, in real time;
    the latency of each final text from the end of the utterance."""
    lats: list[float] = []
    audio_s = 0.0

    async def caller(k: int) -> None:
        nonlocal audio_s
        rng = random.Random(k)
        t = await engine.new_transcriber()
        end = time.perf_counter() + seconds
        await asyncio.sleep(rng.uniform(0, 2))
        while time.perf_counter() < end:
            clip = rng.choice(clips)
            await asyncio.sleep(len(clip) / 32000)  # the caller speaks
            await engine.accept(t, clip)
            started = time.perf_counter()
            await engine.finish(t)
            lats.append(time.perf_counter() - started)
            audio_s += len(clip) / 32000
            await asyncio.sleep(rng.uniform(1.5, 2.5))  # the caller listens

    cpu0 = time.process_time()
    await asyncio.gather(*(caller(k) for k in range(callers)))
    return lats, (time.process_time() - cpu0), audio_s


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else float("nan")


async def run(utterances: int, seconds: float) -> None:
    model = install_base(cache_dir() / "models")
    entries, _ = parse_csv(SAMPLE.read_bytes())
    index = DirectoryIndex(entries, home_district="万州区")
    vocab = vocabulary_of(entries)
    engine = WhisperEngine(model.path, WhisperSettings(workers=1, cpu_threads=2))
    rng = random.Random(7)
    work = [(item, phone_audio(item.said)) for item in items(entries, utterances, rng)]
    spoken = sum(len(a) for _, a in work) / 32000
    print(f"bench/asr whisper: {model.name} ({model.model_sha256[:12]}), {len(entries)} "
          f"directory entries, {len(work)} espeak-ng Mandarin utterances ({spoken:.0f} s)")
    print("accuracy:")
    ours = accuracy(engine, index, vocab, work, "ours (step vocabulary, normalised)", "ours")
    plain = accuracy(engine, index, vocab, work, "ours without the vocabulary", "plain")
    # the baseline decodes about five times slower: every third utterance of each kind
    base = accuracy(engine, index, vocab, work[::3], "baseline (library defaults, no prompt)",
                    "baseline")
    print("latency (end of speech to final text), 1-4 s utterances:")
    clips = [a for it, a in work if 1.0 <= len(a) / 32000 <= 4.0][:40]
    at2 = (float("nan"), float("nan"))
    for callers in (1, 2, 4):
        lats, cpu, audio_s = await latency(engine, callers, clips, seconds)
        p50, p95 = pct(lats, 0.5), pct(lats, 0.95)
        if callers == 2:
            at2 = (p50, p95)
        print(f"  {callers} caller(s): p50 {p50:5.2f} s, p95 {p95:5.2f} s ({len(lats)} "
              f"utterances); {cpu / max(audio_s, 1e-9):.2f} CPU s per audio s")
    t0 = time.perf_counter()
    for _, audio in work[:20]:
        decode_baseline(engine, audio)
    base_s = (time.perf_counter() - t0) / 20
    t0 = time.perf_counter()
    for item, audio in work[:20]:
        engine.decode(audio, vocab.hint(item.expect))
    ours_s = (time.perf_counter() - t0) / 20
    print(f"one utterance alone: ours {ours_s:.2f} s vs baseline {base_s:.2f} s "
          f"(x{base_s / ours_s:.1f})")
    print(f"summary: at 2 callers p50 {at2[0]:.2f} s, p95 {at2[1]:.2f} s (goals 1.0/2.0); "
          f"top-1 {ours['name']:.0%} with vocabulary vs {plain['name']:.0%} without, "
          f"{base['name']:.0%} baseline (goal 90%); yes/no {ours['yes_no']:.0%} (goal 98%); "
          f"digits {ours['digits']:.0%} (goal 95%)")
    engine.close()
