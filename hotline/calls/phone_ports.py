"""The attendant's Operators and Transfers ports on the phone: offer the caller to a seat,
put the caller through to a unit. Every leg answered is put on the session's exit stack, so
it is hung up whatever ends the call."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from hotline.calls.context import CallContext, FlowSettings
from hotline.calls.dialing import (
    hang_up_quietly,
    put_through,
    talk_until_one_leaves,
)
from hotline.calls.seat_steps import SeatSteps
from hotline.directory.records import Entry
from hotline.domain.call_machine import Served
from hotline.domain.dialled import NotReached
from hotline.ports import CallLeg, CallStore, Clock, Prompts, Telephony

log = logging.getLogger(__name__)


class SeatOperators:
    def __init__(self, steps: SeatSteps, call: CallContext, store: CallStore, clock: Clock,
                 settings: FlowSettings) -> None:
        self.steps = steps
        self.call = call
        self.store = store
        self.clock = clock
        self.s = settings

    async def available(self) -> bool:
        return bool(await self.steps.candidates())

    async def take_over(self) -> bool:
        machine = self.call.machine
        machine.offer_seat()
        seat = await self.steps.offer(self.call,
                                      self.clock.monotonic() + self.s.seat_fault_offer_s)
        if seat is None:
            machine.seat_unanswered()
            return False
        await self.store.update_call(self.call.record_id, owner=seat.job_number)
        machine.bridge_seat()
        if await self.steps.talk(self.call, seat):
            machine.served(Served.RESOLVED)
            return True
        return False


class UnitConnection:
    def __init__(self, telephony: Telephony, caller: CallLeg, other: CallLeg) -> None:
        self.telephony, self.caller, self.other = telephony, caller, other

    async def talk(self) -> None:
        await talk_until_one_leaves(self.telephony, self.caller, self.other)


class PhoneTransfers:
    def __init__(self, telephony: Telephony, call: CallContext, store: CallStore,
                 prompts: Prompts, stack: AsyncExitStack, settings: FlowSettings) -> None:
        self.telephony = telephony
        self.call = call
        self.store = store
        self.prompts = prompts
        self.stack = stack
        self.s = settings

    async def reach(self, entry: Entry) -> UnitConnection | None:
        caller = self.call.leg
        await caller.ring()  # in-band ringing while the unit rings and hears the brief
        try:
            other = await put_through(self.telephony, self.prompts, caller, entry.transfer_to,
                                      self.s.transfer_ring_s, entry.name)
            if not isinstance(other, NotReached):  # the session ends it, whatever happens
                self.stack.push_async_callback(hang_up_quietly, other)
        finally:
            if not caller.gone:
                await caller.ring_stop()
        if isinstance(other, NotReached):
            log.info("call %s: %s not reached (%s)", self.call.record_id, entry.name, other)
            return None
        await self.store.add_event(self.call.record_id, "unit_briefed",
                                   {"id": entry.id, "channel": other.id})
        await self.store.add_event(self.call.record_id, "transferred", {
            "id": entry.id, "name": entry.name, "to": entry.transfer_to, "channel": other.id})
        return UnitConnection(self.telephony, caller, other)

    async def reach_line(self, line: str, dial: str, said: str) -> UnitConnection | NotReached:
        """No ring for the caller: the attendant is telling them to hold on meanwhile."""
        caller = self.call.leg
        other = await put_through(
            self.telephony, self.prompts, caller, dial, self.s.transfer_ring_s,
            brief_with=("emergency_brief", {"line": line, "phone": caller.caller,
                                            "content": said or "未听清"}))
        if isinstance(other, NotReached):  # the record says why (attendant/emergency.py)
            log.warning("call %s: emergency line %s (%s) not reached: %s",
                        self.call.record_id, line, dial, other)
            return other
        self.stack.push_async_callback(hang_up_quietly, other)
        await self.store.add_event(self.call.record_id, "line_briefed",
                                   {"line": line, "channel": other.id})
        return UnitConnection(self.telephony, caller, other)
