"""Vosk behind a small, thread-friendly interface.

One ``VoskEngine`` per process holds the model (loaded once) and a thread pool; each call gets
one ``Transcriber`` (one KaldiRecognizer, reused for the whole call). Vosk's C calls release
the GIL, so recognisers of different calls run in parallel on the pool's threads, and nothing
here ever runs on the event loop. A transcriber's work is serialised by its own lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.errors import SpeechModelError
from hotline.speech.model_check import ModelInfo, check_model, load_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Heard:
    text: str
    final: bool


class Transcriber:
    """One recogniser. ``accept`` returns the partial text (or a final one when Vosk's own
    endpointing fired); ``finish`` returns the final text and resets for the next utterance.

    With a grammar, the step's vocabulary (``hint``: words separated by 、 or 。) is added to
    it for the next utterance: set between utterances, never in the middle of one."""

    def __init__(self, recognizer: Any, grammar: Sequence[str] = ()) -> None:
        self._rec = recognizer
        self._lock = threading.Lock()
        self._grammar = list(grammar)
        self._hint = ""
        self._applied = ""
        self._idle = True  # no audio since the last final text

    @property
    def hint(self) -> str:
        return self._hint

    @hint.setter
    def hint(self, value: str) -> None:
        self._hint = value
        if self._idle:
            with self._lock:
                self._apply()

    @property
    def applied(self) -> str:
        """The hint the grammar holds now."""
        return self._applied

    def _apply(self) -> None:
        if not self._grammar or self._hint == self._applied:
            return
        words = [w.strip() for w in re.split("[、。，]", self._hint) if w.strip()]
        phrases = list(dict.fromkeys([*words, *self._grammar]))
        self._rec.SetGrammar(json.dumps(phrases, ensure_ascii=False))
        self._applied = self._hint

    def accept(self, pcm: bytes) -> Heard:
        with self._lock:
            self._idle = False
            if self._rec.AcceptWaveform(pcm):
                return Heard(_text(self._rec.Result()), True)
            return Heard(_partial(self._rec.PartialResult()), False)

    def finish(self) -> str:
        with self._lock:
            text = _text(self._rec.FinalResult())
            self._idle = True
            self._apply()
            return text


def _text(raw: str) -> str:
    return str(json.loads(raw).get("text", "")).strip()


def _partial(raw: str) -> str:
    return str(json.loads(raw).get("partial", "")).strip()


class VoskEngine:
    def __init__(self, model_path: str | Path, *, grammar: Sequence[str] = (),
                 threads: int = 4) -> None:
        self.info: ModelInfo = check_model(model_path)
        if grammar and not self.info.dynamic_graph:
            raise SpeechModelError(f"{self.info.path}: this model has a static graph "
                                   "(HCLG.fst) and cannot take a grammar; use open vocabulary")
        self.grammar = json.dumps(list(grammar), ensure_ascii=False) if grammar else ""
        self.rate = self.info.sample_rate
        self._model = load_model(self.info)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vosk")

    def transcriber(self) -> Transcriber:
        import vosk

        if self.grammar:
            return Transcriber(vosk.KaldiRecognizer(self._model, self.rate, self.grammar),
                               json.loads(self.grammar))
        return Transcriber(vosk.KaldiRecognizer(self._model, self.rate))

    async def new_transcriber(self) -> Transcriber:
        """Build a recogniser off the loop (a large grammar takes a moment to compile)."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.transcriber)

    async def accept(self, t: Transcriber, pcm: bytes) -> Heard:
        return await asyncio.get_running_loop().run_in_executor(self.pool, t.accept, pcm)

    async def finish(self, t: Transcriber) -> str:
        return await asyncio.get_running_loop().run_in_executor(self.pool, t.finish)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
