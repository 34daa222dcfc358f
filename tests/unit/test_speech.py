"""Speech parts without Asterisk: endpointing, RTP, the per-call stream and recogniser
(over a fake engine and tap), model checks, grammar, and `asr fetch` against a local server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from hotline.directory.records import Entry
from hotline.errors import CallerGone, SpeechModelError
from hotline.speech.endpointing import Edge, Endpointer, EndpointSettings, level_dbfs
from hotline.speech.engine import Heard, Transcriber
from hotline.speech.fetch import MODELS, fetch_model
from hotline.speech.grammar import directory_phrases, read_grammar
from hotline.speech.model_check import check_model
from hotline.speech.recognizer import StreamingRecognizer
from hotline.speech.rtp import big_to_little, open_receiver, rtp_payload
from hotline.speech.stream import SpeechStream

RATE = 16000


def tone(seconds: float, dbfs: float = -15.0, hz: float = 300.0) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    amp = 32767 * 10 ** (dbfs / 20) * math.sqrt(2)
    return (amp * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


def quiet(seconds: float, dbfs: float | None = None) -> bytes:
    if dbfs is None:
        return bytes(int(RATE * seconds) * 2)
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 32767 * 10 ** (dbfs / 20), int(RATE * seconds))
    return noise.astype("<i2").tobytes()


def frames(pcm: bytes, ms: int = 20) -> Iterator[bytes]:
    size = RATE * ms // 1000 * 2
    for i in range(0, len(pcm), size):
        yield pcm[i:i + size]


# -- endpointing -------------------------------------------------------------------------------
def edges(pcm: bytes, settings: EndpointSettings | None = None) -> list[tuple[Edge, float]]:
    ep = Endpointer(RATE, settings)
    return [(e, ep.audio_ms) for f in frames(pcm) if (e := ep.feed(f)) is not None]


def test_level_of_a_tone_and_of_silence() -> None:
    assert level_dbfs(tone(0.1, -20)) == pytest.approx(-20, abs=0.5)
    assert level_dbfs(quiet(0.1)) == -120.0


@pytest.mark.parametrize("floor", [None, -45.0])
def test_speech_starts_after_onset_and_ends_after_trailing_silence(floor: float | None) -> None:
    pcm = quiet(1.0, floor) + tone(0.8) + quiet(1.0, floor)
    found = edges(pcm, EndpointSettings(onset_ms=100, end_ms=220))
    assert [e for e, _ in found] == [Edge.STARTED, Edge.ENDED]
    assert found[0][1] == pytest.approx(1100, abs=40)
    assert found[1][1] == pytest.approx(1800 + 220, abs=40)


def test_a_click_is_not_speech_and_a_long_monologue_is_cut() -> None:
    assert edges(quiet(0.5) + tone(0.04) + quiet(0.5)) == []
    cut = edges(quiet(0.2) + tone(3.0), EndpointSettings(max_ms=1000))
    assert [e for e, _ in cut][:2] == [Edge.STARTED, Edge.ENDED]
    # max_ms counts from where speech began; STARTED is reported onset_ms (100) later
    assert cut[1][1] - cut[0][1] == pytest.approx(900, abs=40)


# -- RTP ---------------------------------------------------------------------------------------
def rtp(payload: bytes, *, csrc: int = 0, ext: bytes = b"", pad: int = 0) -> bytes:
    first = 0x80 | csrc | (0x10 if ext else 0) | (0x20 if pad else 0)
    head = struct.pack("!BBHII", first, 118, 1, 160, 7) + b"\0\0\0\1" * csrc
    if ext:
        head += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    return head + payload + (bytes(pad - 1) + bytes([pad]) if pad else b"")


def test_rtp_payload_skips_csrcs_extension_and_padding() -> None:
    assert rtp_payload(rtp(b"abcd")) == b"abcd"
    assert rtp_payload(rtp(b"abcd", csrc=2, ext=b"12345678", pad=4)) == b"abcd"
    assert rtp_payload(b"\x40" + bytes(20)) is None  # version 1
    assert rtp_payload(b"\x80\x00") is None
    assert big_to_little(b"\x01\x02\x03\x04") == b"\x02\x01\x04\x03"


async def test_the_receiver_swaps_bytes_and_ignores_a_second_source() -> None:
    got: list[bytes] = []
    receiver, port = await open_receiver(got.append)
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        a.sendto(rtp(b"\x00\x01\x00\x02"), ("127.0.0.1", port))
        await asyncio.sleep(0.05)
        b.sendto(rtp(b"\x00\x09"), ("127.0.0.1", port))
        a.sendto(b"not rtp", ("127.0.0.1", port))
        await asyncio.sleep(0.05)
    finally:
        a.close()
        b.close()
        receiver.close()
    assert got == [b"\x01\x00\x02\x00"]
    assert (receiver.packets, receiver.dropped) == (1, 2)


# -- the stream over a fake engine ---------------------------------------------------------------
class FakeEngine:
    rate = RATE

    def __init__(self, words: str = "你好") -> None:
        self.words = words
        self.fed = 0
        self.finished = 0

    async def accept(self, t: Transcriber, pcm: bytes) -> Heard:
        self.fed += len(pcm)
        return Heard(self.words[: 1 + self.fed // 16000], False)

    async def finish(self, t: Transcriber) -> str:
        self.finished += 1
        return self.words

    async def new_transcriber(self) -> Transcriber:
        return Transcriber(object())

    def close(self) -> None:
        pass


async def test_an_utterance_is_recognised_with_preroll_and_silence_is_not() -> None:
    engine = FakeEngine()
    partials: list[str] = []

    async def seen(u: object) -> None:
        partials.append(getattr(u, "text", ""))

    stream = SpeechStream(engine, Transcriber(object()), on_utterance=seen)
    stream.start()
    stream.push(quiet(2.0) + tone(0.6) + quiet(0.5))
    await asyncio.wait_for(stream.drain(), 5)
    await stream.stop()
    final = stream.finals.get_nowait()
    assert final.text == "你好" and final.final
    assert final.start_s == pytest.approx(2.0, abs=0.05)
    assert final.end_s == pytest.approx(2.6, abs=0.05)
    # pre-roll (300 ms) + speech + trailing silence to the endpoint; never the 2 s before
    assert 0.85 * RATE * 2 <= engine.fed <= 1.2 * RATE * 2
    assert engine.finished == 1 and "你" in partials


async def test_an_utterance_ends_when_the_line_goes_quiet() -> None:
    engine = FakeEngine()
    stream = SpeechStream(engine, Transcriber(object()))
    stream.start()
    stream.push(quiet(0.2) + tone(0.5))  # then no more packets at all
    final = await asyncio.wait_for(stream.finals.get(), 3)
    await stream.stop()
    assert final.text == "你好"


# -- the recogniser over a fake tap ------------------------------------------------------------
class FakeTap:
    def __init__(self) -> None:
        self.opened: list[tuple[str, int]] = []
        self.closed = 0
        self.push = None

    async def open(self, channel_id: str, rate: int, on_audio):  # type: ignore[no-untyped-def]
        self.opened.append((channel_id, rate))
        self.push = on_audio
        return "tap"

    async def close(self, tap: object) -> None:
        self.closed += 1


class Leg:
    id = "chan-1"

    def __init__(self) -> None:
        self._gone = asyncio.Event()

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    def hang_up(self) -> None:
        self._gone.set()

    async def wait_gone(self, timeout_s: float | None) -> bool:
        await self._gone.wait()
        return True


async def test_the_recogniser_hears_a_call_and_lets_go_of_it() -> None:
    tap, leg = FakeTap(), Leg()
    rec = StreamingRecognizer(FakeEngine("工行"), tap)  # type: ignore[arg-type]
    segments: list[str] = []

    async def on_segment(u: object) -> None:
        if getattr(u, "final", False):
            segments.append(getattr(u, "text", ""))

    await rec.attach(leg, on_segment)  # type: ignore[arg-type]
    assert tap.opened == [("chan-1", RATE)] and rec.streams == 1
    assert await rec.listen(leg, 0.2) == ""  # type: ignore[arg-type]
    assert tap.push is not None
    tap.push(quiet(0.3) + tone(0.5) + quiet(0.4))
    assert await rec.listen(leg, 3) == "工行"  # type: ignore[arg-type]
    assert segments == ["工行"] and rec.latencies_ms
    leg.hang_up()
    with pytest.raises(CallerGone):
        await rec.listen(leg, 3)  # type: ignore[arg-type]
    await rec.detach(leg)  # type: ignore[arg-type]
    assert tap.closed == 1 and rec.streams == 0


# -- models, grammar, fetch --------------------------------------------------------------------
def fake_model(root: Path, *, dynamic: bool = True) -> Path:
    for rel in ("am/final.mdl", "conf/model.conf", "ivector/final.ie"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    (root / "conf/mfcc.conf").write_text("--sample-frequency=8000\n")
    (root / "graph").mkdir(exist_ok=True)
    for name in (("HCLr.fst", "Gr.fst") if dynamic else ("HCLG.fst",)):
        (root / "graph" / name).write_bytes(b"x")
    return root


def test_check_model_reads_the_rate_and_the_graph(tmp_path: Path) -> None:
    info = check_model(fake_model(tmp_path / "m"))
    assert (info.sample_rate, info.dynamic_graph, info.ivector) == (8000, True, True)
    assert not check_model(fake_model(tmp_path / "s", dynamic=False)).dynamic_graph
    (tmp_path / "m/am/final.mdl").unlink()
    with pytest.raises(SpeechModelError, match=r"am/final\.mdl is missing"):
        check_model(tmp_path / "m")
    with pytest.raises(SpeechModelError, match="not a folder"):
        check_model(tmp_path / "nowhere")


def test_grammar_from_the_directory_and_from_a_file(tmp_path: Path) -> None:
    entry = Entry("1", "中国工商银行", ("工行",), "银行", "万州区", "", "023-1", "")
    phrases = directory_phrases([entry])
    assert {"中国工商银行", "中 国 工 商 银 行", "工行", "万州区", "对", "不是"} <= set(phrases)
    path = tmp_path / "g.txt"
    path.write_text("# comment\n병원\n\n아니요\n", encoding="utf-8")
    assert read_grammar(path) == ["병원", "아니요", "[unk]"]
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(SpeechModelError, match="no phrases"):
        read_grammar(path)


@pytest.fixture
def model_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server like alphacephei.com/vosk/models: model-list.json and a zip."""
    site = tmp_path / "site"
    site.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", site
    finally:
        httpd.shutdown()
        httpd.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def publish(site: Path, base: str, tmp: Path, *, md5: str | None = None,
            evil: bool = False) -> None:
    name = MODELS["small-cn"]
    model = fake_model(tmp / "build" / name)
    archive = site / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(model.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(model.parent))
        if evil:
            zf.writestr("../../escape.txt", "x")
    data = archive.read_bytes()
    listing = [{"name": name, "url": f"{base}/{name}.zip", "size": len(data),
                "md5": md5 or hashlib.md5(data).hexdigest(), "lang": "cn"}]
    (site / "model-list.json").write_text(json.dumps(listing))


def test_fetch_downloads_verifies_and_unpacks(model_server: tuple[str, Path],
                                              tmp_path: Path) -> None:
    base, site = model_server
    publish(site, base, tmp_path)
    seen: list[int] = []
    info = fetch_model("small-cn", tmp_path / "models", base,
                       progress=lambda got, total: seen.append(got))
    assert info.path == tmp_path / "models" / MODELS["small-cn"]
    assert info.sample_rate == 8000 and seen and seen[-1] == (site / (
        MODELS["small-cn"] + ".zip")).stat().st_size
    assert [p.name for p in (tmp_path / "models").iterdir()] == [MODELS["small-cn"]]


@pytest.mark.parametrize(("md5", "evil", "problem"), [
    ("0" * 32, False, "does not match"), (None, True, "outside the model folder")])
def test_fetch_refuses_a_bad_archive_and_leaves_nothing(
        model_server: tuple[str, Path], tmp_path: Path, md5: str | None, evil: bool,
        problem: str) -> None:
    base, site = model_server
    publish(site, base, tmp_path, md5=md5, evil=evil)
    with pytest.raises(SpeechModelError, match=problem):
        fetch_model("small-cn", tmp_path / "models", base)
    assert list((tmp_path / "models").iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_fetch_says_what_went_wrong(model_server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = model_server
    with pytest.raises(SpeechModelError, match="cannot download"):
        fetch_model("cn", tmp_path, base)  # no model-list.json there
    with pytest.raises(SpeechModelError, match="unknown model"):
        fetch_model("en", tmp_path, base)


async def test_a_stalled_recogniser_holds_at_most_ten_seconds_of_audio() -> None:
    """The frame queue is bounded: a recogniser stuck on a frame makes the stream drop the
    oldest audio (counted), it never grows with the call."""
    from hotline.speech.stream import BACKLOG_S, FRAME_MS

    class Stuck(FakeEngine):
        async def accept(self, t: Transcriber, pcm: bytes) -> Heard:
            await asyncio.Event().wait()  # never returns
            raise AssertionError

    stream = SpeechStream(Stuck(), Transcriber(object()))
    stream.start()
    stream.push(tone(0.2))  # the worker takes a frame and sticks on it
    await asyncio.sleep(0.05)
    stream.push(tone(30.0))
    limit = BACKLOG_S * 1000 // FRAME_MS
    assert stream._frames.qsize() == limit
    taken = stream.frames_in - stream.frames_dropped - limit  # by the worker, before it stuck
    assert 1 <= taken <= 10 and stream.frames_dropped > 1000
    await stream.stop()


def test_a_faint_voice_is_told_from_a_silent_line_and_from_speech() -> None:
    """30 dB below normal speech the endpointer hears no speech, but a faint voice above the
    quietest the line has been; a silent line, steady noise and normal speech are not faint."""
    from hotline.speech.endpointing import Endpointer

    def run(audio: bytes) -> tuple[list[object], float]:
        ep = Endpointer(RATE)
        edges = [ep.feed(audio[i:i + 640]) for i in range(0, len(audio), 640)]
        return [e for e in edges if e is not None], ep.take_faint()

    edges, faint = run(quiet(1.0, -72) + tone(1.5, -50) + quiet(0.5, -72))
    assert edges == [] and faint >= 1000  # faint, and no utterance for the recogniser
    assert run(quiet(3.0, -72))[1] == 0.0  # a silent line
    assert run(quiet(3.0, -55))[1] == 0.0  # steady noise is the line's own level
    edges, faint = run(quiet(1.0, -72) + tone(1.5, -20) + quiet(0.5, -72))
    assert len(edges) == 2 and faint < 100  # speech (its fade in at most)


async def test_words_too_quiet_to_trust_are_a_faint_voice_not_an_answer() -> None:
    """An utterance the endpointer heard but whose loudest 20 ms stays below -36 dBFS (a
    caller 30 dB down peaks near -42): whatever the recogniser made of it is not taken;
    the step hears a faint voice. A normal utterance is taken as before."""
    tap, leg = FakeTap(), Leg()
    rec = StreamingRecognizer(FakeEngine("工行"), tap)  # type: ignore[arg-type]
    await rec.attach(leg)  # type: ignore[arg-type]
    assert tap.push is not None
    tap.push(quiet(0.3) + tone(0.8, dbfs=-44.0) + quiet(0.5))
    assert await rec.listen(leg, 1.5) == ""  # type: ignore[arg-type]
    assert rec.faint(leg)  # type: ignore[arg-type]
    assert not rec.faint(leg)  # type: ignore[arg-type]  # taken: counted once
    tap.push(quiet(0.3) + tone(0.8) + quiet(0.5))
    assert await rec.listen(leg, 3) == "工行"  # type: ignore[arg-type]
    await rec.close()


async def test_the_end_of_the_words_is_when_their_last_voiced_audio_arrived() -> None:
    """words_ended: when the last voiced audio of the words listen returned came in (the
    emergency dial is timed from it), not when the trailing silence or the text came."""
    tap, leg = FakeTap(), Leg()
    rec = StreamingRecognizer(FakeEngine("工行"), tap)  # type: ignore[arg-type]
    await rec.attach(leg)  # type: ignore[arg-type]
    assert tap.push is not None and rec.words_ended(leg) is None  # type: ignore[arg-type]
    spoken = time.perf_counter()
    tap.push(quiet(0.3) + tone(0.5))
    await asyncio.sleep(0.3)
    silence_came = time.perf_counter()
    tap.push(quiet(0.4))
    assert await rec.listen(leg, 3) == "工行"  # type: ignore[arg-type]
    ended = rec.words_ended(leg)  # type: ignore[arg-type]
    assert ended is not None and spoken <= ended < silence_came
    await rec.close()
