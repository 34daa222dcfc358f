"""The operator's outbound call over the Telephony port: the operator's own phone (their seat
endpoint, a desk phone or the browser softphone) rings first; once they answer, the person
is dialled through the outbound trunk while the operator hears it ring (Asterisk plays the
ring tone in band on their answered channel), and the two are
bridged until one hangs up. The trunk is only ever dialled here, by the controller over ARI
(originate into the Stasis app): no dialplan context of the PBX reaches it, so the public
line stays incoming only (000: 只打进、不打出)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from hotline.calls.dialing import hang_up_quietly, talk_until_one_leaves
from hotline.domain.callbacks import Outcome
from hotline.domain.dialled import DialFailure, NotReached
from hotline.domain.seats import seat_dial
from hotline.errors import CallerGone, LegGone, TelephonyError
from hotline.ports import CallLeg, Clock, Telephony


def trunk_endpoint(trunk: str, number: str) -> str:
    """HOTLINE_OUTBOUND_TRUNK's dial string with the number in it (PJSIP/{number}@outbound)."""
    return trunk.replace("{number}", number)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    talk_s: int | None = None


class OutboundDialer:
    def __init__(self, telephony: Telephony, trunk: str, caller_id: str, clock: Clock, *,
                 seat_proxy: str, seat_ring_s: float = 20.0, ring_s: float = 40.0) -> None:
        self.telephony = telephony
        self.trunk = trunk
        self.seat_proxy = seat_proxy  # HOTLINE_SEAT_PROXY: the operator's phone is rung by it
        self.caller_id = caller_id  # what the person sees: the hotline's number
        self.clock = clock
        self.seat_ring_s = seat_ring_s
        self.ring_s = ring_s

    async def call(self, job_number: str, number: str) -> Result:
        try:
            seat = await self.telephony.dial(seat_dial(job_number, self.seat_proxy),
                                             self.seat_ring_s, caller_id=number)
        except TelephonyError:
            return Result(Outcome.FAILED)
        if isinstance(seat, NotReached):
            return Result(Outcome.FAILED if seat.why is DialFailure.NOT_ORIGINATED
                          else Outcome.SEAT_NO_ANSWER)
        try:
            return await self._reach(seat, number)
        finally:
            await asyncio.shield(hang_up_quietly(seat))

    async def _reach(self, seat: CallLeg, number: str) -> Result:
        with contextlib.suppress(TelephonyError, LegGone):  # the operator hears the ring
            await seat.ring()
        dialling = asyncio.ensure_future(self.telephony.dial(
            trunk_endpoint(self.trunk, number), self.ring_s, caller_id=self.caller_id))
        gone = asyncio.ensure_future(seat.wait_gone(None))
        try:
            await asyncio.wait({dialling, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not dialling.done():
                dialling.cancel()
            await asyncio.gather(dialling, gone, return_exceptions=True)
        if dialling.cancelled():
            return Result(Outcome.SEAT_LEFT)
        if dialling.exception() is not None:
            return Result(Outcome.FAILED)
        person = dialling.result()
        if isinstance(person, NotReached):  # the PBX refused to place it: not their doing
            return Result(Outcome.FAILED if person.why is DialFailure.NOT_ORIGINATED
                          else Outcome.NO_ANSWER)
        with contextlib.suppress(TelephonyError, LegGone):
            await seat.ring_stop()
        started = self.clock.monotonic()
        try:
            with contextlib.suppress(CallerGone, LegGone):  # the operator hung up first
                await talk_until_one_leaves(self.telephony, seat, person)
        except TelephonyError:
            pass  # a bridge fault after they were reached: still reached
        finally:
            await asyncio.shield(hang_up_quietly(person))
        return Result(Outcome.REACHED, round(self.clock.monotonic() - started))
