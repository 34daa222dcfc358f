"""A scripted recogniser behind the Recognizer port: the Chinese dialogue is tested with
transcripts, since no Chinese Vosk model can be had here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.ports import CallLeg, OnSegment


@dataclass(frozen=True)
class Said:
    text: str
    final: bool = True
    start_s: float = 0.0
    end_s: float = 0.0


class ScriptedRecognizer:
    available = True

    def __init__(self, utterances: Iterable[str] = ()) -> None:
        self.utterances = list(utterances)
        self.heard: list[str] = []
        self.on_segment: dict[str, OnSegment | None] = {}
        self.detached: list[str] = []
        self.hints: list[str] = []  # the vocabulary each listen was given
        self.decode_s = 0.0  # how long recognition takes once the caller stops (a busy pool)
        self._decoding = False
        self.faint_asks = 0  # this many asks hear only a faint voice (once the words run out)
        self.ended: float | None = None  # the scripted words "end" as listen starts decoding

    async def attach(self, leg: CallLeg, on_segment: OnSegment | None = None,
                     hint: str = "") -> None:
        self.on_segment[leg.id] = on_segment
        self.hints.append(hint)

    async def detach(self, leg: CallLeg) -> None:
        self.detached.append(leg.id)

    def decoding(self, leg: CallLeg) -> bool:
        return self._decoding

    def words_ended(self, leg: CallLeg) -> float | None:
        return self.ended

    def faint(self, leg: CallLeg) -> bool:
        return self.faint_asks > 0 and not self.utterances and self._take_faint()

    def _take_faint(self) -> bool:
        self.faint_asks -= 1
        return True

    async def listen(self, leg: CallLeg, timeout_s: float, hint: str = "") -> str:
        self.hints.append(hint)
        await asyncio.sleep(0.01)
        if not self.utterances:
            await asyncio.sleep(min(timeout_s, 0.05))
            return ""
        text = self.utterances.pop(0)
        self.ended = time.perf_counter()
        if self.decode_s:
            self._decoding = True
            try:
                await asyncio.sleep(self.decode_s)
            finally:
                self._decoding = False
        self.heard.append(text)
        handler = self.on_segment.get(leg.id)
        if handler is not None:
            await handler(Said(text))
        return text
