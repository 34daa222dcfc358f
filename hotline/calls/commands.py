"""Requests from the console to the calls running on this node: the operator's warm transfer.

The flow ``open``s a call's inbox when the record is written and awaits ``next(call_id)``
while caller and operator talk; the console ``submit``s. A request for a call that is not
live on this node is refused at once (False), so the console can say so instead of waiting;
one made before the conversation starts is taken up when it does.

The console ``ask``s with the node that holds the call (the record's ``node``): here, this
is ``submit``; with several nodes on PostgreSQL, ``PgCallRequests``
(hotline/live/pg_requests.py) carries a request for another node's call to that node and
its answer back.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass


class Answer(enum.StrEnum):
    """What became of a request: taken up by the call's flow; refused (the call is not in a
    conversation, or already has requests waiting); or no answer from the node holding it."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class TransferRequest:
    """Hand the caller to a colleague's seat (``seat`` is their job number; the node that
    rings it makes its dial string, domain.seats.seat_dial) or to a department at
    ``endpoint`` (``organisation`` is read to them), with the operator's written summary."""

    by: str
    endpoint: str
    summary: str
    seat: str = ""
    organisation: str = ""

    @property
    def to(self) -> str:
        return self.seat or self.organisation


class CallRequests:
    def __init__(self) -> None:
        self._waiting: dict[int, asyncio.Queue[TransferRequest]] = {}

    def open(self, call_id: int) -> None:
        self._waiting.setdefault(call_id, asyncio.Queue(4))

    async def next(self, call_id: int) -> TransferRequest:
        self.open(call_id)
        return await self._waiting[call_id].get()

    def submit(self, call_id: int, request: TransferRequest) -> bool:
        box = self._waiting.get(call_id)
        if box is None or box.full():
            return False
        box.put_nowait(request)
        return True

    async def ask(self, call_id: int, node: str, request: TransferRequest) -> Answer:
        """Submit to the call wherever it runs (one node: here, whatever ``node`` says)."""
        return Answer.ACCEPTED if self.submit(call_id, request) else Answer.REFUSED

    def forget(self, call_id: int) -> None:
        self._waiting.pop(call_id, None)
