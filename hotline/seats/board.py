"""The seat board: which seats may be offered a call now (the SeatBoard port).

Duty states live in the database, so the console and `hotline operators duty` change them
for every controller at once; who is talking right now is this controller's own knowledge.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from datetime import datetime

from hotline.domain.seats import Seat, offer_order
from hotline.errors import StoreError
from hotline.store.operators_repo import OperatorRepository

log = logging.getLogger(__name__)


class SeatRoster:
    """``max_age_s``: how long a read of the seats is reused, so a burst of calls costs one
    query; a duty change takes effect within that time."""

    def __init__(self, operators: OperatorRepository, max_age_s: float = 1.0) -> None:
        self.operators = operators
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

    def take(self, job_number: str) -> bool:
        if job_number in self.busy:
            return False
        self.busy.add(job_number)
        return True

    def release(self, job_number: str) -> None:
        self.busy.discard(job_number)

    async def record_call(self, job_number: str, at: datetime) -> None:
        try:
            await self.operators.touch(job_number, at)
        except StoreError as exc:
            log.warning("cannot note seat %s's last call: %s", job_number, exc)
