"""The attendant's Record and Tickets ports over the call store and the ticket store, for one
call. Both channels (phone and text) use them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.attendant.port import Opened
from hotline.domain.call_machine import CallMachine
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.ports import CallStore, Clock, TicketStore


def closing_fields(machine: CallMachine, now: datetime) -> dict[str, Any]:
    """What the record says once the call is over: derived from the machine, never set by
    hand (the category only once the caller's matter is known)."""
    fields: dict[str, Any] = {"ended_at": now, "state": machine.state.value,
                              "disposition": machine.disposition.value}
    if machine.category:
        fields["category"] = machine.category
    return fields


class StoreRecord:
    def __init__(self, store: CallStore, call_id: int) -> None:
        self.store = store
        self.call_id = call_id

    async def note(self, kind: str, data: dict[str, Any]) -> None:
        await self.store.add_event(self.call_id, kind, data)

    async def update(self, **fields: Any) -> None:
        await self.store.update_call(self.call_id, **fields)


class CallTickets:
    """Tickets raised on the call's behalf by ``by`` (the attendant's post, 9000); the call's
    first-question owner stays on them."""

    def __init__(self, tickets: TicketStore, clock: Clock, call_id: int, by: str) -> None:
        self.tickets = tickets
        self.clock = clock
        self.call_id = call_id
        self.by = by
        self.opened: list[int] = []

    def due(self, kind: TicketKind) -> Any:
        return self.tickets.due(kind, self.clock.now())

    async def open(self, kind: TicketKind, summary: str, *, department: str = "",
                   fields: dict[str, Any] | None = None, caller_name: str = "",
                   callback_number: str = "") -> Opened:
        now = self.clock.now()
        ticket_id = await self.tickets.open(NewTicket(
            kind=kind, by=self.by, call_id=self.call_id, summary=summary,
            department=department, fields=dict(fields or {}), caller_name=caller_name,
            callback_number=callback_number), now)
        self.opened.append(ticket_id)
        return Opened(ticket_id, self.tickets.due(kind, now))
