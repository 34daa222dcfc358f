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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hotline.calls.commands import TransferRequest
from hotline.calls.context import CallContext, FlowSettings, SeatLeg
from hotline.calls.dialing import (
    hang_up_quietly,
    put_through,
    talk_until_one_leaves,
)
from hotline.domain.dialled import NotReached
from hotline.domain.seats import DutyState, Seat, is_seat_fault, seat_dial
from hotline.errors import CallerGone, TelephonyError
from hotline.ports import CallLeg, CallStore, Clock, Prompts, Requests, SeatBoard, Telephony

log = logging.getLogger(__name__)


class SeatSide(Protocol):
    """What the session does around a seat's conversation."""

    async def say(self, phrase_id: str, **values: str) -> None:
        """A phrase to the caller (the seat-fault phrases)."""
        ...
    async def operator_joined(self, seat: SeatLeg) -> None:
        """The operator is bridged: their words are transcribed too (inspection)."""
        ...
    async def operator_left(self, seat: SeatLeg) -> None: ...


@dataclass(frozen=True)
class Handover:
    """The transfer target answered: a colleague's seat, or a department (``seat`` None)."""

    leg: CallLeg
    request: TransferRequest
    seat: SeatLeg | None


async def stay_bridged(telephony: Telephony, call: CallContext, other: CallLeg) -> None:
    """The caller talks to ``other`` (a department) until one of them hangs up (CallerGone
    if the caller); the department's leg is ended on every path."""
    try:
        await talk_until_one_leaves(telephony, call.leg, other)
    finally:
        await asyncio.shield(hang_up_quietly(other))


class SeatSteps:
    def __init__(self, store: CallStore, telephony: Telephony, board: SeatBoard, clock: Clock,
                 settings: FlowSettings, side: SeatSide, prompts: Prompts,
                 requests: Requests | None = None) -> None:
        self.prompts = prompts
        self.requests = requests
        self.side = side
        self.store = store
        self.telephony = telephony
        self.board = board
        self.clock = clock
        self.s = settings

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
            if not await self.board.take(seat.job_number):
                continue
            await self.store.add_event(call.record_id, "seat_offered",
                                       {"job_number": seat.job_number})
            leg = await self._ring(call, seat_dial(seat.job_number, self.s.seat_proxy),
                                   min(self.s.seat_ring_s, left), seat.job_number)
            if isinstance(leg, NotReached):
                await self.store.add_event(call.record_id, "seat_no_answer",
                                           {"job_number": seat.job_number, **leg.event()})
                continue
            log.info("call %s answered by seat %s", call.record_id, seat.job_number)
            return SeatLeg(seat, leg, self.clock.now())
        return None

    async def talk(self, call: CallContext, seat: SeatLeg) -> bool:
        """Caller and operator talk. True when the operator (or the department the call was
        handed to) ended the talk normally (the closing follows); False when no seat is left
        after a fault (the attendant goes on).
        Raises CallerGone when the caller hangs up."""
        current: SeatLeg | None = seat
        while current is not None:
            call.seat = current
            outcome = await self._bridged(call, current)
            if isinstance(outcome, Handover):
                call.seat = outcome.seat  # a colleague is the session's to release now
                try:
                    await self._leg_ended(call, current, 16, False, ended_by="transfer")
                    with contextlib.suppress(TelephonyError):
                        await current.leg.hangup()
                except BaseException:
                    if outcome.seat is None:
                        await asyncio.shield(hang_up_quietly(outcome.leg))
                    raise
                if outcome.seat is None:  # the department talks to the caller now
                    await stay_bridged(self.telephony, call, outcome.leg)
                    return True  # the department hung up first: the caller goes on
                current = outcome.seat
                continue
            fault = outcome
            cause = 0 if call.leg.gone else await current.leg.end_cause(1.0)
            fault = fault or (not call.leg.gone and is_seat_fault(cause))
            call.seat = None
            await asyncio.shield(hang_up_quietly(current.leg))  # up still if a bridge failed
            await self._leg_ended(call, current, cause, fault)
            if call.leg.gone:
                raise CallerGone(call.leg.id)
            if not fault:
                return True
            log.warning("call %s: fault at seat %s (cause %d)", call.record_id,
                        current.job_number, cause)
            await self.side.say("seat_fault_transfer")
            call.machine.offer_seat()
            await call.leg.ring()  # in-band ringing while another seat is tried
            current = await self.offer(
                call, self.clock.monotonic() + self.s.seat_fault_offer_s,
                exclude=[current.job_number])
            call.seat = current  # the session's to release if anything fails from here
            await call.leg.ring_stop()
            if current is None:
                call.machine.seat_unanswered()
            else:
                call.machine.bridge_seat()
        call.seat = None
        return False

    async def _bridged(self, call: CallContext, seat: SeatLeg) -> bool | Handover:
        """Bridge and wait until either side ends (or a transfer is answered); True if the
        bridge could not be made because the seat's channel had already failed."""
        try:
            bridge_id = await self.telephony.bridge([call.leg, seat.leg])
        except TelephonyError as exc:
            if call.leg.gone:
                raise CallerGone(call.leg.id) from exc
            log.warning("call %s: cannot bridge seat %s: %s", call.record_id,
                        seat.job_number, exc)
            return True
        caller_gone = asyncio.ensure_future(call.leg.wait_gone(None))
        seat_gone = asyncio.ensure_future(seat.leg.wait_gone(None))
        asked: asyncio.Future[TransferRequest] | None = None
        try:
            await self.side.operator_joined(seat)
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
            await asyncio.shield(self.side.operator_left(seat))
            await asyncio.shield(self.telephony.unbridge(bridge_id))

    async def _hand_over(self, call: CallContext, req: TransferRequest) -> Handover | None:
        """Ring the transfer target while the operator keeps the caller; the answered leg,
        briefed, or None (the operator goes on with the caller)."""
        info = {"by": req.by, "to": req.to, "seat": req.seat, "summary": req.summary}
        if req.seat and not await self.board.take(req.seat):
            await self.store.add_event(call.record_id, "transfer_failed",
                                       {**info, "reason": "busy"})
            return None
        await self.store.add_event(call.record_id, "transfer_offered", info)
        endpoint = seat_dial(req.seat, self.s.seat_proxy) if req.seat else req.endpoint
        leg = await self._ring(call, endpoint, self.s.transfer_ring_s, req.seat,
                               "" if req.seat else req.organisation)
        if isinstance(leg, NotReached):  # nobody answered, or the department hung up: the
            await self.store.add_event(call.record_id, "transfer_failed",  # operator goes on
                                       {**info, **leg.event()})
            return None
        try:  # until the handover is the talk's, the answered leg is this step's to end
            await self.store.add_event(call.record_id, "transferred",
                                       {**info, "channel": leg.id})
        except BaseException:
            await asyncio.shield(hang_up_quietly(leg))
            if req.seat:
                await asyncio.shield(self.board.release(req.seat))
            raise
        colleague = (SeatLeg(Seat(req.seat, "", DutyState.ON_DUTY), leg, self.clock.now())
                     if req.seat else None)
        return Handover(leg, req, colleague)

    async def _ring(self, call: CallContext, endpoint: str, timeout_s: float, taken: str,
                    organisation: str = "") -> CallLeg | NotReached:
        """Put through while the caller is still there; the seat ``taken`` for it (if any)
        is free again unless it answered."""
        try:
            leg = await put_through(self.telephony, self.prompts, call.leg, endpoint,
                                    timeout_s, organisation)
        except BaseException:
            if taken:
                await asyncio.shield(self.board.release(taken))
            raise
        if isinstance(leg, NotReached) and taken:
            await self.board.release(taken)
        return leg

    async def _leg_ended(self, call: CallContext, seat: SeatLeg, cause: int,
                         fault: bool, ended_by: str = "") -> None:
        await asyncio.shield(self.board.release(seat.job_number))
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
