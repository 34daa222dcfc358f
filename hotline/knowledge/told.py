"""How often the operators told callers a procedure all at once (一次性告知), for the
statistics: the calls with a ``knowledge_told`` event in a period, and the items told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hotline.knowledge.service import TOLD
from hotline.store.database import Database
from hotline.store.models import CallEvent


async def told_counts(db: Database, since: datetime, until: datetime) -> tuple[int, int]:
    """(calls told at least one item, distinct items told per call summed) in [since, until)."""
    told: dict[int, set[str]] = {}
    async with db.unit() as s:
        rows = await s.execute(select(CallEvent.call_id, CallEvent.data).where(
            CallEvent.kind == TOLD, CallEvent.at >= since, CallEvent.at < until))
        for call_id, data in rows:
            told.setdefault(call_id, set()).update(
                str(i.get("id")) for i in (data or {}).get("items", []))
    return len(told), sum(len(v) for v in told.values())
