"""One dialogue on the text channel: the same scripts as a phone call, with the record
written to the real store (``channel=text``). No seat is ever offered and nobody can be put
through here: such matters become tickets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from hotline.attendant.call import AttendantCall, AttendantSettings
from hotline.attendant.greeting import greet
from hotline.attendant.serve import attend
from hotline.attendant.text_channel import Lines, TextDialogue
from hotline.calls.call_ports import CallTickets, StoreRecord, closing_fields
from hotline.domain.call_machine import CallMachine, CallState
from hotline.domain.calls import NewCall
from hotline.errors import CallerGone
from hotline.phrasebook.model import Phrasebook
from hotline.ports import CallStore, Clock, Directory, TicketStore


@dataclass(frozen=True)
class Ended:
    record: int
    disposition: str
    category: str
    tickets: list[int]


@dataclass
class TextDeps:
    store: CallStore
    tickets: TicketStore
    clock: Clock
    phrasebook: Phrasebook
    unit: str
    settings: AttendantSettings
    directory: Directory | None


async def run_text_call(deps: TextDeps, lines: Lines, caller: str,
                        on_error: Callable[[str], None], jsonl: bool = True) -> Ended:
    store, clock = deps.store, deps.clock
    record_id = await store.open_call(NewCall(
        channel_id=f"text-{uuid.uuid4().hex}", caller=caller, called="text",
        arrived_at=clock.now(), channel="text"))
    machine = CallMachine()
    tickets = CallTickets(deps.tickets, clock, record_id, deps.settings.job_number)

    async def said(phrase_id: str) -> None:
        await store.add_event(record_id, "said", {"phrase": phrase_id})

    dialogue = TextDialogue(lines, deps.phrasebook, deps.unit, deps.settings.job_number,
                            said, on_error, jsonl)
    c = AttendantCall(d=dialogue, machine=machine, record=StoreRecord(store, record_id),
                      tickets=tickets, settings=deps.settings, directory=deps.directory,
                      caller=caller)
    try:
        machine.answer(deps.settings.job_number)
        await store.update_call(record_id, answered_at=clock.now(), rings=0,
                                answered_by=deps.settings.job_number,
                                owner=deps.settings.job_number, state=machine.state.value)
        await greet(c, 0, deps.settings.job_number)
        await attend(c)
        machine.end()
    except CallerGone:
        if machine.state is not CallState.ENDED:
            machine.caller_gone()
    finally:
        if machine.state is not CallState.ENDED:
            machine.fault()
            machine.end()
        await store.update_call(record_id, **closing_fields(machine, clock.now()))
    return Ended(record_id, machine.disposition.value, machine.category, tickets.opened)
