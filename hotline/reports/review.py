"""The supervisor console's statistics and inspection list over the stores: the statistics
are SQL aggregates (hotline/reports/stats_sql.py); the inspection reads the transcripts a
chunk at a time (keyset queries, never a period held whole) and flags them on a worker
thread, so a year of calls does not hold up live calls."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.domain.etiquette import flag
from hotline.knowledge.told import told_counts
from hotline.reports.stats_sql import period_figures
from hotline.store.calls_repo import CallRepository

MAX_FINDINGS = 1000  # the inspection page lists at most this many (the oldest first)


async def console_stats(calls: CallRepository, since: datetime, until: datetime,
                        zone: ZoneInfo) -> dict[str, Any]:
    """The period's figures (SQL aggregates: a year of calls is never read here)."""
    acc = await period_figures(calls.db, since, until, zone)
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
