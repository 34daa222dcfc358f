"""The attendant's call flow, as the phrasebook scripts it (004 篇10, 003 电话礼仪).

Reads top to bottom like the script: ring, answer within three rings, greet with the unit and
job number, listen (silent-line prompts), serve, then "anything else?", the rating, goodbye,
and wait for the caller to hang up first. Talks only to ports; imports no I/O library.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from hotline.domain.calls import (
    CallState,
    CallStateMachine,
    Disposition,
    NewCall,
    rings_elapsed,
)
from hotline.errors import CallerHungUp, HotlineError
from hotline.ports import CallLeg, CallStore, Clock, Prompts
from hotline.privacy import mask_number

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlowSettings:
    attendant_job_number: str = "9000"
    ring_on_s: float = 1.0
    ring_off_s: float = 4.0
    ring_budget: int = 3
    apology_after_rings: int = 5
    silence_prompt_s: float = 3.0
    goodbye_pause_s: float = 2.0
    caller_hangup_wait_s: float = 5.0
    rating_wait_s: float = 6.0
    node: str = ""


@dataclass
class CallContext:
    leg: CallLeg
    record_id: int = 0
    machine: CallStateMachine = field(default_factory=CallStateMachine)
    answered: bool = False
    ring_started: float = 0.0
    disposition: Disposition | None = None
    updates: dict[str, Any] = field(default_factory=dict)


class CallFlow:
    def __init__(self, store: CallStore, prompts: Prompts, clock: Clock,
                 settings: FlowSettings) -> None:
        self.store = store
        self.prompts = prompts
        self.clock = clock
        self.s = settings

    # -- the whole call -----------------------------------------------------------------------
    async def run(self, leg: CallLeg) -> None:
        call = CallContext(leg)
        # The record is written on arrival, while the ring indication goes out; the call is
        # not answered before the record exists.
        opening = asyncio.ensure_future(self.store.open_call(NewCall(
            channel_id=leg.id, caller=leg.caller, called=leg.called,
            arrived_at=self.clock.now(), node=self.s.node)))
        call.ring_started = self.clock.monotonic()
        try:
            await call.leg.ring()
        except CallerHungUp:
            pass
        finally:
            call.record_id = await opening
        log.info("call %s from %s arrived", call.record_id, mask_number(leg.caller))
        try:
            rings = await self.answer_within_three_rings(call)
            await self.greet(call, rings)
            await self.serve(call)
            if call.disposition not in (Disposition.SILENT, Disposition.NUISANCE):
                await self.close(call)
        except CallerHungUp:
            if call.disposition is None:
                call.disposition = (Disposition.RESOLVED if call.machine.state is
                                    CallState.CLOSING else Disposition.ABANDONED)
        except asyncio.CancelledError:
            call.disposition = call.disposition or Disposition.FAILED
            await self._finish(call)
            raise
        except HotlineError as exc:
            log.error("call %s failed: %s", call.record_id, exc)
            call.disposition = Disposition.FAILED
            await self._say_seat_fault(call)
        await self._finish(call)

    async def _finish(self, call: CallContext) -> None:
        call.machine.to(CallState.ENDED)
        fields = {**call.updates, "ended_at": self.clock.now(), "state": CallState.ENDED.value,
                  "disposition": (call.disposition or Disposition.ABANDONED).value}
        await asyncio.shield(self.store.update_call(call.record_id, **fields))
        log.info("call %s ended: %s", call.record_id, fields["disposition"])

    async def _say_seat_fault(self, call: CallContext) -> None:
        try:
            await call.leg.play([await self.prompts.media("seat_fault_goodbye")])
            await call.leg.hangup()
        except HotlineError:
            pass

    async def say(self, call: CallContext, phrase_id: str, *, interruptible: bool = False,
                  **values: str) -> bool:
        media = await self.prompts.media(phrase_id, **values)
        await self.store.add_event(call.record_id, "said", {"phrase": phrase_id})
        return await call.leg.play([media], interruptible=interruptible)

    # -- 1. three rings ----------------------------------------------------------------------
    async def answer_within_three_rings(self, call: CallContext) -> int:
        """Ring, offer to operators while the ring budget lasts, else the attendant answers.
        With nobody on duty the attendant answers at once."""
        started = call.ring_started
        call.machine.to(CallState.RINGING)
        # Operator seats (A post, then B posts) will be offered here until
        # ring_deadline(ring_budget, ring_on_s, ring_off_s); none exist yet.
        await call.leg.answer()
        rings = rings_elapsed(self.clock.monotonic() - started, self.s.ring_on_s,
                              self.s.ring_off_s)
        call.machine.to(CallState.ANSWERED)
        call.answered = True
        answered_at = self.clock.now()
        await self.store.update_call(
            call.record_id, answered_at=answered_at, rings=rings,
            answered_by=self.s.attendant_job_number, owner=self.s.attendant_job_number,
            state=CallState.ANSWERED.value)
        return rings

    # -- 2. greeting -------------------------------------------------------------------------
    async def greet(self, call: CallContext, rings: int) -> None:
        call.machine.to(CallState.GREETING)
        phrase = "opening_after_wait" if rings > self.s.apology_after_rings else "opening"
        await self.say(call, phrase, interruptible=True,
                       job_number=self.s.attendant_job_number)

    # -- 3. listening and serving ------------------------------------------------------------
    async def serve(self, call: CallContext) -> None:
        call.machine.to(CallState.LISTENING)
        if not await self.caller_speaks(call):
            return
        # The caller spoke: speech recognition and the lookup dialogue (issue 4) go here.
        call.disposition = Disposition.RESOLVED

    async def caller_speaks(self, call: CallContext) -> bool:
        """The silent-line script: prompt after ~3 s, again after ~3 s, then goodbye,
        a 2 s pause, and hang up."""
        for prompt in ("silent_1", "silent_2"):
            if await call.leg.wait_speech(self.s.silence_prompt_s):
                return True
            if await self.say(call, prompt, interruptible=True):
                return True
        if await call.leg.wait_speech(self.s.silence_prompt_s):
            return True
        call.disposition = Disposition.SILENT
        await self.say(call, "silent_goodbye")
        await call.leg.pause(self.s.goodbye_pause_s)
        await call.leg.hangup()
        return False

    # -- 4. closing --------------------------------------------------------------------------
    async def close(self, call: CallContext) -> None:
        """Anything else? The rating (DTMF 1-5), goodbye, and the caller hangs up first."""
        call.machine.to(CallState.CLOSING)
        await self.say(call, "anything_else", interruptible=True)
        await call.leg.wait_speech(self.s.silence_prompt_s)
        await self.say(call, "rating_request", interruptible=True)
        digit = await call.leg.collect_dtmf(self.s.rating_wait_s)
        if digit in ("1", "2", "3", "4", "5"):
            call.updates["satisfaction"] = int(digit)
            await self.store.update_call(call.record_id, satisfaction=int(digit))
            await self.say(call, "rating_thanks")
        await self.say(call, "goodbye")
        if not await call.leg.wait_gone(self.s.caller_hangup_wait_s):
            await call.leg.hangup()
