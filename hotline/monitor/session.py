"""One monitoring session: a supervisor listening to, whispering to or barging into one call.

The session owns what it makes (the supervisor's leg, its own mixing bridge, the snoop on the
operator's leg) on an exit stack and releases all of it in ``finally``, whatever ends it:
any party hanging up, the supervisor stopping, a failed ARI step, cancellation. It never
touches the call's own legs or bridge except to put the supervisor's leg in (barge) and
take it out again.

listen / whisper: snoop(operator leg, spy=both, whisper=none|out) + supervisor's leg in a
mixing bridge of the session's own. The operator's leg is spied on both directions, so the
supervisor hears the caller and the operator; with whisper=out the supervisor's audio is
written toward the operator only. barge: the supervisor's leg in the call's bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.ari.rest import AriRest
from hotline.domain.monitoring import (
    IllegalMonitorStep,
    Mode,
    MonitorMachine,
    MonitorState,
    snoop_for,
)
from hotline.errors import AriNotFound, TelephonyError

log = logging.getLogger(__name__)

MONITOR_PREFIX = "mon-"  # every channel a monitoring session makes (orphans are hung up)
MONITOR_ARG = "monitor"  # the Stasis argument of the supervisor's leg and of the snoops


class Audit(Protocol):
    async def audit(self, actor: str, action: str, target: str = "",
                    detail: dict[str, Any] | None = None) -> None: ...


@dataclass(frozen=True)
class MonitorTarget:
    """The call as Asterisk holds it now: the caller's and the operator's legs, and the
    bridge they talk in."""

    call_id: int
    caller: str
    operator: str
    bridge: str


class MonitorSession:
    def __init__(self, rest: AriRest, app: str, target: MonitorTarget, by: str,
                 endpoint: str, mode: Mode, audit: Audit, ring_s: float = 30.0,
                 clock: Callable[[], float] | None = None) -> None:
        self.rest, self.app, self.target, self.by = rest, app, target, by
        self.endpoint = endpoint
        self.audit = audit
        self.ring_s = ring_s
        self.id = uuid.uuid4().hex[:12]
        self.machine = MonitorMachine(mode)
        self.leg = f"{MONITOR_PREFIX}sup-{self.id}"
        self.snoop: str | None = None  # the current snoop (none while barging)
        self.bridge: str | None = None  # the session's own bridge
        self.in_bridge: str | None = None  # where the supervisor's leg is now
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self.started_at = 0.0
        self._in_stasis: dict[str, asyncio.Future[None]] = {}
        self._gone = asyncio.Event()
        self._asked: asyncio.Queue[Mode | None] = asyncio.Queue()
        self.error = ""

    # -- events in (from the service) ---------------------------------------------------------
    def on_stasis_start(self, channel_id: str) -> bool:
        fut = self._in_stasis.get(channel_id)
        if fut is None:
            return False
        if not fut.done():
            fut.set_result(None)
        return True

    def on_destroyed(self, channel_id: str) -> bool:
        who = {self.leg: "supervisor", self.target.caller: "caller",
               self.target.operator: "operator"}.get(channel_id)
        if who is None and channel_id == self.snoop:
            who = "snoop"
        if who == "supervisor" and self.machine.state is MonitorState.DIALLING:
            who = "unanswered"  # declined, or rang out
        if who is None:
            return False
        fut = self._in_stasis.get(channel_id)
        if fut is not None and not fut.done():
            fut.set_exception(AriNotFound("event", channel_id, 404, "hung up"))
        self._end(who)
        return True

    # -- requests in (from the console) -------------------------------------------------------
    def ask(self, mode: Mode) -> None:
        """Switch to ``mode`` (taken up in order; one to the mode already on is refused)."""
        if not self.machine.live:
            raise IllegalMonitorStep(f"switch to {mode.value}", self.machine.state)
        self._asked.put_nowait(mode)

    def stop(self) -> None:
        self._end("stop")

    def _end(self, who: str) -> None:
        if self.machine.gone(who):
            self._gone.set()
            self._asked.put_nowait(None)

    # -- the session --------------------------------------------------------------------------
    async def run(self) -> None:
        m = self.machine
        try:
            async with AsyncExitStack() as stack:
                stack.push_async_callback(lambda: asyncio.shield(self._release()))
                answered = self._expect(self.leg)
                await self.rest.originate(self.endpoint, self.app, app_args=MONITOR_ARG,
                                          channel_id=self.leg, caller_id=f"monitor <{self.by}>",
                                          timeout_s=max(1, int(self.ring_s)))
                # while the supervisor's phone rings, the snoop and the bridge are made
                self.bridge = await self.rest.create_bridge("mixing", name=f"monitor-{self.id}")
                if snoop_for(m.mode) is not None:
                    await self._new_snoop(m.mode)
                await self._until_gone(asyncio.wait_for(answered, self.ring_s))
                m.answered()
                await self._place(m.mode)
                m.connected()
                await self._audit("monitor_start", {"mode": m.mode.value})
                while m.live:
                    mode = await self._asked.get()
                    if mode is None or not m.live:
                        break
                    if mode is m.mode:
                        continue
                    before = m.switch(mode)
                    await self._place(mode, before)
                    m.connected()
                    await self._audit("monitor_mode", {"from": before.value,
                                                       "mode": mode.value})
        except (TelephonyError, TimeoutError, IllegalMonitorStep, _Gone) as exc:
            if isinstance(exc, AriNotFound):  # a leg gone under a step: its hang-up says who
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._gone.wait(), 1.0)
            if not isinstance(exc, _Gone) and m.live:
                self.error = str(exc) or type(exc).__name__
                log.info("monitor %s of call %s: %s", self.id, self.target.call_id,
                         self.error)
            self._end("unanswered" if m.state is MonitorState.DIALLING and
                      isinstance(exc, TimeoutError) else "failed")
        finally:
            self._end("stop")  # (cancelled: still released)
            m.end()
            held = round(self._clock() - self.started_at, 1) if self.started_at else 0.0
            await asyncio.shield(self._audit("monitor_end", {
                "mode": m.mode.value, "modes": [x.value for x in m.modes],
                "ended_by": m.ended_by, "seconds": held,
                **({"error": self.error} if self.error else {})}))

    async def _place(self, mode: Mode, before: Mode | None = None) -> None:
        """Put the supervisor's leg where ``mode`` needs it (the snoop made anew for a
        listen/whisper change: a snoop's direction is fixed when it is made)."""
        assert self.bridge is not None
        spec = snoop_for(mode)
        if before is not None and spec is not None:
            await self._drop_snoop()
            await self._new_snoop(mode)
        if spec is None:
            await self._drop_snoop()
            await self._move(self.target.bridge)
        else:
            await self._move(self.bridge)
        if self.started_at == 0.0:
            self.started_at = self._clock()

    async def _move(self, bridge: str) -> None:
        if self.in_bridge == bridge:
            return
        if self.in_bridge is not None:
            with contextlib.suppress(AriNotFound):  # (the call's bridge may be gone)
                await self.rest.remove_from_bridge(self.in_bridge, self.leg)
            self.in_bridge = None
        await self._until_gone(self.rest.add_to_bridge(bridge, self.leg))
        self.in_bridge = bridge

    async def _new_snoop(self, mode: Mode) -> None:
        spec = snoop_for(mode)
        assert spec is not None and self.bridge is not None
        snoop_id = f"{MONITOR_PREFIX}snoop-{uuid.uuid4().hex[:12]}"
        ready = self._expect(snoop_id)
        self.snoop = snoop_id  # the session's to hang up from the request on
        await self.rest.snoop(self.target.operator, self.app, spy=spec.spy,
                              whisper=spec.whisper, snoop_id=snoop_id, app_args=MONITOR_ARG)
        await self._until_gone(asyncio.wait_for(ready, 5.0))
        await self._until_gone(self.rest.add_to_bridge(self.bridge, snoop_id))

    async def _drop_snoop(self) -> None:
        snoop, self.snoop = self.snoop, None
        if snoop is not None:
            self._in_stasis.pop(snoop, None)
            await _hang_up(self.rest, snoop)

    def _expect(self, channel_id: str) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_stasis[channel_id] = fut
        return fut

    async def _until_gone(self, step: Awaitable[Any]) -> Any:
        """``step``, unless a party hangs up first (_Gone)."""
        task = asyncio.ensure_future(step)
        gone = asyncio.ensure_future(self._gone.wait())
        try:
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise _Gone
        return task.result()

    async def _release(self) -> None:
        """Everything the session made, whatever happened; never the call's own legs."""
        if self.in_bridge == self.target.bridge:
            with contextlib.suppress(TelephonyError):
                await self.rest.remove_from_bridge(self.target.bridge, self.leg)
        self.in_bridge = None
        await _hang_up(self.rest, self.leg)
        await self._drop_snoop()
        bridge, self.bridge = self.bridge, None
        if bridge is not None:
            with contextlib.suppress(TelephonyError):
                await self.rest.destroy_bridge(bridge)
        for fut in self._in_stasis.values():
            if not fut.done():
                fut.cancel()
        self._in_stasis.clear()

    async def _audit(self, action: str, detail: dict[str, Any]) -> None:
        try:  # an audit store away must not drop the supervisor's session
            await self.audit.audit(self.by, action, str(self.target.call_id),
                                   {**detail, "session": self.id})
        except Exception:
            log.exception("monitor %s: %s not audited", self.id, action)

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "call": self.target.call_id, "by": self.by,
                "mode": self.machine.mode.value, "state": self.machine.state.value,
                "ended_by": self.machine.ended_by, "error": self.error}


class _Gone(Exception):
    """A party hung up while a step was in progress."""


async def _hang_up(rest: AriRest, channel_id: str) -> None:
    with contextlib.suppress(AriNotFound, TelephonyError):
        await rest.hangup(channel_id, "normal")
