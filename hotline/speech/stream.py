"""One call's speech stream: audio frames in, utterances out.

Frames arrive from the RTP receiver on the event loop. A worker task runs the endpointer on
each frame and passes the audio of an utterance (with a short pre-roll, so the first syllable
is not lost) to the call's transcriber on the engine's threads. Silence between utterances is
not recognised at all, which is most of a call. When the line goes quiet (no packets), the
worker feeds silence so an utterance still ends on time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.speech.endpointing import Edge, Endpointer, EndpointSettings
from hotline.speech.engine import Heard

log = logging.getLogger(__name__)

FRAME_MS = 20
PREROLL_MS = 300
BACKLOG_S = 10  # frames waiting for the worker beyond this are dropped, oldest first


@dataclass(frozen=True)
class Utterance:
    text: str
    final: bool
    start_s: float  # offsets in the call's audio
    end_s: float
    latency_ms: float = 0.0  # from the end of the voiced audio to the final text
    peak_dbfs: float = 0.0  # the loudest 20 ms of the utterance
    voice_ended: float = 0.0  # perf_counter when its last voiced audio arrived


class Engine(Protocol):
    """Vosk (streaming: partial text as audio comes) or Whisper (the utterance decoded when
    it ends); ``t`` is the engine's own per-call transcriber."""

    rate: int

    async def accept(self, t: Any, pcm: bytes) -> Heard: ...
    async def finish(self, t: Any) -> str: ...


OnUtterance = Callable[[Utterance], Awaitable[None]]


class SpeechStream:
    def __init__(self, engine: Engine, transcriber: Any,
                 settings: EndpointSettings | None = None,
                 on_utterance: OnUtterance | None = None) -> None:
        self.engine = engine
        self.t = transcriber
        self.rate = engine.rate
        self.frame_bytes = self.rate * FRAME_MS // 1000 * 2
        self.ep = Endpointer(self.rate, settings)
        self.on_utterance = on_utterance
        self.finals: asyncio.Queue[Utterance] = asyncio.Queue()
        self.partial = ""
        self._frames: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue(
            maxsize=BACKLOG_S * 1000 // FRAME_MS)
        self._pending = b""
        self._preroll: collections.deque[bytes] = collections.deque(
            maxlen=PREROLL_MS // FRAME_MS)
        self._parts: list[str] = []
        self._voice_arrived = 0.0  # perf_counter when the last voiced frame arrived
        self.words_ended: float | None = None  # the same, of the last words listen returned
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self.frames_in = 0
        self.frames_dropped = 0  # the worker fell behind by more than BACKLOG_S
        self._quiet = asyncio.Event()  # set while no utterance is open
        self._quiet.set()
        self.finishing = False  # an utterance has ended and its final text is awaited
        self._peak = -120.0  # the loudest frame of the utterance in progress

    @property
    def speaking(self) -> bool:
        return self.ep.speaking

    # -- audio in (on the loop) ---------------------------------------------------------------
    def push(self, pcm: bytes) -> None:
        """Little-endian 16-bit mono at the engine's rate, any length."""
        self._pending += pcm
        while len(self._pending) >= self.frame_bytes:
            frame, self._pending = (self._pending[:self.frame_bytes],
                                    self._pending[self.frame_bytes:])
            if self._frames.full():  # a stalled recogniser must not hold the call's audio
                self._frames.get_nowait()
                self._frames.task_done()
                self.frames_dropped += 1
            self._frames.put_nowait((frame, time.perf_counter()))
            self.frames_in += 1

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="speech-stream")

    async def stop(self) -> None:
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def drain(self) -> None:
        """Wait until every frame pushed so far is processed and no utterance is open."""
        await self._frames.join()
        await self._quiet.wait()

    # -- the worker ---------------------------------------------------------------------------
    async def _run(self) -> None:
        silence = bytes(self.frame_bytes)
        gap_s = 3 * FRAME_MS / 1000
        while not self._closed:  # (a cancellation lost in a timeout race still stops it)
            try:
                async with asyncio.timeout(gap_s):
                    frame, arrived = await self._frames.get()
            except TimeoutError:
                if not self.ep.speaking:
                    continue
                # the line went quiet mid-utterance: count it as silence
                frame, arrived = silence, time.perf_counter()
            try:
                await self._frame(frame, arrived)
            except asyncio.CancelledError:
                raise
            except Exception:  # a recogniser fault must not end the call
                log.exception("speech recognition failed on a frame; utterance dropped")
                self._parts.clear()
            finally:
                if frame is not silence:
                    self._frames.task_done()

    async def _frame(self, frame: bytes, arrived: float) -> None:
        edge = self.ep.feed(frame)
        if self.ep.last_voiced:
            self._voice_arrived = arrived
        if self.ep.speaking or edge is not None:
            self._peak = max(self._peak, self.ep.last_db)
        if edge is Edge.STARTED:
            self._peak = self.ep.last_db
            self._quiet.clear()
            self._parts.clear()
            self.partial = ""
            audio = b"".join(self._preroll) + frame
            self._preroll.clear()
            await self._accept(audio)
            return
        if not self.ep.speaking and edge is None:
            self._preroll.append(frame)
            return
        await self._accept(frame)
        if edge is Edge.ENDED:
            await self._final()

    async def _accept(self, audio: bytes) -> None:
        heard = await self.engine.accept(self.t, audio)
        if heard.final:
            if heard.text:
                self._parts.append(heard.text)
            self.partial = ""
        elif heard.text != self.partial:
            self.partial = heard.text
            await self._emit(Utterance(" ".join([*self._parts, heard.text]), False,
                                       self.ep.started_ms / 1000, self.ep.audio_ms / 1000))

    async def _final(self) -> None:
        self.finishing = True
        try:
            tail = await self.engine.finish(self.t)
        finally:
            self.finishing = False
        text = " ".join(p for p in [*self._parts, tail] if p)
        self._parts.clear()
        self.partial = ""
        latency_ms = (time.perf_counter() - self._voice_arrived) * 1000
        utterance = Utterance(text, True, self.ep.started_ms / 1000, self.ep.ended_ms / 1000,
                              latency_ms=latency_ms, peak_dbfs=self._peak,
                              voice_ended=self._voice_arrived)
        if text:
            self.finals.put_nowait(utterance)
        self._quiet.set()
        await self._emit(utterance)

    async def _emit(self, utterance: Utterance) -> None:
        if self.on_utterance is not None:
            try:
                await self.on_utterance(utterance)
            except Exception:
                log.exception("utterance handler failed")
