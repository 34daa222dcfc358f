"""The inspection pages (supervisors and admins only): the month's proposed sample, a call's
scorecard beside its recording and both sides' transcript, saving it, the month's inspection
records and the rectification's follow-through. Reading a call's transcript here is audited
(``inspect_call``); its recording is played through /calls/{id}/recording (``play_recording``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hotline.errors import HotlineError, NotFoundError
from hotline.inspection.checklist import RESULT_NAMES, Result
from hotline.inspection.ledger_sheet import findings_text, items_text
from hotline.inspection.service import InspectionInputError, InspectionService, Review
from hotline.web.auth import USERS, require
from hotline.web.console import SUPERVISING, local, page, tz
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()
SPEAKERS = {"caller": "来电人", "operator": "话务员"}


def _service(request: web.Request) -> InspectionService:
    return request.app[SERVICES].inspection


def _month(request: web.Request) -> str:
    month = request.query.get("month") or datetime.now(tz(request)).strftime("%Y-%m")
    try:
        year, mon = (int(x) for x in month.split("-"))
        if not (2000 <= year <= 2100 and 1 <= mon <= 12):
            raise ValueError
    except ValueError:
        raise web.HTTPBadRequest(text="month: expected YYYY-MM") from None
    return f"{year:04d}-{mon:02d}"


def _call_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound(text="no such record") from None


@routes.get("/inspection/sample")
async def sample_page(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    month, seed = _month(request), request.query.get("seed", "")[:64]
    proposals, done = await _service(request).sample(month, seed)
    rows = [{"call": p.call_id, "operator": p.operator, "reasons": "、".join(p.reasons),
             "satisfaction": p.satisfaction,
             "score": done[p.call_id].score if p.call_id in done else None}
            for p in proposals]
    return page(request, "inspection_sample.html", month=month, seed=seed, rows=rows,
                per_operator=_service(request).settings.per_operator)


def _card(request: web.Request, review: Review, error: str = "",
          given: dict[str, str] | None = None) -> dict[str, Any]:
    service, zone = _service(request), tz(request)
    record = review.record
    items = []
    for item in service.checklist.items:
        pre = review.prefill.get(item.id)
        saved = record.results.get(item.id, {}) if record else {}
        chosen = (given or {}).get(item.id) or saved.get("result") or (
            pre.result.value if pre and pre.result else "")
        items.append({"id": item.id, "title": item.title, "weight": f"{item.weight:g}",
                      "optional": item.optional, "chosen": chosen, "note": saved.get("note", ""),
                      "prefill": pre, "prefill_name": RESULT_NAMES[pre.result]
                      if pre and pre.result else "待人工判断"})
    c = review.call
    return {"c": c, "operator": review.operator, "arrived": local(c.arrived_at, zone),
            "items": items, "results": [(r.value, RESULT_NAMES[r]) for r in Result],
            "segments": [{"speaker": SPEAKERS.get(s.speaker, s.speaker), "side": s.speaker,
                          "job": s.job_number, "text": s.text, "start": s.offset_s,
                          "end": s.end_s, "at": f"{int(s.offset_s) // 60:02d}:"
                          f"{s.offset_s % 60:04.1f}",
                          "flagged": any(h.text == s.text and h.offset_s == s.offset_s
                                         for h in review.hits)} for s in review.segments],
            "hits": review.hits, "record": record, "error": error,
            "record_at": local(record.at, zone) if record else "",
            "rectified_at": local(record.rectified_at, zone) if record else "",
            "checklist": service.checklist}


@routes.get("/inspection/calls/{id}")
async def call_page(request: web.Request) -> web.Response:
    session = require(request, *SUPERVISING)
    call_id = _call_id(request)
    try:
        review = await _service(request).review(call_id)
    except NotFoundError:
        raise web.HTTPNotFound(text="no such record") from None
    await request.app[USERS].audit(session.user, "inspect_call", str(call_id))
    return page(request, "inspection_call.html", saved=request.query.get("saved") == "1",
                **_card(request, review))


@routes.post("/inspection/calls/{id}")
async def save(request: web.Request) -> web.Response:
    session = require(request, *SUPERVISING)
    call_id = _call_id(request)
    form = await request.post()
    service = _service(request)
    given = {i.id: str(form.get(f"r_{i.id}", "")) for i in service.checklist.items}
    notes = {i.id: str(form.get(f"n_{i.id}", "")) for i in service.checklist.items}
    try:
        inspection_id, score = await service.save(
            call_id, session.user, given, notes, str(form.get("remarks", "")),
            str(form.get("rectification", "")), datetime.now(UTC))
    except NotFoundError:
        raise web.HTTPNotFound(text="no such record") from None
    except InspectionInputError as exc:
        review = await service.review(call_id)
        response = page(request, "inspection_call.html", saved=False,
                        **_card(request, review, str(exc), given))
        response.set_status(400)
        return response
    await request.app[USERS].audit(session.user, "save_inspection", str(call_id),
                                   {"inspection": inspection_id, "score": score})
    raise web.HTTPSeeOther(f"/inspection/calls/{call_id}?saved=1")


@routes.get("/inspection/records")
async def records_page(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    month, zone = _month(request), tz(request)
    try:
        found = await _service(request).records(month)
    except HotlineError:
        raise web.HTTPBadRequest(text="month: expected YYYY-MM") from None
    rows = [{"id": i.id, "call": i.call_id, "operator": i.operator, "inspector": i.inspector,
             "at": local(i.at, zone), "score": i.score, "items": items_text(i.results),
             "findings": findings_text(i.findings), "rectification": i.rectification,
             "follow_up": i.follow_up, "rectified_at": local(i.rectified_at, zone),
             "rectified_by": i.rectified_by or ""} for i in found]
    return page(request, "inspection_records.html", month=month, rows=rows)


@routes.post("/inspection/records/{id}/rectified")
async def rectified(request: web.Request) -> web.Response:
    """整改落实: the rectification carried out, confirmed by a supervisor."""
    session = require(request, *SUPERVISING)
    inspection_id = _call_id(request)
    form = await request.post()
    try:
        row = await _service(request).rectified(
            inspection_id, session.user, str(form.get("follow_up", "")), datetime.now(UTC))
    except NotFoundError:
        raise web.HTTPNotFound(text="no such inspection") from None
    except InspectionInputError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    await request.app[USERS].audit(session.user, "rectified", str(inspection_id),
                                   {"call": row.call_id})
    raise web.HTTPSeeOther(f"/inspection/calls/{row.call_id}?saved=1")
