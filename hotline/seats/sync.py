"""This node's Asterisk kept in step with the seats in the database.

A seat added, removed, given a new password or switched between a SIP phone and the browser
(`hotline operators ...`, the desk's phone switch) is written to the one database, whichever
node the command ran on; the command pushes it into that node's Asterisk at most. So each
node's controller reads the seats' PJSIP configuration (four short columns) every
``every_s`` (SEAT_SYNC_S, 2 s), pushes into its own Asterisk the seats that are new or changed and
removes those gone; after every (re)connect to ARI it pushes them all again (an Asterisk that
restarted has none: ARI's dynamic configuration lives in its memory). Polling rather than a
NOTIFY: it works on SQLite too, and nothing is missed while the database or ARI was away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from hotline.domain.seats import SeatConfig
from hotline.errors import StoreError, TelephonyError

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
SEAT_SYNC_S = 2.0  # how often each node looks at the seats in the database


class SeatSource(Protocol):
    async def configs(self) -> list[SeatConfig]: ...


class SeatPusher(Protocol):
    """This node's Asterisk (hotline/seats/provision.py's SeatProvisioner)."""

    async def push(self, op: SeatConfig) -> object: ...
    async def remove(self, job_number: str) -> None: ...


@dataclass(frozen=True)
class SeatChanges:
    """What one look at the database changed in this node's Asterisk (job numbers)."""

    pushed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # not pushed or not removed: tried again at the next look


class SeatSync:
    def __init__(self, seats: SeatSource, asterisk: SeatPusher, every_s: float = SEAT_SYNC_S,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.seats = seats
        self.asterisk = asterisk
        self.every_s = every_s
        self._sleep = sleep
        # what this node's Asterisk holds, as pushed; None: in doubt (a push failed half
        # way, or ARI reconnected): pushed again if the seat is wanted, removed if not
        self._held: dict[str, SeatConfig | None] = {}
        self._lock = asyncio.Lock()  # a reconnect's push_all and a look never interleave
        self._said: dict[str, str] = {}  # the ARI error last logged for a seat (said once)
        self._db_down = False

    async def push_all(self) -> SeatChanges:
        """After every (re)connect to ARI: every seat again, and any seat removed meanwhile
        out. A StoreError (the database away) leaves every seat in doubt, so the next look
        that reads the database pushes them all."""
        async with self._lock:
            self._held = dict.fromkeys(self._held, None)
            return await self._apply(await self.seats.configs())

    async def catch_up(self) -> SeatChanges:
        """One look: the seats new or changed in the database pushed, those gone removed."""
        async with self._lock:
            return await self._apply(await self.seats.configs())

    async def keep_in_step(self, connected: asyncio.Event) -> None:
        """The supervised task: a look every ``every_s`` while ARI is connected (a reconnect
        pushes them all). The database away is logged once and looked at again."""
        while True:
            await self._sleep(self.every_s)
            if not connected.is_set():
                continue
            try:
                changes = await self.catch_up()
            except StoreError as exc:
                if not self._db_down:
                    log.warning("seats: cannot read them from the database (looked at again "
                                "every %g s): %s", self.every_s, exc)
                self._db_down = True
                continue
            if self._db_down:
                log.info("seats: the database answers again")
                self._db_down = False
            if changes.pushed or changes.removed:
                log.info("seats changed in the database: pushed into this Asterisk: %s; "
                         "removed from it: %s", " ".join(changes.pushed) or "none",
                         " ".join(changes.removed) or "none")

    async def _apply(self, configs: list[SeatConfig]) -> SeatChanges:
        wanted = {c.job_number: c for c in configs}
        pushed: list[str] = []
        removed: list[str] = []
        failed: list[str] = []
        for job, config in wanted.items():
            if self._held.get(job) == config:
                continue
            try:
                await self.asterisk.push(config)
            except TelephonyError as exc:
                self._held[job] = None
                self._failed(job, "provision", exc)
                failed.append(job)
                continue
            self._held[job] = config
            self._said.pop(job, None)
            pushed.append(job)
        for job in [j for j in self._held if j not in wanted]:
            try:
                await self.asterisk.remove(job)
            except TelephonyError as exc:
                self._held[job] = None
                self._failed(job, "remove", exc)
                failed.append(job)
                continue
            del self._held[job]
            self._said.pop(job, None)
            removed.append(job)
        return SeatChanges(tuple(pushed), tuple(removed), tuple(failed))

    def _failed(self, job: str, what: str, exc: TelephonyError) -> None:
        message = f"{what}: {exc}"
        if self._said.get(job) != message:
            log.error("could not %s seat %s in this Asterisk (tried again every %g s): %s",
                      what, job, self.every_s, exc)
            self._said[job] = message
