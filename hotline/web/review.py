"""The supervisor's review: statistics (page and GET /api/stats), the inspection list of
forbidden phrases in operator transcripts, the audit log (read-only), the queries the
directory had nothing registered for, and the call log as JSON (GET /api/calls, same
visibility rules as the pages)."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from openpyxl import Workbook

from hotline.directory.unmatched import DEFAULT_DAYS, since_day
from hotline.domain.etiquette import flag
from hotline.errors import HotlineError
from hotline.reports.ledger import month_bounds, month_ledger
from hotline.reports.stats import period_stats
from hotline.web.auth import USERS, require, session_of
from hotline.web.console import SUPERVISING, call_row, find_calls, json_ok, local, page, tz
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(request: web.Request) -> tuple[datetime, datetime, str]:
    try:
        days = max(1, min(366, int(request.query.get("days", "30"))))
    except ValueError:
        raise web.HTTPBadRequest(text="days: a whole number of days (1-366)") from None
    until = datetime.now(UTC)
    return until - timedelta(days=days), until, f"最近{days}天"


async def stats_data(request: web.Request) -> dict[str, Any]:
    since, until, label = _period(request)
    services = request.app[SERVICES]
    calls = await services.calls.between(since, until)
    tickets = await services.tickets.find(since=since, until=until, limit=100_000)
    s = period_stats(calls, tickets, until)
    zone = tz(request)
    per_hour = Counter(c.arrived_at.astimezone(zone).hour for c in calls)
    per_day = Counter(c.arrived_at.astimezone(zone).date().isoformat() for c in calls)
    handle = [(c.ended_at - c.answered_at).total_seconds() for c in calls
              if c.answered_at and c.ended_at]
    by_op: dict[str, list[int]] = {}
    for c in calls:
        if c.satisfaction is not None and c.answered_by:
            by_op.setdefault(c.answered_by, []).append(c.satisfaction)
    resolved_first = sum(1 for c in calls if c.disposition in ("resolved", "referred"))
    return {
        "period": label, "since": since.isoformat(), "until": until.isoformat(),
        "calls": s.calls, "answered": s.answered,
        "answered_within_three_rings": (s.within_three_rings / s.answered) if s.answered
        else None,
        "abandoned": s.dispositions.get("abandoned", 0),
        "silent": s.dispositions.get("silent", 0),
        "average_handle_s": round(sum(handle) / len(handle), 1) if handle else None,
        "first_contact_resolution": (resolved_first / s.answered) if s.answered else None,
        "satisfaction_mean": s.satisfaction_mean,
        "satisfaction_by_operator": {k: round(sum(v) / len(v), 2) for k, v in by_op.items()},
        "complaints": s.tickets_by_kind.get("complaint", 0),
        "tickets": s.tickets, "overdue_tickets": s.overdue,
        "dispositions": dict(s.dispositions), "categories": dict(s.categories),
        "per_hour": {str(h): per_hour.get(h, 0) for h in range(24)},
        "per_day": dict(sorted(per_day.items())),
        "rows": s.rows(),
    }


@routes.get("/api/stats")
async def api_stats(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    data = await stats_data(request)
    data.pop("rows")
    return json_ok(data)


@routes.get("/stats")
async def stats_page(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    d = await stats_data(request)

    def pct(v: float | None) -> str | None:
        return f"{v:.1%}" if v is not None else None

    cards = [("来电", d["calls"]), ("三声内接听率", pct(d["answered_within_three_rings"])),
             ("放弃", d["abandoned"]), ("无声", d["silent"]),
             ("平均通话(秒)", d["average_handle_s"]),
             ("一次解决率", pct(d["first_contact_resolution"])),
             ("满意度", d["satisfaction_mean"]), ("投诉", d["complaints"]),
             ("超期工单", d["overdue_tickets"])]
    per_hour = [(int(h), n) for h, n in d["per_hour"].items()]
    per_day = list(d["per_day"].items())[-31:]
    top_h = max([n for _, n in per_hour] + [1])
    top_d = max([n for _, n in per_day] + [1])
    return page(request, "stats.html", period=d["period"], cards=cards, per_hour=per_hour,
                per_day=per_day, scale_h=130 / top_h, scale_d=130 / top_d, rows=d["rows"])


@routes.get("/inspection")
async def inspection_page(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    since, until, label = _period(request)
    zone = tz(request)
    findings = []
    for call in await request.app[SERVICES].calls.between_with_events(since, until):
        for e in call.events:
            if e.kind != "transcript" or e.data.get("speaker") != "operator":
                continue
            for f in flag(str(e.data.get("text", ""))):
                findings.append({"call": call.id, "at": local(e.at, zone),
                                 "operator": e.data.get("job_number") or call.answered_by,
                                 "text": e.data.get("text"), "phrase": f.phrase,
                                 "situation": f.situation, "instead": f.instead})
    return page(request, "inspection.html", period=label, findings=findings)


@routes.get("/audit")
async def audit_page(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    zone = tz(request)
    rows = [{"at": local(a.at, zone), "actor": a.actor, "action": a.action,
             "target": a.target, "detail": a.detail}
            for a in await request.app[USERS].audit_log(500)]
    return page(request, "audit.html", rows=rows)


@routes.get("/directory/unmatched")
async def unmatched_page(request: web.Request) -> web.Response:
    """What callers asked for that is not registered, for the directory keepers. Only the
    queries and when they were asked: no caller numbers, so not audited (as /stats)."""
    require(request, *SUPERVISING)
    zone = tz(request)
    given = request.query.get("since", "")
    try:
        since = since_day(given, zone)
    except ValueError:
        raise web.HTTPBadRequest(text="since: expected a date YYYY-MM-DD") from None
    rows = await request.app[SERVICES].calls.unmatched_queries(since, limit=500)
    return page(request, "unmatched.html", since=since.date().isoformat(), given=given[:10],
                days=DEFAULT_DAYS, rows=[{"query": r.query, "count": r.count,
                                          "first": local(r.first_at, zone),
                                          "last": local(r.last_at, zone)} for r in rows])


@routes.get("/api/calls")
async def api_calls(request: web.Request) -> web.Response:
    session = session_of(request)
    calls, _ = await find_calls(request, session)
    zone = tz(request)
    return json_ok([call_row(c, zone) for c in calls])


@routes.get("/ledger")
async def ledger(request: web.Request) -> web.Response:
    """The monthly ledger (台账) as XLSX, the same workbook as `hotline report`."""
    session = require(request, *SUPERVISING)
    zone = tz(request)
    month = request.query.get("month") or datetime.now(zone).strftime("%Y-%m")
    services = request.app[SERVICES]
    try:
        month_bounds(month, zone)  # the caller's error, not the database's
    except HotlineError:
        raise web.HTTPBadRequest(text="month: expected YYYY-MM") from None
    workbook, calls, tickets = await month_ledger(services.calls, services.tickets, month, zone)
    book = await asyncio.to_thread(_xlsx, workbook)
    await request.app[USERS].audit(session.user, "export_ledger", month,
                                   {"calls": calls, "tickets": tickets})
    return web.Response(body=book, content_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="ledger-{month}.xlsx"'})


def _xlsx(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
