"""Operator seats in the call flow (003 顶岗补位制, 004 篇10 紧急情况).

``offer``: ring the A post, then its B posts in order, each for ``seat_ring_s`` and all
within the deadline; the caller keeps hearing the ring meanwhile.
``talk``: bridge caller and operator until one side ends. If the operator's channel fails
while the caller is still there, the caller hears the seat-fault phrase and is offered to
another seat. Every operator leg is kept in the record.
Warm transfer (003: brief the receiver before handing over): while caller and operator keep
talking, the colleague's seat or the department rings; the operator's written summary is on
the record (and so on the colleague's screen), a department hears the spoken brief; once they
answer, the caller is theirs and the first operator's leg ends. The first operator stays the
record's owner (首问负责制).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from hotline.calls.commands import TransferRequest
from hotline.calls.context import CallContext, FlowSettings, SeatLeg
from hotline.domain.calls import CallState, Disposition
from hotline.domain.seats import DutyState, Seat, is_seat_fault
from hotline.errors import CallerHungUp, TelephonyError
from hotline.ports import CallLeg, CallStore, Clock, Requests, SeatBoard, Telephony

log = logging.getLogger(__name__)
T = TypeVar("T")
Say = Callable[..., Awaitable[bool]]
LegHook = Callable[[CallContext, SeatLeg], Awaitable[None]]
Brief = Callable[[CallLeg, str], Awaitable[None]]  # the spoken brief to a department


async def _nothing(call: CallContext, seat: SeatLeg) -> None:
    return None


async def _no_brief(leg: CallLeg, organisation: str) -> None:
    return None


@dataclass(frozen=True)
class Handover:
    """The transfer target answered: a colleague's seat, or a department (``seat`` None)."""

    leg: CallLeg
    request: TransferRequest
    seat: SeatLeg | None


async def stay_bridged(telephony: Telephony, call: CallContext, other: CallLeg) -> NoReturn:
    """The caller talks to ``other`` (a department) until the caller hangs up."""
    call.disposition = Disposition.REFERRED
    bridge = await telephony.bridge([call.leg, other])
    try:
        await call.leg.wait_gone(None)
    finally:
        await asyncio.shield(telephony.unbridge(bridge))
        await asyncio.shield(other.hangup())
    raise CallerHungUp(call.leg.id)


class SeatSteps:
    def __init__(self, store: CallStore, telephony: Telephony, board: SeatBoard, clock: Clock,
                 settings: FlowSettings, say: Say, on_bridged: LegHook = _nothing,
                 on_unbridged: LegHook = _nothing, requests: Requests | None = None,
                 brief: Brief = _no_brief) -> None:
        self.requests = requests
        self.brief = brief
        self.on_bridged = on_bridged  # e.g. transcribe the operator (inspection)
        self.on_unbridged = on_unbridged
        self.store = store
        self.telephony = telephony
        self.board = board
        self.clock = clock
        self.s = settings
        self.say = say

    async def candidates(self, exclude: Sequence[str] = ()) -> list[Seat]:
        """The seats to offer a call to now, in A/B order."""
        return await self.board.offer_order(exclude)

    async def offer(self, call: CallContext, deadline: float, exclude: Sequence[str] = (),
                    seats: Sequence[Seat] | None = None) -> SeatLeg | None:
        """The first seat to answer before ``deadline`` (monotonic), or None."""
        if seats is None:
            seats = await self.board.offer_order(exclude)
        for seat in seats:
            left = deadline - self.clock.monotonic()
            if left < self.s.seat_ring_s / 5:  # too little time left to be worth a ring
                break
            if not self.board.take(seat.job_number):
                continue
            call.machine.to(CallState.OFFERED)
            await self.store.add_event(call.record_id, "seat_offered",
                                       {"job_number": seat.job_number})
            leg = await self._ring(call, seat.endpoint, min(self.s.seat_ring_s, left),
                                   seat.job_number)
            if leg is None:
                await self.store.add_event(call.record_id, "seat_no_answer",
                                           {"job_number": seat.job_number})
                continue
            log.info("call %s answered by seat %s", call.record_id, seat.job_number)
            return SeatLeg(seat, leg, self.clock.now())
        return None

    async def talk(self, call: CallContext, seat: SeatLeg) -> bool:
        """Caller and operator talk. True when the operator ended the call normally (the
        closing follows); False when no seat is left after a fault (the attendant goes on).
        Raises CallerHungUp when the caller hangs up."""
        current: SeatLeg | None = seat
        while current is not None:
            call.seat = current
            call.machine.to(CallState.TALKING)
            outcome = await self._bridged(call, current)
            if isinstance(outcome, Handover):
                call.seat = None
                await self._leg_ended(call, current, 16, False, ended_by="transfer")
                with contextlib.suppress(TelephonyError):
                    await current.leg.hangup()
                if outcome.seat is None:
                    await stay_bridged(self.telephony, call, outcome.leg)
                current = outcome.seat
                continue
            fault = outcome
            cause = 0 if call.leg.gone else await current.leg.end_cause(1.0)
            fault = fault or (not call.leg.gone and is_seat_fault(cause))
            call.seat = None
            await self._leg_ended(call, current, cause, fault)
            if call.leg.gone:
                await current.leg.hangup()
                raise CallerHungUp(call.leg.id)
            if not fault:
                return True
            log.warning("call %s: fault at seat %s (cause %d)", call.record_id,
                        current.job_number, cause)
            await self.say(call, "seat_fault_transfer")
            await call.leg.ring()  # in-band ringing while another seat is tried
            current = await self.offer(
                call, self.clock.monotonic() + self.s.seat_fault_offer_s,
                exclude=[current.job_number])
            await call.leg.ring_stop()
        call.seat = None
        return False

    async def _bridged(self, call: CallContext, seat: SeatLeg) -> bool | Handover:
        """Bridge and wait until either side ends (or a transfer is answered); True if the
        bridge could not be made because the seat's channel had already failed."""
        try:
            bridge_id = await self.telephony.bridge([call.leg, seat.leg])
        except TelephonyError as exc:
            if call.leg.gone:
                raise CallerHungUp(call.leg.id) from exc
            log.warning("call %s: cannot bridge seat %s: %s", call.record_id,
                        seat.job_number, exc)
            return True
        caller_gone = asyncio.ensure_future(call.leg.wait_gone(None))
        seat_gone = asyncio.ensure_future(seat.leg.wait_gone(None))
        asked: asyncio.Future[TransferRequest] | None = None
        try:
            await self.on_bridged(call, seat)
            while True:
                if self.requests is not None:
                    asked = asyncio.ensure_future(self.requests.next(call.record_id))
                await asyncio.wait({caller_gone, seat_gone} | ({asked} if asked else set()),
                                   return_when=asyncio.FIRST_COMPLETED)
                if asked is None or not asked.done() or caller_gone.done() or seat_gone.done():
                    return False
                handover = await self._hand_over(call, asked.result())
                if handover is not None:
                    return handover
        finally:
            for f in (caller_gone, seat_gone, asked):
                if f is not None:
                    f.cancel()
            await asyncio.shield(self.on_unbridged(call, seat))
            await asyncio.shield(self.telephony.unbridge(bridge_id))

    async def _hand_over(self, call: CallContext, req: TransferRequest) -> Handover | None:
        """Ring the transfer target while the operator keeps the caller; the answered leg,
        briefed, or None (the operator goes on with the caller)."""
        info = {"by": req.by, "to": req.to, "seat": req.seat, "summary": req.summary}
        if req.seat and not self.board.take(req.seat):
            await self.store.add_event(call.record_id, "transfer_failed",
                                       {**info, "reason": "busy"})
            return None
        await self.store.add_event(call.record_id, "transfer_offered", info)
        leg = await self._ring(call, req.endpoint, self.s.transfer_ring_s, req.seat)
        if leg is None:
            await self.store.add_event(call.record_id, "transfer_failed",
                                       {**info, "reason": "no_answer"})
            return None
        if not req.seat:
            await self.brief(leg, req.organisation)
        await self.store.add_event(call.record_id, "transferred", {**info, "channel": leg.id})
        colleague = (SeatLeg(Seat(req.seat, "", DutyState.ON_DUTY), leg, self.clock.now())
                     if req.seat else None)
        return Handover(leg, req, colleague)

    async def _ring(self, call: CallContext, endpoint: str, timeout_s: float,
                    taken: str) -> CallLeg | None:
        """Dial while the caller is still there; the seat ``taken`` for it (if any) is free
        again unless it answered."""
        try:
            leg = await self._while_caller_present(call, self.telephony.dial(
                endpoint, timeout_s, caller_id=call.leg.caller))
        except BaseException:
            if taken:
                self.board.release(taken)
            raise
        if leg is None and taken:
            self.board.release(taken)
        return leg

    async def _leg_ended(self, call: CallContext, seat: SeatLeg, cause: int,
                         fault: bool, ended_by: str = "") -> None:
        self.board.release(seat.job_number)
        now = self.clock.now()
        await self.board.record_call(seat.job_number, now)
        await self.store.add_event(call.record_id, "seat_leg", {
            "job_number": seat.job_number, "channel": seat.leg.id,
            "answered_at": seat.answered_at.isoformat(),
            "ended_at": now.isoformat(), "cause": cause, "fault": fault,
            "ended_by": ended_by or ("caller" if call.leg.gone else "seat")})

    async def release_on_exit(self, call: CallContext) -> None:
        """The call is over (or failed): never leave an operator leg up or a seat busy."""
        seat, call.seat = call.seat, None
        if seat is not None:  # the call ended before or outside the talk (e.g. mid-greeting)
            with contextlib.suppress(TelephonyError):
                await seat.leg.hangup()
            await self._leg_ended(call, seat, 0, False)

    async def _while_caller_present(self, call: CallContext, aw: Awaitable[T]) -> T:
        task = asyncio.ensure_future(aw)
        gone = asyncio.ensure_future(call.leg.wait_gone(None))
        try:
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled() or not task.done():
            raise CallerHungUp(call.leg.id)
        return task.result()
