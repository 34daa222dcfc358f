"""The knowledge base in the console: operators read it (and the desk searches it as the
caller speaks); supervisors and admins keep it (edits validated, versioned, audited). An
item past its review date is flagged. The desk marks the items told all at once
(已一次性告知) on the call's record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hotline.errors import NotFoundError
from hotline.knowledge.items import DATE_FIELDS, LABELS, LIST_FIELDS, TEXT_FIELDS, Item, parse_item
from hotline.knowledge.store import Version
from hotline.store.users_repo import Role
from hotline.web.auth import USERS, require
from hotline.web.console import (
    SUPERVISING,
    json_ok,
    local,
    page,
    page_number,
    tz,
    visible_call,
)
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()
READERS = (Role.OPERATOR, *SUPERVISING)
MAX_TOLD = 20


def _today(request: web.Request) -> date:
    return datetime.now(tz(request)).date()


def item_json(item: Item, today: date) -> dict[str, Any]:
    return item.data() | {"version": item.version, "overdue": item.overdue(today)}


@routes.get("/api/knowledge")
async def api_search(request: web.Request) -> web.Response:
    require(request, *READERS)
    query = request.query.get("q", "")[:200]
    if not query.strip():
        raise web.HTTPBadRequest(text="q: the question to look up")
    try:
        limit = min(20, max(1, int(request.query.get("limit", "5"))))
    except ValueError:
        raise web.HTTPBadRequest(text="limit: a number") from None
    r = await request.app[SERVICES].knowledge.search(query, limit,
                                                     request.query.get("unit", "")[:80])
    return json_ok(r.json())


async def _item(request: web.Request) -> Item:
    try:
        return await request.app[SERVICES].knowledge.item(request.match_info["id"])
    except NotFoundError:
        raise web.HTTPNotFound(text="no such knowledge item") from None


@routes.get("/api/knowledge/{id}")
async def api_item(request: web.Request) -> web.Response:
    require(request, *READERS)
    return json_ok(item_json(await _item(request), _today(request)))


KNOWLEDGE_PAGE = 100  # items a page of the listing


@routes.get("/knowledge")
async def listing(request: web.Request) -> web.Response:
    """The items a page at a time (of one unit; only those past their review date with
    ``overdue=1``), or a search's best 20; the count past review is of all the items."""
    session = require(request, *READERS)
    kb = request.app[SERVICES].knowledge
    unit = request.query.get("unit", "")[:80]
    q = request.query.get("q", "")[:200]
    only_overdue = request.query.get("overdue", "") == "1"
    number = page_number(request)
    today = _today(request)
    more = False
    if q.strip():
        hits = (await kb.search(q, 20, unit)).hits
        items = [await kb.item(h.id) for h in hits]
    else:
        items, more = await kb.listing(unit, (number - 1) * KNOWLEDGE_PAGE, KNOWLEDGE_PAGE,
                                       today if only_overdue else None)

    def link(n: int, overdue: bool = only_overdue) -> str:
        return "/knowledge?" + urlencode({**({"unit": unit} if unit else {}),
                                          **({"overdue": "1"} if overdue else {}),
                                          "page": n})

    return page(request, "knowledge.html", items=items, today=today, units=await kb.units(),
                chosen_unit=unit, q=q, overdue=await kb.overdue_count(today, unit),
                only_overdue=only_overdue, overdue_url=link(1, overdue=True),
                page_number=number, next_url=link(number + 1) if more else "",
                previous_url=link(number - 1) if number > 1 and not q.strip() else "",
                keeper=session.role in SUPERVISING)


def _form_page(request: web.Request, item: Item | None, values: dict[str, str],
               problems: list[str], keeper: bool, versions: list[Version] | None = None,
               status: int = 200) -> web.Response:
    zone = tz(request)
    resp = page(request, "knowledge_item.html", item=item, values=values, problems=problems,
                labels=LABELS, text_fields=TEXT_FIELDS, list_fields=LIST_FIELDS,
                date_fields=DATE_FIELDS, today=_today(request),
                keeper=keeper, versions=versions or [], local=lambda v: local(v, zone))
    resp.set_status(status)
    return resp


def _values(item: Item) -> dict[str, str]:
    d = item.data()
    return {k: "\n".join(v) if isinstance(v, list) else str(v) for k, v in d.items()}


@routes.get("/knowledge/new")
async def new_form(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    return _form_page(request, None, {}, [], keeper=True)


@routes.get("/knowledge/{id}")
async def show(request: web.Request) -> web.Response:
    session = require(request, *READERS)
    item = await _item(request)
    versions = await request.app[SERVICES].knowledge.versions(item.id)
    return _form_page(request, item, _values(item), [], session.role in SUPERVISING, versions)


@routes.post("/knowledge")
async def save(request: web.Request) -> web.Response:
    """Create or edit an item (the form's id says which): a new version, the old kept."""
    session = require(request, *SUPERVISING)
    form = await request.post()
    raw = {k: str(form.get(k, "")) for k in LABELS}
    values = dict(raw)
    item, problems = parse_item(raw, "form")
    if item is None:
        return _form_page(request, None, values, [str(p) for p in problems], True, status=400)
    kb = request.app[SERVICES].knowledge
    saved = await kb.edit(item, session.user, datetime.now(UTC))
    if saved.added or saved.changed:
        current = await kb.item(item.id)
        await request.app[USERS].audit(session.user, "knowledge_saved", item.id,
                                       {"version": current.version, "new": bool(saved.added)})
    raise web.HTTPFound(f"/knowledge/{item.id}")


@routes.post("/calls/{id}/told")
async def told(request: web.Request) -> web.Response:
    """已一次性告知: the items told the caller all at once go on the call's record."""
    session = require(request, *READERS)
    call = await visible_call(request, session)
    form = await request.post()
    ids = [str(v)[:64] for v in form.getall("item", [])][:MAX_TOLD]
    if not ids:
        raise web.HTTPBadRequest(text="item: the knowledge item(s) told")
    try:
        items = await request.app[SERVICES].knowledge.told(call.id, ids, session.user,
                                                           datetime.now(UTC))
    except NotFoundError as exc:
        raise web.HTTPBadRequest(text=f"item: {exc}") from None
    return json_ok({"call": call.id, "told": [{"id": i.id, "title": i.title,
                                                "version": i.version} for i in items]})
