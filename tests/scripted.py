"""A scripted recogniser behind the Recognizer port: the Chinese dialogue is tested with
transcripts, since no Chinese Vosk model can be had here."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from hotline.ports import CallLeg


class ScriptedRecognizer:
    available = True

    def __init__(self, utterances: Iterable[str] = ()) -> None:
        self.utterances = list(utterances)
        self.heard: list[str] = []

    async def listen(self, leg: CallLeg, timeout_s: float) -> str:
        await asyncio.sleep(0.01)
        if not self.utterances:
            await asyncio.sleep(min(timeout_s, 0.05))
            return ""
        text = self.utterances.pop(0)
        self.heard.append(text)
        return text
