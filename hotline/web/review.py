"""The supervisor's review: statistics (page and GET /api/stats), the inspection list of
forbidden phrases in operator transcripts, the audit log (read-only), the queries the
directory had nothing registered for, and the call log as JSON (GET /api/calls, same
visibility rules as the pages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from hotline.directory.unmatched import DEFAULT_DAYS, since_day
from hotline.errors import HotlineError
from hotline.reports.ledger import ledger_in_child, month_bounds
from hotline.reports.review import console_stats, inspection
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
    figures = await console_stats(services.calls, since, until, tz(request))
    return {"period": label, "since": since.isoformat(), "until": until.isoformat()} | figures


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
             ("超期工单", d["overdue_tickets"]), ("一次性告知", d["told_calls"])]
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
    findings, more = await inspection(request.app[SERVICES].calls, since, until)
    for f in findings:
        f["at"] = local(f["at"], zone)
    return page(request, "inspection.html", period=label, findings=findings, more=more)


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
    book, calls, tickets = await ledger_in_child(services.db.url, month, services.timezone,
                                                 services.appraisal)
    await request.app[USERS].audit(session.user, "export_ledger", month,
                                   {"calls": calls, "tickets": tickets})
    return web.Response(body=book, content_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="ledger-{month}.xlsx"'})
