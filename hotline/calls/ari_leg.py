"""AriCallLeg: the CallLeg port over ARI. The controller feeds it events; every wait
raises the moment the channel is gone (asyncari-style unwinding): CallerGone on the
caller's own leg, LegGone on any other (a seat, a department), which the step handles."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from hotline.ari.events import Channel
from hotline.ari.rest import AriRest
from hotline.domain.caller_id import normalise_caller
from hotline.errors import AriNotFound, CallerGone, HotlineError, LegGone

log = logging.getLogger(__name__)
T = TypeVar("T")


class AriCallLeg:
    def __init__(self, rest: AriRest, channel: Channel, *, is_caller: bool = True) -> None:
        self._rest = rest
        self.is_caller = is_caller
        self.channel = channel
        # validated at arrival: the record, the seat's phone and the logs see only this
        self.caller_id = normalise_caller(channel.caller_number)
        self._gone = asyncio.Event()
        self._dtmf: asyncio.Queue[str] = asyncio.Queue()
        self._playbacks: dict[str, asyncio.Future[None]] = {}
        self._recordings: dict[str, asyncio.Future[float]] = {}
        self._talking = asyncio.Event()
        self._destroyed = asyncio.Event()
        self._cause = 0
        self.barge_in = asyncio.Event()

    # -- identity ---------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.channel.id

    @property
    def caller(self) -> str:
        return self.caller_id.number

    @property
    def rejected_caller(self) -> str | None:
        return self.caller_id.rejected

    @property
    def called(self) -> str:
        return self.channel.exten

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    # -- events in (from the controller) -----------------------------------------------------
    def on_gone(self, cause: int = 0, destroyed: bool = False) -> None:
        if cause and not self._cause:
            self._cause = cause
        if destroyed:
            self._destroyed.set()
        self._gone.set()
        for fut in self._playbacks.values():
            if not fut.done():
                fut.cancel()

    def on_dtmf(self, digit: str) -> None:
        self._dtmf.put_nowait(digit)
        self.barge_in.set()

    def on_playback_finished(self, playback_id: str) -> None:
        fut = self._playbacks.get(playback_id)
        if fut is not None and not fut.done():
            fut.set_result(None)

    def on_recording_finished(self, name: str, duration_s: float) -> None:
        fut = self._recordings.get(name)
        if fut is not None and not fut.done():
            fut.set_result(duration_s)

    def on_talking(self, started: bool) -> None:
        if started:
            self._talking.set()
            self.barge_in.set()
        else:
            self._talking.clear()

    # -- helpers ----------------------------------------------------------------------------
    def _gone_error(self) -> LegGone:
        return CallerGone(self.id) if self.is_caller else LegGone(self.id)

    async def _rest_call(self, aw: Awaitable[T]) -> T:
        if self.gone:
            if asyncio.iscoroutine(aw):
                aw.close()
            raise self._gone_error()
        try:
            return await aw
        except AriNotFound:
            self.on_gone()
            raise self._gone_error() from None

    async def _until(self, aw: Awaitable[T], timeout_s: float | None) -> tuple[bool, T | None]:
        """Await ``aw`` unless the channel goes; (done, result). Raises LegGone."""
        if self.gone:
            if asyncio.iscoroutine(aw):
                aw.close()
            raise self._gone_error()
        task = asyncio.ensure_future(aw)
        gone = asyncio.ensure_future(self._gone.wait())
        try:
            done, _ = await asyncio.wait({task, gone}, timeout=timeout_s,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not task.done():
                task.cancel()
        if task in done and not task.cancelled():
            return True, task.result()
        if self.gone:
            raise self._gone_error()
        return False, None

    # -- the port ---------------------------------------------------------------------------
    async def ring(self) -> None:
        await self._rest_call(self._rest.ring(self.id))

    async def ring_stop(self) -> None:
        await self._rest_call(self._rest.ring_stop(self.id))

    async def answer(self) -> None:
        await self._rest_call(self._rest.answer(self.id))

    async def detect_talk(self) -> None:
        """ChannelTalkingStarted/Finished from now on: the silent-line script, barge-in."""
        await self._rest_call(self._rest.set_var(self.id, "TALK_DETECT(set)", ""))

    async def play(self, media: Sequence[str], *, interruptible: bool = False) -> bool:
        if not media:
            return False
        playback_id = uuid.uuid4().hex
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._playbacks[playback_id] = fut
        self.barge_in.clear()
        try:
            await self._rest_call(self._rest.play(self.id, list(media), playback_id))
            if not interruptible:
                await self._until(asyncio.shield(fut), None)
                return False
            barge: asyncio.Future[object] = asyncio.ensure_future(self.barge_in.wait())
            try:
                waiters: set[asyncio.Future[Any]] = {fut, barge}
                await self._until(
                    asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED), None)
            finally:
                barge.cancel()
            if not fut.done():
                with contextlib.suppress(AriNotFound):
                    await self._rest.stop_playback(playback_id)
                return True
            return False
        except asyncio.CancelledError:  # the say was called off: the caller hears no more
            if not fut.done():
                with contextlib.suppress(HotlineError):
                    await asyncio.shield(self._rest.stop_playback(playback_id))
            raise
        finally:
            self._playbacks.pop(playback_id, None)

    async def record_message(self, name: str, max_s: float,
                             silence_s: float) -> tuple[float, bool]:
        """Record the caller until silence_s of silence, # or max_s: (seconds kept, whether
        the caller hung up meanwhile); the tone before it is the dialogue's to play. What
        was said before a hang-up is kept by Asterisk, and its length still reported."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._recordings[name] = fut
        try:
            try:
                await self._rest_call(self._rest.record(
                    self.id, name, max_duration_s=max(1, round(max_s)),
                    max_silence_s=max(1, round(silence_s)), terminate_on="#"))
                done, seconds = await self._until(asyncio.shield(fut), max_s + 5)
                if not done:  # no word from Asterisk: stop it and keep what there is
                    with contextlib.suppress(AriNotFound):
                        await self._rest.stop_recording(name)
                    seconds = await asyncio.wait_for(asyncio.shield(fut), 2)
                return float(seconds or 0.0), False
            except LegGone:
                with contextlib.suppress(TimeoutError):
                    return await asyncio.wait_for(asyncio.shield(fut), 2), True
                return 0.0, True
        finally:
            self._recordings.pop(name, None)

    async def collect_dtmf(self, timeout_s: float, max_digits: int = 1) -> str:
        digits = ""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(digits) < max_digits:
            left = deadline - loop.time()
            if left <= 0:
                break
            done, digit = await self._until(self._dtmf.get(), left)
            if not done or digit is None:
                break
            if digit == "#":
                break
            digits += digit
        return digits

    async def wait_speech(self, timeout_s: float) -> bool:
        if self._talking.is_set():
            return True
        done, _ = await self._until(self._talking.wait(), timeout_s)
        return done

    async def pause(self, seconds: float) -> None:
        await self._until(asyncio.sleep(seconds), None)

    async def end_cause(self, timeout_s: float) -> int:
        """The Q.850 cause the channel ended with (0 if unknown after timeout_s)."""
        if not self._cause:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._destroyed.wait(), timeout_s)
        return self._cause

    async def wait_gone(self, timeout_s: float | None) -> bool:
        try:
            await asyncio.wait_for(self._gone.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def hangup(self) -> None:
        if self.gone:
            return
        with contextlib.suppress(AriNotFound):
            await self._rest.hangup(self.id)
        self.on_gone()
