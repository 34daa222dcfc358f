"""The browser softphone: the operator's seat over WebRTC (SIP.js, vendored), switching a
seat between a SIP phone and the browser, and /try, where a newcomer dials the hotline from
the browser (sandbox and demo only; off in production unless HOTLINE_TRY_PAGE=yes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.domain.seats import BROWSER_PHONE, PHONES
from hotline.errors import NotFoundError, StoreError
from hotline.server.pbx_access import PbxAccess
from hotline.store.models import Operator
from hotline.store.users_repo import Role
from hotline.web.auth import USERS, require
from hotline.web.console import SUPERVISING, page
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()


def softphone_config(pbx: PbxAccess, op: Operator | None) -> dict[str, str]:
    """What the operator's browser needs to register the seat: the seat's SIP digest (HA1,
    never the password) goes only to that operator's own page. Empty: no browser phone."""
    if not pbx.sip_ws_url or op is None or op.phone != BROWSER_PHONE:
        return {}
    return {"ws": pbx.sip_ws_url, "user": op.job_number, "ha1": op.sip_digest,
            "domain": pbx.sip_domain}


@routes.post("/desk/phone")
async def set_phone(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR, *SUPERVISING)
    phone = str((await request.post()).get("phone", ""))
    if phone not in PHONES:
        raise web.HTTPBadRequest(text=f"phone: one of {', '.join(PHONES)}")
    services = request.app[SERVICES]
    try:
        await services.operators.set_phone(session.user, phone)
    except (NotFoundError, StoreError):
        raise web.HTTPBadRequest(text=f"{session.user} has no operator seat") from None
    try:  # into this node's Asterisk now (the other nodes' seat-sync tasks follow within
        # seconds): through the sync, so that this node's task does not push it again
        changes = await services.seat_sync.catch_up()
    except StoreError as exc:
        raise web.HTTPServiceUnavailable(text=f"Asterisk not updated: {exc}") from None
    if session.user in changes.failed:  # (logged; tried again at the task's next look)
        raise web.HTTPServiceUnavailable(text="Asterisk not updated: it did not take the "
                                              "seat; tried again within seconds")
    await request.app[USERS].audit(session.user, "phone", session.user, {"phone": phone})
    raise web.HTTPFound("/desk")


@routes.get("/try")
async def try_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if not services.try_page or not services.pbx.sip_ws_url or not services.pbx.try_password:
        raise web.HTTPNotFound(text="/try is for the sandbox and the demo")
    phone: dict[str, Any] = {
        "ws": services.pbx.sip_ws_url, "user": "try", "password": services.pbx.try_password,
        "domain": services.pbx.sip_domain,
        "number": services.public_number}
    return page(request, "try.html", phone=phone)
