"""The seat board: which seats may be offered a call now (the SeatBoard port).

Duty states live in the database, so the console and `hotline operators duty` change them
for every controller at once. Who is talking right now is this controller's own knowledge;
with several nodes on one database (``claims``), a seat is also claimed there, atomically,
before it rings, so two nodes never offer one seat at once, and ``talking`` reads every
node's claims (the wallboard).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Sequence
from datetime import datetime

from hotline.domain.seats import Seat, offer_order
from hotline.errors import StoreError
from hotline.seats.claims import SeatClaims
from hotline.store.operators_repo import OperatorRepository

log = logging.getLogger(__name__)


class SeatRoster:
    """``max_age_s``: how long a read of the seats is reused, so a burst of calls costs one
    query; a duty change takes effect within that time."""

    def __init__(self, operators: OperatorRepository, max_age_s: float = 1.0,
                 claims: SeatClaims | None = None) -> None:
        self.operators = operators
        self.claims = claims
        self.max_age_s = max_age_s
        self.busy: set[str] = set()
        self._seats: list[Seat] = []
        self._read_at = -math.inf

    async def offer_order(self, exclude: Sequence[str] = ()) -> list[Seat]:
        now = time.monotonic()
        if now - self._read_at > self.max_age_s:
            try:
                self._seats = await self.operators.seats()
                self._read_at = now
            except StoreError as exc:  # the last known seats, or the attendant answers
                log.error("cannot read the seats: %s", exc)
        return offer_order(self._seats, busy=self.busy, exclude=exclude)

    async def take(self, job_number: str) -> bool:
        if job_number in self.busy:
            return False
        self.busy.add(job_number)  # first, so this node's other calls pass it over at once
        if self.claims is None:
            return True
        try:
            if await self.claims.claim(job_number):
                return True
        except StoreError as exc:  # no claim, no ring: the next seat, or the attendant
            log.error("cannot claim seat %s: %s", job_number, exc)
        except BaseException:  # cancelled mid-claim: the claim may have been made
            self.busy.discard(job_number)
            with contextlib.suppress(StoreError):
                await asyncio.shield(self.claims.release(job_number))
            raise
        self.busy.discard(job_number)
        return False

    async def release(self, job_number: str) -> None:
        if job_number not in self.busy:
            return
        self.busy.discard(job_number)
        if self.claims is not None:
            try:
                await self.claims.release(job_number)
            except StoreError as exc:  # the lease lapses on its own
                log.warning("cannot release seat %s's claim: %s", job_number, exc)

    async def talking(self) -> set[str]:
        """The seats talking now: this node's; with claims, every node's (this node's alone
        while the database is away, said in the log)."""
        if self.claims is None:
            return set(self.busy)
        try:
            return await self.claims.talking() | self.busy
        except StoreError as exc:
            log.warning("cannot read the other nodes' seat claims: %s", exc)
            return set(self.busy)

    async def record_call(self, job_number: str, at: datetime) -> None:
        try:
            await self.operators.touch(job_number, at)
        except StoreError as exc:
            log.warning("cannot note seat %s's last call: %s", job_number, exc)
