"""A month of call records, written in bulk (the ledger and statistics at scale): N calls
spread over the month, closed and answered, with a callback ticket on every Kth."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select

from hotline.store.database import Database
from hotline.store.models import Call, Ticket

BATCH = 2000


async def fill_month(db: Database, start: datetime, calls: int, ticket_every: int = 10,
                     days: int = 28) -> None:
    step = timedelta(days=days) / calls
    for first in range(0, calls, BATCH):
        rows = []
        for i in range(first, min(calls, first + BATCH)):
            at = start + step * i
            rows.append({
                "channel_id": f"bulk-{i}", "node": "", "channel": "phone",
                "caller": f"139{i:08d}", "called": "12345", "arrived_at": at,
                "answered_at": at + timedelta(seconds=3), "rings": 1, "answered_by": "9000",
                "ended_at": at + timedelta(seconds=90), "disposition": "resolved",
                "state": "ended", "category": "查询", "summary": f"查询第{i}号",
                "caller_name": "", "caller_title": "", "callback_number": "",
                "owner": "9000", "satisfaction": 5 if i % 3 else None, "recording": None})
        async with db.unit() as s:
            await s.execute(insert(Call), rows)
    if not ticket_every:
        return
    async with db.unit() as s:
        ids = list((await s.scalars(select(Call.id).where(Call.channel_id.like("bulk-%"))
                                    .order_by(Call.id))).all())
    for first in range(0, len(ids), BATCH * ticket_every):
        tickets = [{
            "call_id": cid, "kind": "callback", "status": "open", "summary": "回电",
            "owner": "9000", "department": "", "caller_name": "", "callback_number": "",
            "fields": {}, "created_at": start + step * n, "due_at": start + step * n
            + timedelta(days=1), "reply": "", "extensions": 0}
            for n, cid in enumerate(ids[first:first + BATCH * ticket_every], start=first)
            if n % ticket_every == 0]
        async with db.unit() as s:
            await s.execute(insert(Ticket), tickets)
