"""The seat board: which seats may be offered a call now (the SeatBoard port).

Duty states live in the database, so the console and `hotline operators duty` change them
for every controller at once; who is talking right now is this controller's own knowledge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from hotline.domain.seats import Seat, offer_order
from hotline.errors import StoreError
from hotline.store.operators_repo import OperatorRepository

log = logging.getLogger(__name__)


class SeatRoster:
    def __init__(self, operators: OperatorRepository) -> None:
        self.operators = operators
        self.busy: set[str] = set()

    async def offer_order(self, exclude: Sequence[str] = ()) -> list[Seat]:
        try:
            seats = await self.operators.seats()
        except StoreError as exc:  # no seats known: the attendant answers
            log.error("cannot read the seats: %s", exc)
            return []
        return offer_order(seats, busy=self.busy, exclude=exclude)

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
