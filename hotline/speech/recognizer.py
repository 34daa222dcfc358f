"""The Recognizer port over Vosk: one stream (tap, endpointer, recogniser) per call.

``attach`` starts listening when the call is answered and keeps going until ``detach``, so
what the caller says while a prompt plays is heard too (the prompt itself stops on the
caller's speech: barge-in on the leg). ``listen`` returns what the caller said since the
last answer was taken, waiting for the utterance in progress to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.errors import CallerGone, TelephonyError
from hotline.ports import CallLeg, OnSegment, SpeechTap
from hotline.speech.endpointing import EndpointSettings
from hotline.speech.stream import Engine, SpeechStream, Utterance

log = logging.getLogger(__name__)


class SpeechEngine(Engine, Protocol):
    """Vosk or Whisper, as the recogniser holds them."""

    async def new_transcriber(self) -> Any: ...
    def close(self) -> None: ...


@dataclass
class _Attached:
    stream: SpeechStream
    tap: Any


class StreamingRecognizer:
    available = True

    def __init__(self, engine: SpeechEngine, tap: SpeechTap,
                 settings: EndpointSettings | None = None) -> None:
        self.engine = engine
        self.tap = tap
        self.settings = settings or EndpointSettings()
        self._calls: dict[str, _Attached] = {}
        self.latencies_ms: list[float] = []
        self.on_latency_ms: Callable[[float], None] | None = None  # the metrics

    @property
    def streams(self) -> int:
        return len(self._calls)

    async def attach(self, leg: CallLeg, on_segment: OnSegment | None = None,
                     hint: str = "") -> None:
        if leg.id in self._calls:
            return

        async def segment(u: Utterance) -> None:
            if u.final:
                self.latencies_ms.append(u.latency_ms)
                del self.latencies_ms[:-1000]
                if self.on_latency_ms is not None:
                    self.on_latency_ms(u.latency_ms)
            if on_segment is not None:
                await on_segment(u)

        transcriber = await self.engine.new_transcriber()
        if hint:
            transcriber.hint = hint  # Vosk and Whisper transcribers both take one
        stream = SpeechStream(self.engine, transcriber, self.settings, segment)
        stream.start()
        try:
            handle = await self.tap.open(leg.id, self.engine.rate, stream.push)
        except BaseException:
            await stream.stop()
            raise
        self._calls[leg.id] = _Attached(stream, handle)

    async def detach(self, leg: CallLeg) -> None:
        attached = self._calls.pop(leg.id, None)
        if attached is not None:
            await self._let_go(attached)

    async def _let_go(self, attached: _Attached) -> None:
        """The tap first: closing it lets go of its socket before anything is awaited, so a
        call cancelled here (a shutdown that ran out of time) leaves no socket behind."""
        try:
            with contextlib.suppress(TelephonyError):
                await self.tap.close(attached.tap)
        finally:
            await attached.stream.stop()

    def faint(self, leg: CallLeg, min_ms: float = 300) -> bool:
        """Since the last ask, the caller was heard only faintly (too quiet for speech)."""
        attached = self._calls.get(leg.id)
        return attached is not None and attached.stream.ep.take_faint() >= min_ms

    def words_ended(self, leg: CallLeg) -> float | None:
        """When (perf_counter) the audio of the words the last listen returned ended."""
        attached = self._calls.get(leg.id)
        return attached.stream.words_ended if attached is not None else None

    def decoding(self, leg: CallLeg) -> bool:
        """The caller's utterance has ended and its text is not back yet."""
        attached = self._calls.get(leg.id)
        return attached is not None and attached.stream.finishing

    async def listen(self, leg: CallLeg, timeout_s: float, hint: str = "") -> str:
        """What the caller said, or '' if they said nothing for timeout_s. ``hint``: the
        words the step expects (Whisper's prompt; an utterance still open is decoded with it)."""
        attached = self._calls.get(leg.id)
        if attached is None:
            await self.attach(leg)
            attached = self._calls[leg.id]
        stream = attached.stream
        stream.t.hint = hint
        heard = self._drain(stream)
        if heard:
            return heard
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        cut = deadline + self.settings.max_ms / 1000 + 1  # an utterance in progress may end
        while True:
            left = (cut if stream.speaking else deadline) - loop.time()
            if stream.finishing:  # ended and still being decoded (Whisper): its text is due
                left = max(left, 0.05)
            if left <= 0:
                return ""
            got = asyncio.ensure_future(stream.finals.get())
            gone = asyncio.ensure_future(leg.wait_gone(None))
            try:
                done, _ = await asyncio.wait({got, gone}, timeout=min(left, 0.25),
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
                if not got.done():
                    got.cancel()
            if got in done and not got.cancelled():
                text = " ".join([self._text(stream, got.result()), self._drain(stream)])
                if text.strip():
                    return text.strip()
            if leg.gone:
                raise CallerGone(leg.id)

    def _text(self, stream: SpeechStream, u: Utterance) -> str:
        """An utterance too quiet to trust (its loudest 20 ms below quiet_peak_dbfs) counts
        as a faint voice, not as words: the caller hears that they are not heard."""
        if u.peak_dbfs < self.settings.quiet_peak_dbfs:
            stream.ep.faint_ms += (u.end_s - u.start_s) * 1000
            log.info("an utterance too quiet to trust (peak %.0f dBFS) taken as faint",
                     u.peak_dbfs)
            return ""
        if u.text:
            stream.words_ended = max(stream.words_ended or 0.0, u.voice_ended)
        return u.text

    def _drain(self, stream: SpeechStream) -> str:
        texts = []
        while not stream.finals.empty():
            texts.append(self._text(stream, stream.finals.get_nowait()))
        return " ".join(t for t in texts if t).strip()

    async def close(self) -> None:
        for attached in list(self._calls.values()):
            await self._let_go(attached)
        self._calls.clear()
        self.engine.close()


