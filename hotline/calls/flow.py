"""The attendant's call flow, as the phrasebook scripts it (004 篇10, 003 电话礼仪).

Reads top to bottom like the script: ring, answer within three rings, greet with the unit and
job number, listen (silent-line prompts), serve, then "anything else?", the rating, goodbye,
and wait for the caller to hang up first. Talks only to ports; imports no I/O library.
"""

from __future__ import annotations

import asyncio
import logging

from hotline.calls.context import CallContext, FlowSettings, SeatLeg
from hotline.calls.lookup_steps import LookupSettings, LookupSteps, Outcome
from hotline.calls.seat_steps import SeatSteps, stay_bridged
from hotline.directory.records import Entry
from hotline.domain.calls import CallState, Disposition, NewCall, ring_deadline, rings_elapsed
from hotline.domain.seats import Seat
from hotline.errors import CallerHungUp, HotlineError
from hotline.ports import (
    CallLeg,
    CallStore,
    Clock,
    Directory,
    OnSegment,
    Prompts,
    Recognizer,
    Recorder,
    Requests,
    SeatBoard,
    Telephony,
    Utterance,
)
from hotline.privacy import mask_number

__all__ = ["CallFlow", "FlowSettings"]

log = logging.getLogger(__name__)


class CallFlow:
    def __init__(self, store: CallStore, prompts: Prompts, clock: Clock,
                 settings: FlowSettings, telephony: Telephony | None = None,
                 seats: SeatBoard | None = None, directory: Directory | None = None,
                 recognizer: Recognizer | None = None,
                 lookup: LookupSettings | None = None,
                 recorder: Recorder | None = None,
                 requests: Requests | None = None) -> None:
        self.recorder = recorder
        self.store = store
        self.prompts = prompts
        self.clock = clock
        self.s = settings
        self.telephony = telephony
        self.directory = directory
        self.recognizer = recognizer
        self.lookup_settings = lookup or LookupSettings()
        self.requests = requests
        self.seats = (SeatSteps(store, telephony, seats, clock, settings, self.say,
                                self._hear_operator, self._stop_operator, requests,
                                self._brief)
                      if telephony is not None and seats is not None else None)

    # -- the whole call -----------------------------------------------------------------------
    async def run(self, leg: CallLeg) -> None:
        call = CallContext(leg)
        # The record is written on arrival, while the seats on duty are looked up; the call
        # is not answered before the record exists. Ringing is indicated only when there is
        # a seat to offer: with nobody on duty the attendant answers at once.
        call.ring_started = self.clock.monotonic()
        opening = asyncio.ensure_future(self._open_record(leg))
        seats: list[Seat] = []
        try:
            if self.seats is not None:
                seats = await self.seats.candidates()
            if seats:
                await call.leg.ring()
        except CallerHungUp:
            pass
        finally:
            call.record_id = await opening
            if self.requests is not None:
                self.requests.open(call.record_id)
        log.info("call %s from %s arrived", call.record_id, mask_number(leg.caller))
        try:
            rings = await self.answer_within_three_rings(call, seats)
            await self.greet(call, rings)
            if call.seat is not None and self.seats is not None:
                operator_closed = await self.seats.talk(call, call.seat)
                if not operator_closed:  # no seat left after a fault: the attendant goes on
                    call.machine.to(CallState.LISTENING)
                    operator_closed = await self.serve(call)
            else:
                operator_closed = await self.serve(call)
            if call.disposition not in (Disposition.SILENT, Disposition.NUISANCE):
                await self.close(call, ask_anything_else=not operator_closed)
                # served and closed; the hotline hung up after goodbye (the caller had not)
                call.disposition = call.disposition or Disposition.RESOLVED
        except CallerHungUp:
            if call.disposition is None:
                call.disposition = (Disposition.RESOLVED if call.machine.state in (
                    CallState.CLOSING, CallState.TALKING) else Disposition.ABANDONED)
        except asyncio.CancelledError:
            call.disposition = call.disposition or Disposition.FAILED
            await self._finish(call)
            raise
        except HotlineError as exc:
            log.error("call %s failed: %s", call.record_id, exc)
            call.disposition = Disposition.FAILED
            await self._say_seat_fault(call)
        await self._finish(call)

    async def end_adopted(self, leg: CallLeg) -> None:
        """A call found up after a restart: where it was in the script is lost, so the caller
        hears the seat-fault apology and the call ends; its record (kept by channel id, or
        written now) says so."""
        call = CallContext(leg)
        call.record_id = await self._open_record(leg)
        await self.store.add_event(call.record_id, "adopted", {"channel": leg.id})
        call.disposition = Disposition.FAILED
        await self._say_seat_fault(call)
        await self._finish(call)

    async def _open_record(self, leg: CallLeg) -> int:
        """The call's record, written now (or found by its channel id, if written before)."""
        return await self.store.open_call(NewCall(
            channel_id=leg.id, caller=leg.caller, called=leg.called,
            arrived_at=self.clock.now(), node=self.s.node))

    async def _finish(self, call: CallContext) -> None:
        if self.requests is not None:
            self.requests.forget(call.record_id)
        await asyncio.shield(self._stop_hearing(call))
        await asyncio.shield(self._stop_recording(call))
        if self.seats is not None:
            await asyncio.shield(self.seats.release_on_exit(call))
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
        interrupted = await call.leg.play([media], interruptible=interruptible)
        if interrupted:
            await self.store.add_event(call.record_id, "barge_in", {"phrase": phrase_id})
        return interrupted

    # -- 1. three rings ----------------------------------------------------------------------
    async def answer_within_three_rings(self, call: CallContext,
                                        seats: list[Seat] | None = None) -> int:
        """Ring, offer to operators while the ring budget lasts, else the attendant answers.
        With nobody on duty the attendant answers at once."""
        started = call.ring_started
        call.machine.to(CallState.RINGING)
        if self.seats is not None and seats:  # A post, then B posts, until the third ring
            deadline = started + ring_deadline(self.s.ring_budget, self.s.ring_on_s,
                                               self.s.ring_off_s)
            call.seat = await self.seats.offer(call, deadline, seats=seats)
        await call.leg.answer()
        self._start_hearing(call)
        self._start_recording(call)
        rings = rings_elapsed(self.clock.monotonic() - started, self.s.ring_on_s,
                              self.s.ring_off_s)
        call.machine.to(CallState.ANSWERED)
        call.answered = True
        job = call.seat.job_number if call.seat else self.s.attendant_job_number
        await self.store.update_call(
            call.record_id, answered_at=self.clock.now(), rings=rings, answered_by=job,
            owner=job, state=CallState.ANSWERED.value)
        return rings

    # -- hearing the caller: one recogniser for the whole call, from the answer on ----------
    def _start_hearing(self, call: CallContext) -> None:
        recognizer = self.recognizer
        if recognizer is None or not recognizer.available:
            return
        call.hearing = asyncio.ensure_future(
            recognizer.attach(call.leg, self._transcript(call, "caller")))

    def _start_recording(self, call: CallContext) -> None:
        if self.recorder is None:
            return
        name = f"call-{call.record_id}-{call.leg.id.replace('.', '-')}"
        call.recording = asyncio.ensure_future(self.recorder.start(call.leg.id, name))
        call.updates["recording"] = name

    async def _stop_recording(self, call: CallContext) -> None:
        if call.recording is None or self.recorder is None:
            return
        try:
            handle = await call.recording
        except HotlineError as exc:
            log.warning("call %s: not recorded: %s", call.record_id, exc)
            call.updates.pop("recording", None)
            return
        await self.recorder.stop(handle)

    def _transcript(self, call: CallContext, speaker: str,
                    job_number: str = "") -> OnSegment:
        """Final segments go on the record as transcript events."""
        async def segment(u: Utterance) -> None:
            if u.final and u.text:
                data = {"speaker": speaker, "text": u.text, "start_s": round(u.start_s, 2),
                        "end_s": round(u.end_s, 2)}
                if job_number:
                    data["job_number"] = job_number
                await self.store.add_event(call.record_id, "transcript", data)

        return segment

    async def _hear_operator(self, call: CallContext, seat: SeatLeg) -> None:
        """What the operator says is transcribed too: the supervisor's inspection."""
        if self.recognizer is None or not self.recognizer.available:
            return
        try:
            await self.recognizer.attach(
                seat.leg, self._transcript(call, "operator", seat.job_number))
        except HotlineError as exc:
            log.warning("call %s: operator %s not transcribed: %s", call.record_id,
                        seat.job_number, exc)

    async def _stop_operator(self, call: CallContext, seat: SeatLeg) -> None:
        if self.recognizer is None or not self.recognizer.available:
            return
        try:
            await self.recognizer.detach(seat.leg)
        except HotlineError as exc:
            log.warning("call %s: operator stream not closed cleanly: %s", call.record_id, exc)

    async def _heard(self, call: CallContext) -> bool:
        """Whether the recogniser is hearing this caller (False: speech cannot serve)."""
        if call.hearing is None:
            return False
        try:
            await call.hearing
        except HotlineError as exc:
            log.error("call %s: speech recognition could not start: %s", call.record_id, exc)
            return False
        return True

    async def _stop_hearing(self, call: CallContext) -> None:
        if call.hearing is None or self.recognizer is None:
            return
        if not call.hearing.done():
            call.hearing.cancel()
        try:
            await self.recognizer.detach(call.leg)
        except HotlineError as exc:
            log.warning("call %s: speech stream not closed cleanly: %s", call.record_id, exc)

    # -- 2. greeting -------------------------------------------------------------------------
    async def greet(self, call: CallContext, rings: int) -> None:
        call.machine.to(CallState.GREETING)
        phrase = "opening_after_wait" if rings > self.s.apology_after_rings else "opening"
        if call.seat is None:
            await self.say(call, phrase, interruptible=True,
                           job_number=self.s.attendant_job_number)
            return
        # The operator hears the greeting said on their behalf, not silence before the bridge.
        seat = call.seat
        echo = asyncio.ensure_future(self._seat_hears(seat, phrase))
        try:
            await self.say(call, phrase, job_number=seat.job_number)
        finally:
            echo.cancel()
            await asyncio.gather(echo, return_exceptions=True)

    async def _seat_hears(self, seat: SeatLeg, phrase_id: str) -> None:
        """A seat that hangs up meanwhile is a fault the talk finds, not the caller's hang-up."""
        try:
            await seat.leg.play([await self.prompts.media(phrase_id,
                                                          job_number=seat.job_number)])
        except HotlineError as exc:
            log.info("seat %s did not hear the greeting: %s", seat.job_number, exc)

    # -- 3. listening and serving ------------------------------------------------------------
    async def serve(self, call: CallContext) -> bool:
        """The caller asks for an organisation; True when an operator took the call and
        has ended it (the rating follows without "anything else?")."""
        call.machine.to(CallState.LISTENING)
        if not await self.caller_speaks(call):
            return False
        call.machine.to(CallState.SERVING)
        if (self.recognizer is None or not self.recognizer.available
                or self.directory is None):
            return await self.hand_to_operator(call, "no_speech_model")
        if not await self._heard(call):
            return await self.hand_to_operator(call, "operator_handover")
        steps = LookupSteps(self.store, self.directory, self.recognizer, self.say,
                            self.lookup_settings)
        outcome, entry = await steps.run(call)
        await self.store.add_event(call.record_id, "lookup_outcome", {"outcome": outcome})
        if outcome is not Outcome.UNHEARD:  # the matter of the record: a directory query
            await self.store.update_call(call.record_id, category="查询", summary=(
                f"查询 {entry.name}" if entry is not None else "查询 未登记单位"))
        if outcome is Outcome.UNHEARD:
            return await self.hand_to_operator(call, "operator_handover")
        if outcome is Outcome.TRANSFER and entry is not None:
            return await self.transfer(call, entry)
        call.disposition = Disposition.RESOLVED
        return False

    async def hand_to_operator(self, call: CallContext, phrase: str) -> bool:
        """Speech cannot serve this call: a seat takes it, or the caller is told to call
        again (and the record says failed)."""
        if self.seats is not None:
            await self.say(call, phrase)
            seat = await self.seats.offer(
                call, self.clock.monotonic() + self.s.seat_fault_offer_s)
            if seat is not None:
                await self.store.update_call(call.record_id, owner=seat.job_number)
                return await self.seats.talk(call, seat)
        call.disposition = Disposition.FAILED
        await self.say(call, "seat_fault_goodbye")
        await call.leg.hangup()
        raise CallerHungUp(call.leg.id)

    async def transfer(self, call: CallContext, entry: Entry) -> bool:
        """Transfer to the organisation, briefing its side first (003)."""
        assert self.telephony is not None
        await self.say(call, "transfer", organisation=entry.name)
        await call.leg.ring()
        other = await self.telephony.dial(entry.transfer_to, self.s.transfer_ring_s,
                                          caller_id=call.leg.caller)
        await call.leg.ring_stop()
        if other is None:
            await self.store.add_event(call.record_id, "transfer_failed", {"id": entry.id})
            await self.say(call, "transfer_failed", organisation=entry.name)
            call.disposition = Disposition.RESOLVED
            return False
        await self._brief(other, entry.name)
        await self.store.add_event(call.record_id, "transferred", {
            "id": entry.id, "name": entry.name, "to": entry.transfer_to, "channel": other.id})
        await stay_bridged(self.telephony, call, other)

    async def _brief(self, other: CallLeg, organisation: str) -> None:
        """The receiving side hears who is being put through before the caller is (003)."""
        await other.play([await self.prompts.media("transfer_brief", organisation=organisation)])

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
    async def close(self, call: CallContext, ask_anything_else: bool = True) -> None:
        """Anything else? The rating (DTMF 1-5), goodbye, and the caller hangs up first.
        After an operator has hung up, the caller goes straight to the rating."""
        call.machine.to(CallState.CLOSING)
        if ask_anything_else:
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
