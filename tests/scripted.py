"""A scripted recogniser behind the Recognizer port: the Chinese dialogue is tested with
transcripts, since no Chinese Vosk model can be had here."""

from __future__ import annotations

import asyncio
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

    async def attach(self, leg: CallLeg, on_segment: OnSegment | None = None) -> None:
        self.on_segment[leg.id] = on_segment

    async def detach(self, leg: CallLeg) -> None:
        self.detached.append(leg.id)

    async def listen(self, leg: CallLeg, timeout_s: float) -> str:
        await asyncio.sleep(0.01)
        if not self.utterances:
            await asyncio.sleep(min(timeout_s, 0.05))
            return ""
        text = self.utterances.pop(0)
        self.heard.append(text)
        handler = self.on_segment.get(leg.id)
        if handler is not None:
            await handler(Said(text))
        return text
