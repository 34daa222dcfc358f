"""转接 (004 篇10; 003 转接前先向接听人简述): put the caller through to a unit. When nobody
answers the matter is not dropped: a referral ticket is opened and the caller told when the
reply comes (never "please call them yourself")."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall
from hotline.attendant.words import spoken_time
from hotline.directory.records import Entry
from hotline.domain.call_machine import Served
from hotline.domain.tickets import TicketKind


async def put_through(c: AttendantCall, entry: Entry, said: str) -> None:
    await c.d.say("transfer", organisation=entry.name)
    c.machine.put_through()
    connection = await c.transfers.reach(entry) if c.transfers is not None else None
    if connection is not None:
        c.machine.connected()
        await connection.talk()  # returns when the unit hung up first
        c.machine.served(Served.RESOLVED)
        return
    c.machine.not_connected()
    opened = await c.tickets.open(
        TicketKind.REFERRAL, f"转办 {entry.name}：{said}", department=entry.name,
        fields={"entry": entry.id, "transfer_to": entry.transfer_to, "said": said})
    await c.record.note("transfer_failed", {"id": entry.id, "ticket": opened.ticket_id})
    await c.d.say("transfer_failed", organisation=entry.name, ticket=str(opened.ticket_id),
                  due=spoken_time(opened.due_at))
    c.machine.served(Served.REFERRED)
