"""Whisper (faster-whisper, CTranslate2) behind the same interface as Vosk.

Whisper is not a streaming recogniser: a call's ``WhisperTranscriber`` only gathers the audio
of the utterance the project's endpointer has opened (``accept`` is a copy, on the loop), and
``finish`` decodes it once the utterance ends. Decoding runs on a bounded pool of threads
(``workers``, each using ``cpu_threads`` of CTranslate2), never on the event loop; an utterance
that finds every worker busy waits its turn, and the wait is measured (``on_wait_ms``) and
visible (``waiting``), so the dialogue can say the keep-alive phrase instead of leaving the
caller in silence.

Each utterance is decoded with the vocabulary the dialogue's step expects (``hint``) as
Whisper's prompt, at temperature 0, without conditioning on previous text and without
Whisper's own VAD. Segments Whisper itself doubts (a high no-speech probability with a low
log-probability: its usual hallucinations on noise) are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hotline.errors import SpeechModelError
from hotline.speech.engine import Heard
from hotline.speech.whisper_model import WhisperInfo, check_whisper

log = logging.getLogger(__name__)
RATE = 16000
MAX_UTTERANCE_S = 30  # Whisper's window


@dataclass(frozen=True)
class WhisperSettings:
    device: str = "auto"  # a GPU where there is one
    compute_type: str = "int8"
    workers: int = 1  # utterances decoded at once
    cpu_threads: int = 0  # CTranslate2 threads per worker; 0: the cores shared among workers
    beam_size: int = 1
    language: str = "zh"
    # Drop a segment when no_speech_prob > no_speech_max AND avg_logprob < logprob_min
    # (Whisper's own rule for silence). Measured in bench/asr.py on espeak-ng Mandarin.
    no_speech_max: float = 0.6
    logprob_min: float = -1.0
    min_speech_ms: int = 200  # shorter audio is not worth a decode


@dataclass(frozen=True)
class Segment:
    text: str
    no_speech_prob: float
    avg_logprob: float


class Model(Protocol):
    """What the engine needs of faster_whisper.WhisperModel (a fake in unit tests)."""

    def transcribe(self, audio: Any, **options: Any) -> tuple[Any, Any]: ...


class WhisperTranscriber:
    def __init__(self) -> None:
        self.audio = bytearray()
        self.hint = ""  # the step's vocabulary, as Whisper's prompt

    def take(self) -> bytes:
        audio, self.audio = bytes(self.audio), bytearray()
        return audio


def load_model(info: WhisperInfo, settings: WhisperSettings) -> Model:
    try:
        from faster_whisper import WhisperModel
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # a line per utterance
    except ImportError as exc:
        raise SpeechModelError("the faster-whisper package is not installed (pip install "
                               "'hotline[asr]')") from exc
    try:
        model: Model = WhisperModel(str(info.path), device=settings.device,
                            compute_type=settings.compute_type,
                                    cpu_threads=settings.cpu_threads,
                                    num_workers=settings.workers)
        return model
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on a bad folder
        raise SpeechModelError(f"{info.path}: faster-whisper could not load it: {exc}") from exc


class WhisperEngine:
    rate = RATE
    streaming = False

    def __init__(self, model_path: str | Path, settings: WhisperSettings | None = None, *,
                 model: Model | None = None) -> None:
        self.s = settings or WhisperSettings()
        if self.s.workers < 1:
            raise SpeechModelError("whisper workers must be at least 1")
        self.info = check_whisper(model_path) if model is None else None
        self._model = model if model is not None else load_model(self.info, self.s)  # type: ignore[arg-type]
        self.pool = ThreadPoolExecutor(max_workers=self.s.workers, thread_name_prefix="whisper")
        self._free = asyncio.Semaphore(self.s.workers)
        self.waiting = 0  # utterances queued for a worker
        self.on_wait_ms: Callable[[float], None] | None = None  # the metrics
        self.on_decode_ms: Callable[[float], None] | None = None

    @property
    def saturated(self) -> bool:
        return self._free.locked()

    async def new_transcriber(self) -> WhisperTranscriber:
        return WhisperTranscriber()

    async def accept(self, t: WhisperTranscriber, pcm: bytes) -> Heard:
        if len(t.audio) < MAX_UTTERANCE_S * RATE * 2:
            t.audio += pcm
        return Heard("", False)

    async def finish(self, t: WhisperTranscriber) -> str:
        audio, hint = t.take(), t.hint
        if len(audio) < self.s.min_speech_ms * RATE * 2 // 1000:
            return ""
        queued = time.perf_counter()
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        try:
            if self.on_wait_ms is not None:
                self.on_wait_ms((time.perf_counter() - queued) * 1000)
            started = time.perf_counter()
            text = await asyncio.get_running_loop().run_in_executor(
                self.pool, self.decode, audio, hint)
            if self.on_decode_ms is not None:
                self.on_decode_ms((time.perf_counter() - started) * 1000)
            return text
        finally:
            self._free.release()

    def decode(self, audio: bytes, hint: str = "") -> str:
        """One utterance (16 kHz 16-bit mono), on a worker thread."""
        kept = [s.text.strip() for s in self.segments(audio, hint) if self.believable(s)]
        return " ".join(t for t in kept if t)

    def segments(self, audio: bytes, hint: str = "") -> list[Segment]:
        import numpy as np

        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        found, _info = self._model.transcribe(
            samples, language=self.s.language, beam_size=self.s.beam_size, temperature=0.0,
            condition_on_previous_text=False, initial_prompt=hint or None, vad_filter=False,
            without_timestamps=True, max_new_tokens=64)
        return [Segment(s.text, float(s.no_speech_prob), float(s.avg_logprob)) for s in found]

    def believable(self, s: Segment) -> bool:
        return not (s.no_speech_prob > self.s.no_speech_max and s.avg_logprob < self.s.logprob_min)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
