"""The live wallboard: calls waiting and talking now, the operators' states, and today's
answer-within-three-rings rate. The page refreshes itself from GET /api/wallboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hotline.domain.dialled import DialFailure
from hotline.domain.duty import uncovered_posts
from hotline.duty.web import DUTY_NAMES
from hotline.errors import NotFoundError, StoreError
from hotline.privacy import mask_number
from hotline.store.operators_repo import to_seat
from hotline.web.auth import require
from hotline.web.console import SUPERVISING, json_ok, page, tz
from hotline.web.keys import SERVICES
from hotline.web.softphone import softphone_config

routes = web.RouteTableDef()
EMERGENCY_OUTCOMES = {"dialling": "正在转接", "bridged": "已接通",
                      "no_answer": "未接通，已告知直拨", "not_dialled": "未配置线路",
                      "no_line_here": "已告知直拨"}
# why an emergency line was not reached (domain/dialled.py), with the PBX's cause if any
DIAL_FAILURES: dict[str, str] = {
    DialFailure.UNANSWERED: "无人接听", DialFailure.BUSY: "占线或拒接",
    DialFailure.UNREACHABLE: "线路不通", DialFailure.NOT_ORIGINATED: "呼叫未能发起",
    DialFailure.HUNG_UP: "接通后挂断"}


def emergency_outcome(data: dict[str, Any]) -> str:
    """未接通（线路不通，原因码20），已告知直拨: the outcome, and why where it failed."""
    outcome = str(data.get("outcome", ""))
    said = EMERGENCY_OUTCOMES.get(outcome, outcome)
    reason = str(data.get("reason", ""))
    if not reason:
        return said
    why = DIAL_FAILURES.get(reason, reason)
    if data.get("cause") is not None:
        why += f"，原因码{data['cause']}"
    return said.replace("未接通", f"未接通（{why}）", 1) if "未接通" in said else \
        f"{said}（{why}）"


async def wallboard_data(request: web.Request) -> dict[str, Any]:
    services = request.app[SERVICES]
    zone = tz(request)
    now = datetime.now(UTC)
    open_calls = await services.calls.open_calls()
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    calls, answered, within = await services.calls.answer_counts(midnight.astimezone(UTC), now)
    busy = await services.roster.talking()  # every node's seats, with claims
    holders = await services.calls.holders([c.id for c in open_calls if c.answered_at])
    operators = await services.operators.all()
    return {
        "at": now.astimezone(zone).strftime("%H:%M:%S"),
        "waiting": [{"id": c.id, "caller": mask_number(c.caller),
                     "waited_s": round((now - c.arrived_at).total_seconds())}
                    for c in open_calls if c.answered_at is None],
        "talking": [{"id": c.id, "caller": mask_number(c.caller),
                     "operator": holders.get(c.id, c.answered_by),
                     "talk_s": round((now - c.answered_at).total_seconds())}
                    for c in open_calls if c.answered_at is not None],
        "operators": [{"job_number": op.job_number, "name": op.name,
                       "state": "talking" if op.job_number in busy else op.duty,
                       "state_name": "通话中" if op.job_number in busy
                       else DUTY_NAMES.get(op.duty, op.duty)}
                      for op in operators],
        # the A posts with nobody on duty: neither the post nor any of its B posts (003 AB岗)
        "uncovered": uncovered_posts([to_seat(op) for op in operators]),
        "emergencies": [{"id": call_id, "caller": mask_number(caller),
                         "at": at.astimezone(zone).strftime("%H:%M:%S"),
                         "line": str(data.get("line", "")),
                         "dial": str(data.get("dial", "")),
                         "outcome": emergency_outcome(data)}
                        for call_id, caller, at, data in
                        await services.calls.emergencies(midnight.astimezone(UTC))],
        "today": {"calls": calls, "answered": answered, "within_three_rings": within,
                  "rate": within / answered if answered else None},
    }


@routes.get("/wallboard")
async def wallboard(request: web.Request) -> web.Response:
    session = require(request, *SUPERVISING)
    services = request.app[SERVICES]
    try:  # the supervisor's own seat rings for listen/whisper/barge
        op = await services.operators.get(session.user)
    except (NotFoundError, StoreError):
        op = None
    return page(request, "wallboard.html", board=await wallboard_data(request),
                seat=op is not None, softphone=softphone_config(services.pbx, op))


@routes.get("/api/wallboard")
async def api_wallboard(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    return json_ok(await wallboard_data(request))
