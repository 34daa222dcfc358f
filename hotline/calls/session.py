"""One session per call: it owns everything the call holds (the record, the seat, the
recogniser's stream, the recording, the legs put through) on one exit stack, released in
``finally`` whatever ends the call: the caller hanging up, a fault, a bug, cancellation.

Only the caller's leg ending ends the script (CallerGone). The state machine decides the
disposition; the session only writes it down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from hotline.attendant.call import AttendantCall, AttendantSettings
from hotline.attendant.callback import take_for_callback
from hotline.attendant.closing import close
from hotline.attendant.greeting import greet, opening_phrases
from hotline.attendant.port import Expect
from hotline.attendant.serve import attend
from hotline.calls.call_ports import CallTickets, StoreRecord, closing_fields
from hotline.calls.context import CallContext, FlowSettings, SeatLeg
from hotline.calls.phone_dialogue import PhoneDialogue
from hotline.calls.phone_ports import PhoneTransfers, SeatOperators
from hotline.calls.seat_steps import SeatSteps
from hotline.domain.call_machine import CallMachine, CallState, Served
from hotline.domain.calls import NewCall, ring_deadline, rings_elapsed
from hotline.domain.seats import Seat
from hotline.errors import CallerGone, HotlineError, LegGone
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
    TicketStore,
    Utterance,
)
from hotline.privacy import mask_number
from hotline.speech.vocabulary import Vocabularies

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallDeps:
    """What every call is served with (built once by the composition root)."""

    store: CallStore
    prompts: Prompts
    clock: Clock
    tickets: TicketStore
    settings: FlowSettings = field(default_factory=FlowSettings)
    attendant: AttendantSettings = field(default_factory=AttendantSettings)
    telephony: Telephony | None = None
    seats: SeatBoard | None = None
    directory: Directory | None = None
    recognizer: Recognizer | None = None
    recorder: Recorder | None = None
    requests: Requests | None = None
    vocabulary: Vocabularies | None = None  # what the recogniser is biased toward, per step


class CallSession:
    def __init__(self, deps: CallDeps, leg: CallLeg) -> None:
        self.deps = deps
        self.leg = leg
        self.machine = CallMachine()
        self.stack = AsyncExitStack()
        self.call = CallContext(leg, 0, self.machine)
        self.steps: SeatSteps | None = None
        self.dialogue: PhoneDialogue | None = None
        self.fields: dict[str, object] = {}
        self._recording_t0: float | None = None  # when the recording started (monotonic)

    # -- the whole call ---------------------------------------------------------------------
    async def run(self, adopted: bool = False) -> None:
        started = self.deps.clock.monotonic()
        try:
            seats = await self._open(adopted)
            if adopted:  # its place in the script was lost with the restart
                await self.deps.store.add_event(self.call.record_id, "adopted",
                                                {"channel": self.leg.id})
                raise _Fault("adopted after a restart")
            await self._script(started, seats)
            self.machine.end()
        except CallerGone:
            if self.machine.state is not CallState.ENDED:
                self.machine.caller_gone()
        except asyncio.CancelledError:
            self._fault("cancelled")
            raise
        except (Exception, LegGone) as exc:  # a bug or a fault must not leave anything held
            if isinstance(exc, HotlineError | _Fault | LegGone):
                log.error("call %s failed: %s", self.call.record_id, exc)
            else:
                log.exception("call %s crashed", self.call.record_id)
            self._fault(str(exc))
            await self._say_seat_fault()
        finally:
            await asyncio.shield(self._finish())

    async def _open(self, adopted: bool) -> list[Seat]:
        """The record is written on arrival, while the seats on duty are looked up; ringing
        only when there is a seat to offer (with nobody on duty the attendant answers)."""
        d = self.deps
        opening = asyncio.ensure_future(d.store.open_call(NewCall(
            channel_id=self.leg.id, caller=self.leg.caller, called=self.leg.called,
            arrived_at=d.clock.now(), node=d.settings.node)))
        self.stack.push_async_callback(self._hang_up_caller)
        seats: list[Seat] = []
        try:
            if d.telephony is not None and d.seats is not None:
                self.steps = SeatSteps(d.store, d.telephony, d.seats, d.clock, d.settings,
                                       _SeatSide(self), d.prompts, d.requests)
                self.stack.push_async_callback(self.steps.release_on_exit, self.call)
                if not adopted:
                    seats = await self.steps.candidates()
            if seats:
                await self.leg.ring()
        finally:
            self.call.record_id = await opening
        if self.leg.rejected_caller is not None:
            await d.store.add_event(self.call.record_id, "caller_id_rejected",
                                    {"raw": self.leg.rejected_caller})
        if d.requests is not None:
            d.requests.open(self.call.record_id)
            self.stack.callback(d.requests.forget, self.call.record_id)
        log.info("call %s from %s arrived", self.call.record_id, mask_number(self.leg.caller))
        return seats

    async def _script(self, started: float, seats: list[Seat]) -> None:
        d, m, s = self.deps, self.machine, self.deps.settings
        seat: SeatLeg | None = None
        if seats and self.steps is not None:  # A post, then B posts, until ring 3
            m.ring()
            m.offer_seat()
            deadline = started + ring_deadline(s.ring_budget, s.ring_on_s, s.ring_off_s)
            seat = await self.steps.offer(self.call, deadline, seats=seats)
            if seat is None:
                m.seat_unanswered()
        self.call.seat = seat
        await self.leg.answer()
        job = seat.job_number if seat else d.attendant.job_number
        m.answer(job)
        rings = rings_elapsed(d.clock.monotonic() - started, s.ring_on_s, s.ring_off_s)
        # written before anything else is asked of the leg: a caller who hangs up at once
        # was still answered
        await d.store.update_call(self.call.record_id, answered_at=d.clock.now(), rings=rings,
                                  answered_by=job, owner=job, state=m.state.value)
        await self.leg.detect_talk()
        dialogue = self.dialogue = PhoneDialogue(
            self.leg, self.call.record_id, d.store, d.prompts, d.recognizer, s,
            d.vocabulary.current if d.vocabulary else None)
        await self._start_hearing(dialogue)
        self._start_recording()
        c = self._attendant_call(dialogue)
        if seat is None:
            await greet(c, rings, job)
            await attend(c)
            return
        await self._greet_with_seat(c, seat, rings)
        m.bridge_seat()
        assert self.steps is not None
        if await self.steps.talk(self.call, seat):
            m.served(Served.RESOLVED)
        else:  # the seat failed and no other took the caller: the attendant takes it down
            await take_for_callback(c)
        if m.gave_up is None:
            await close(c)

    def _attendant_call(self, dialogue: PhoneDialogue) -> AttendantCall:
        d = self.deps
        operators = transfers = None
        if self.steps is not None:
            operators = SeatOperators(self.steps, self.call, d.store, d.clock, d.settings)
        if d.telephony is not None:
            transfers = PhoneTransfers(d.telephony, self.call, d.store, d.prompts, self.stack,
                                       d.settings)
        return AttendantCall(
            d=dialogue, machine=self.machine, record=StoreRecord(d.store, self.call.record_id),
            tickets=CallTickets(d.tickets, d.clock, self.call.record_id,
                                d.attendant.job_number),
            settings=d.attendant, directory=d.directory, operators=operators,
            transfers=transfers, caller=self.leg.caller)

    async def _greet_with_seat(self, c: AttendantCall, seat: SeatLeg, rings: int) -> None:
        """The operator hears the greeting said on their behalf, not silence before the
        bridge; a seat that hangs up meanwhile is a fault the talk finds."""
        async def seat_hears() -> None:
            with contextlib.suppress(HotlineError, LegGone):
                await seat.leg.play([await self.deps.prompts.media(
                    phrase, job_number=seat.job_number)
                    for phrase in opening_phrases(rings, c.settings)])

        echo = asyncio.ensure_future(seat_hears())
        try:
            await greet(c, rings, seat.job_number)
        finally:
            echo.cancel()
            await asyncio.gather(echo, return_exceptions=True)

    # -- what the call holds ----------------------------------------------------------------
    async def _start_hearing(self, dialogue: PhoneDialogue) -> None:
        rec = self.deps.recognizer
        if rec is None or not rec.available:
            return
        self.stack.push_async_callback(self._let_go, rec, self.leg)
        try:
            # the caller's first words (often over the greeting) are a free request
            await rec.attach(self.leg, self.transcript("caller"),
                             hint=dialogue.vocabulary.hint(Expect.FREE))
        except HotlineError as exc:
            log.error("call %s: speech recognition could not start: %s",
                      self.call.record_id, exc)
            return
        dialogue.hearing = True

    def _start_recording(self) -> None:
        """The whole call recorded, started beside the greeting (not before it)."""
        recorder = self.deps.recorder
        if recorder is None:
            return
        name = f"call-{self.call.record_id}-{self.leg.id.replace('.', '-')}"
        self.fields["recording"] = name
        self._recording_t0 = self.deps.clock.monotonic()
        starting = asyncio.ensure_future(recorder.start(self.leg.id, name))
        self.stack.push_async_callback(self._stop_recording, recorder, starting)

    async def _stop_recording(self, recorder: Recorder, starting: asyncio.Future[Any]) -> None:
        try:
            handle = await starting
        except HotlineError as exc:
            log.warning("call %s: not recorded: %s", self.call.record_id, exc)
            self.fields.pop("recording", None)
            return
        await recorder.stop(handle)

    def transcript(self, speaker: str, job_number: str = "") -> OnSegment:
        """Final segments go on the record as transcript events, with where each starts in
        the call's recording (``offset_s``, for the inspector's player) when it is recorded."""
        attached = self.deps.clock.monotonic()  # the stream's time 0

        async def segment(u: Utterance) -> None:
            if u.final and u.text:
                data: dict[str, object] = {"speaker": speaker, "text": u.text,
                                           "start_s": round(u.start_s, 2),
                                           "end_s": round(u.end_s, 2)}
                if self._recording_t0 is not None:
                    data["offset_s"] = round(max(0.0, attached - self._recording_t0
                                                 + u.start_s), 2)
                if job_number:
                    data["job_number"] = job_number
                await self.deps.store.add_event(self.call.record_id, "transcript", data)

        return segment

    async def _let_go(self, rec: Recognizer, leg: CallLeg) -> None:
        try:
            await rec.detach(leg)
        except HotlineError as exc:
            log.warning("call %s: speech stream not closed cleanly: %s", self.call.record_id,
                        exc)

    async def _hang_up_caller(self) -> None:
        with contextlib.suppress(HotlineError, LegGone):
            await self.leg.hangup()

    # -- the end ----------------------------------------------------------------------------
    def _fault(self, why: str) -> None:
        if self.machine.state is not CallState.ENDED:
            self.machine.fault()
        self.fields.setdefault("fault", why)

    async def _say_seat_fault(self) -> None:
        """A real fault: the caller is told to call again (004 紧急情况服务用语 2)."""
        if self.leg.gone:
            return
        with contextlib.suppress(HotlineError, LegGone):
            await self.leg.play([await self.deps.prompts.media("seat_fault_goodbye")])
            await self.leg.hangup()

    async def _finish(self) -> None:
        try:
            await self.stack.aclose()
        except (Exception, LegGone):
            log.exception("call %s: releasing what it held failed", self.call.record_id)
        m = self.machine
        if m.state is not CallState.ENDED:
            m.end()
        fields = closing_fields(m, self.deps.clock.now())
        if "recording" in self.fields:
            fields["recording"] = self.fields["recording"]
        if self.call.record_id:
            await self.deps.store.update_call(self.call.record_id, **fields)
            log.info("call %s ended: %s", self.call.record_id, fields["disposition"])


class _Fault(Exception):
    pass


class _SeatSide:
    """The seat steps' view of the session (SeatSide)."""

    def __init__(self, session: CallSession) -> None:
        self.session = session

    async def say(self, phrase_id: str, **values: str) -> None:
        assert self.session.dialogue is not None
        await self.session.dialogue.say(phrase_id, interruptible=False, **values)

    async def operator_joined(self, seat: SeatLeg) -> None:
        rec = self.session.deps.recognizer
        if rec is None or not rec.available:
            return
        try:
            await rec.attach(seat.leg, self.session.transcript("operator", seat.job_number))
        except HotlineError as exc:
            log.warning("operator %s not transcribed: %s", seat.job_number, exc)

    async def operator_left(self, seat: SeatLeg) -> None:
        rec = self.session.deps.recognizer
        if rec is not None and rec.available:
            await self.session._let_go(rec, seat.leg)

