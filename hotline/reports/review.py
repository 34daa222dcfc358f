"""The supervisor console's statistics and inspection list over the stores: the records are
read a chunk at a time (keyset queries, never a period held whole) and the CPU work on each
chunk is small or done on a worker thread, so a year of calls does not hold up live calls."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.domain.etiquette import flag
from hotline.knowledge.told import told_counts
from hotline.reports.stats import ConsoleStats
from hotline.store.calls_repo import CallRepository
from hotline.store.models import Call
from hotline.store.tickets_repo import TicketRepository

# What the statistics read of each record (not the summary or the caller's details).
STATS_COLUMNS = (Call.arrived_at, Call.answered_at, Call.ended_at, Call.rings,
                 Call.answered_by, Call.disposition, Call.category, Call.satisfaction)
MAX_FINDINGS = 1000  # the inspection page lists at most this many (the oldest first)


async def console_stats(calls: CallRepository, tickets: TicketRepository, since: datetime,
                        until: datetime, zone: ZoneInfo) -> dict[str, Any]:
    acc = ConsoleStats(zone)
    async for chunk in calls.chunks_between(since, until, *STATS_COLUMNS):
        for c in chunk:
            acc.add_call(c)
    async for found in tickets.chunks_created(since, until):
        for t in found:
            acc.period.add_ticket(t, until)
    acc.told_calls, acc.told_items = await told_counts(calls.db, since, until)
    return acc.figures()


def _flag_chunk(rows: list[Any]) -> list[tuple[Any, str, Any]]:
    out = []
    for row in rows:
        text = str(row.data.get("text", ""))
        out += [(row, text, f) for f in flag(text)]
    return out


async def inspection(calls: CallRepository, since: datetime, until: datetime,
                     limit: int = MAX_FINDINGS) -> tuple[list[dict[str, Any]], bool]:
    """The forbidden phrases in what operators said on the period's calls: (findings, whether
    there were more than ``limit``)."""
    findings: list[dict[str, Any]] = []
    async for chunk in calls.operator_transcripts(since, until):
        for row, text, f in await asyncio.to_thread(_flag_chunk, chunk):
            if len(findings) == limit:
                return findings, True
            findings.append({"call": row.call_id, "at": row.at,
                             "operator": row.data.get("job_number") or row.answered_by,
                             "text": text, "phrase": f.phrase, "situation": f.situation,
                             "instead": f.instead})
    return findings, False
