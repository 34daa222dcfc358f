"""The node's monitoring sessions: started from the wallboard, fed the ARI events of their
channels by the call controller, each run as its own task and stopped with the node.

A call can be monitored while its caller and operator are bridged on this node's Asterisk;
a supervisor runs one session at a time (a second start while one is live is refused)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hotline.ari.rest import AriRest
from hotline.domain.monitoring import Mode
from hotline.domain.seats import seat_dial
from hotline.errors import TelephonyError
from hotline.monitor.session import MONITOR_PREFIX, Audit, MonitorSession, MonitorTarget

log = logging.getLogger(__name__)


class MonitorRefused(Exception):
    """The request cannot be served (said to the supervisor as is)."""


class Monitors:
    def __init__(self, rest: AriRest, app: str, audit: Audit, *, seat_proxy: str,
                 ring_s: float = 30.0) -> None:
        self.rest, self.app, self.audit, self.ring_s = rest, app, audit, ring_s
        self.seat_proxy = seat_proxy  # HOTLINE_SEAT_PROXY: the supervisor's phone is rung by it
        self.sessions: dict[str, MonitorSession] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def target(self, call_id: int, caller_channel: str) -> MonitorTarget:
        """Where the call is now: the bridge holding the caller, and the operator in it."""
        try:
            bridges = await self.rest.list_bridges()
        except TelephonyError as exc:
            raise MonitorRefused(f"Asterisk: {exc}") from None
        for bridge in bridges:
            members = [str(c) for c in bridge.get("channels", [])]
            if caller_channel in members:
                others = [c for c in members
                          if c != caller_channel and not c.startswith(MONITOR_PREFIX)]
                if others:
                    return MonitorTarget(call_id, caller_channel, others[0], str(bridge["id"]))
        raise MonitorRefused("the call is not talking to an operator now")

    async def start(self, by: str, seat: str, call_id: int, caller_channel: str,
                    mode: Mode) -> MonitorSession:
        """``by`` monitors the call on the phone of ``seat`` (their job number)."""
        if any(s.by == by and s.machine.live for s in self.sessions.values()):
            raise MonitorRefused("you are monitoring a call already: stop it first")
        session = MonitorSession(self.rest, self.app, await self.target(call_id, caller_channel),
                                 by, seat_dial(seat, self.seat_proxy), mode, self.audit,
                                 self.ring_s)
        self.sessions[session.id] = session
        task = asyncio.create_task(session.run(), name=f"monitor-{session.id}")
        self._tasks[session.id] = task
        task.add_done_callback(lambda _: self._forget(session.id))
        return session

    def _forget(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)
        self._tasks.pop(session_id, None)

    def of(self, session_id: str, by: str) -> MonitorSession:
        session = self.sessions.get(session_id)
        if session is None or session.by != by:
            raise KeyError(session_id)
        return session

    def view(self) -> list[dict[str, Any]]:
        return [s.view() for s in self.sessions.values()]

    # -- events in (from the call controller) -------------------------------------------------
    def on_stasis_start(self, channel_id: str) -> bool:
        return any([s.on_stasis_start(channel_id) for s in list(self.sessions.values())])

    def on_destroyed(self, channel_id: str) -> bool:
        return any([s.on_destroyed(channel_id) for s in list(self.sessions.values())])

    async def close(self, timeout_s: float = 5.0) -> None:
        """The node stops: every session ends and releases what it holds."""
        for session in list(self.sessions.values()):
            session.stop()
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=timeout_s)
