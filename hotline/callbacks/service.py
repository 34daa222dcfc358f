"""The callback list and the outbound calls, for the console and the CLI: the list derived
from the calls of the window, an attempt recorded before the operator's phone rings, and
its outcome when the call is over (in the background: the console polls it)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from hotline.callbacks.dialer import OutboundDialer
from hotline.callbacks.store import CallbackStore
from hotline.domain.callbacks import Attempt, Cleared, Entry, Outcome, callback_list
from hotline.domain.calls import caller_number
from hotline.errors import HotlineError, NotFoundError
from hotline.ports import Clock, SeatBoard
from hotline.privacy import mask_number

log = logging.getLogger(__name__)


class OutboundError(HotlineError):
    """An outbound call cannot be made as asked (the message says which field and why)."""


class OutboundBusy(OutboundError):
    """The operator's seat is on a call."""


@dataclass(frozen=True)
class CallbackList:
    entries: list[Entry]
    cleared: list[Cleared]


def dialable(number: str) -> str:
    """The number as dialled: digits (a leading + allowed), normalised; OutboundError else."""
    normal = caller_number(number)
    if normal is None:
        raise OutboundError(f"number: {mask_number(number)!r} is not a number that can be "
                            "called (digits only, 3 to 32)")
    return normal


class CallbackService:
    def __init__(self, store: CallbackStore, clock: Clock, window_days: int,
                 dialer: OutboundDialer | None = None, seats: SeatBoard | None = None) -> None:
        self.store = store
        self.clock = clock
        self.window = timedelta(days=window_days)
        self.dialer = dialer  # None: no outbound trunk configured
        self.seats = seats
        self._calls: set[asyncio.Task[None]] = set()

    @property
    def can_dial(self) -> bool:
        return self.dialer is not None

    async def current(self) -> CallbackList:
        since = self.clock.now() - self.window
        entries, cleared = callback_list(await self.store.closed_calls(since),
                                         await self.store.attempts_since(since))
        return CallbackList(entries, cleared)

    async def entry(self, missed_id: int) -> Entry:
        for e in (await self.current()).entries:
            if e.id == missed_id:
                return e
        raise NotFoundError(f"no open callback entry {missed_id}")

    async def attempt(self, attempt_id: int) -> Attempt:
        return await self.store.attempt(attempt_id)

    async def target(self, number: str, *, missed_id: int | None, ticket_id: int | None
                     ) -> str:
        """The number to call for an entry (its caller's) or a ticket (the number given, or
        the ticket's callback number). OutboundError / NotFoundError."""
        if (missed_id is None) == (ticket_id is None):
            raise OutboundError("ticket_id or missed_id: name one ticket or one missed call")
        if missed_id is not None:
            entry = await self.entry(missed_id)
            if number and dialable(number) != entry.number:
                raise OutboundError("number: a missed call is called back on its own number")
            return entry.number
        assert ticket_id is not None
        on_ticket = await self.store.ticket_number(ticket_id)
        if not (number or on_ticket):
            raise OutboundError("number: the ticket has no callback number; give one")
        return dialable(number or on_ticket)

    async def place(self, by: str, number: str, *, missed_id: int | None = None,
                    ticket_id: int | None = None) -> int:
        """Record the attempt and start the call from ``by``'s seat; its id."""
        if self.dialer is None:
            raise OutboundError("no outbound trunk is configured (HOTLINE_OUTBOUND_TRUNK)")
        target = await self.target(number, missed_id=missed_id, ticket_id=ticket_id)
        if self.seats is not None and not await self.seats.take(by):
            raise OutboundBusy(f"seat {by} is on a call")
        try:
            attempt_id = await self.store.start(target, by, self.clock.now(),
                                                missed_id=missed_id, ticket_id=ticket_id)
        except BaseException:
            await asyncio.shield(self._release(by))
            raise
        task = asyncio.ensure_future(self._run(attempt_id, by, target))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        log.info("outbound call %d by %s to %s", attempt_id, by, mask_number(target))
        return attempt_id

    async def _run(self, attempt_id: int, by: str, number: str) -> None:
        assert self.dialer is not None
        outcome, talk_s = Outcome.FAILED, None
        try:
            result = await self.dialer.call(by, number)
            outcome, talk_s = result.outcome, result.talk_s
        except Exception:
            log.exception("outbound call %d failed", attempt_id)
        finally:
            await asyncio.shield(self._release(by))
            await asyncio.shield(self._finish(attempt_id, outcome, talk_s))

    async def _finish(self, attempt_id: int, outcome: Outcome, talk_s: int | None) -> None:
        try:
            await self.store.finish(attempt_id, outcome, self.clock.now(), talk_s)
        except HotlineError as exc:
            log.error("outbound call %d: outcome %s not recorded: %s", attempt_id, outcome, exc)
        log.info("outbound call %d: %s", attempt_id, outcome)

    async def _release(self, by: str) -> None:
        if self.seats is not None:
            await self.seats.release(by)

    async def wait(self) -> None:
        """Until the calls in progress are over (tests, the CLI)."""
        while self._calls:
            await asyncio.gather(*self._calls, return_exceptions=True)

    async def stop(self) -> None:
        """Shutdown: the calls in progress are hung up and their outcome recorded."""
        for task in list(self._calls):
            task.cancel()
        await self.wait()
