"""The appraisal pages: /appraisal, every operator's month for supervisors; /appraisal/me,
an operator's own figures (never another's). Both audited: they are about people."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hotline.domain.appraisal import PART_NAMES, Appraisal
from hotline.errors import HotlineError
from hotline.reports.appraisal import MonthAppraisal, month_appraisal
from hotline.reports.ledger import month_bounds
from hotline.store.users_repo import Role
from hotline.web.auth import USERS, require
from hotline.web.console import SUPERVISING, page, tz
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()


async def _month(request: web.Request) -> tuple[str, MonthAppraisal]:
    zone = tz(request)
    now = datetime.now(UTC)
    month = request.query.get("month", "")[:7] or now.astimezone(zone).strftime("%Y-%m")
    try:
        since, until = month_bounds(month, zone)
    except HotlineError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    services = request.app[SERVICES]
    return month, await month_appraisal(services.db, since, until, zone, services.appraisal,
                                        now=now)


def _row(a: Appraisal) -> dict[str, Any]:
    return {"job_number": a.job_number, "name": a.name, "total": a.total,
            "satisfaction": a.satisfaction, "daily": a.daily, "parts": a.parts,
            "figures": a.figures}


@routes.get("/appraisal")
async def appraisal_page(request: web.Request) -> web.Response:
    session = require(request, *SUPERVISING)
    month, result = await _month(request)
    await request.app[USERS].audit(session.user, "view_appraisal", month, {"who": "all"})
    rows = sorted((_row(a) for a in result.appraisals), key=lambda r: -r["total"])
    return page(request, "appraisal.html", month=month, rows=rows, parts=PART_NAMES,
                rules=request.app[SERVICES].appraisal, own=False)


@routes.get("/appraisal/me")
async def my_appraisal(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR, *SUPERVISING)
    month, result = await _month(request)
    await request.app[USERS].audit(session.user, "view_appraisal", month,
                                   {"who": session.user})
    rows = [_row(a) for a in result.appraisals if a.job_number == session.user]
    return page(request, "appraisal.html", month=month, rows=rows, parts=PART_NAMES,
                rules=request.app[SERVICES].appraisal, own=True)
