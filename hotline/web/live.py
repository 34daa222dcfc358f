"""The desk's live feed (a WebSocket): the call offered to this operator pops up with the
caller's history; the transcript, the directory and the knowledge-base suggestions follow
as the caller speaks;
a colleague's warm transfer pops up with its written summary.

Each socket sees only its own user's calls: the ones offered to, answered by or transferred
to them. The feed is read-only; actions go through the ordinary CSRF-checked forms and APIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from hotline.directory.index import result_json
from hotline.domain.seats import DutyState
from hotline.errors import HotlineError, NotFoundError
from hotline.live.hub import Happening
from hotline.server.services import Services
from hotline.store.users_repo import Role
from hotline.web.access import scheme_of
from hotline.web.auth import SECURITY, SESSIONS, TOKEN, require
from hotline.web.console import SUPERVISING, tz
from hotline.web.desk import caller_card, waiting_tickets
from hotline.web.keys import SERVICES

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
dumps = functools.partial(json.dumps, ensure_ascii=False)
# record events after which the attendant's waiting tickets changed: one was raised, or taken
TICKET_TAKEN = frozenset({"message_taken", "complaint_taken", "callback_taken"})
WAITING_CHANGED = TICKET_TAKEN | {"owner_changed"}


class DeskView:
    """Turns the node's happenings into the messages one operator's desk shows."""

    def __init__(self, user: str, services: Services, zone: ZoneInfo) -> None:
        self.user = user
        self.services = services
        self.zone = zone
        self.mine: set[int] = set()

    async def waiting(self) -> list[dict[str, Any]]:
        """For an operator on duty: the attendant's tickets waiting to be taken over (the
        pop-up as they come on duty, and again whenever the list changes)."""
        try:
            op = await self.services.operators.get(self.user)
        except NotFoundError:  # a supervisor without a seat
            return []
        if op.duty != DutyState.ON_DUTY.value:
            return []
        return [{"type": "waiting", "post": self.services.attendant_post,
                 "tickets": await waiting_tickets(self.services, self.zone)}]

    async def on(self, h: Happening) -> list[dict[str, Any]]:
        d = h.data
        if h.kind in WAITING_CHANGED or (h.kind == "transfer_failed" and "ticket" in d):
            return await self.waiting()  # (the attendant's failed transfer left a ticket)
        if h.kind == "seat_offered" and d.get("job_number") == self.user:
            self.mine.add(h.call_id)
            return [{"type": "offered", "call": await self._card(h.call_id)}]
        if h.kind == "transfer_offered" and d.get("seat") == self.user:
            self.mine.add(h.call_id)
            return [{"type": "transfer", "by": d.get("by", ""), "summary": d.get("summary", ""),
                     "call": await self._card(h.call_id)}]
        if h.call_id not in self.mine:
            return []
        left_me = ((h.kind in ("seat_no_answer", "seat_leg")
                    and d.get("job_number") == self.user)
                   or (h.kind == "transfer_failed" and d.get("seat") == self.user)
                   or (h.kind == "update" and "ended_at" in d))
        if left_me:  # not ringing here any more, handed on, or over
            self.mine.discard(h.call_id)
            return [{"type": "ended", "id": h.call_id}]
        if h.kind in ("transferred", "transfer_failed"):
            return [{"type": h.kind, "id": h.call_id, "to": d.get("to", ""),
                     "reason": d.get("reason", "")}]
        if h.kind == "transcript":
            said = {"type": "transcript", "id": h.call_id, "speaker": d.get("speaker", ""),
                    "text": d.get("text", "")}
            if d.get("speaker") != "caller" or not d.get("text"):
                return [said]
            return [said, await self._suggestions(h.call_id, str(d["text"])),
                    await self._knowledge(h.call_id, str(d["text"]))]
        return []

    async def _card(self, call_id: int) -> dict[str, Any]:
        return await caller_card(self.services, call_id, self.zone)

    async def _suggestions(self, call_id: int, text: str) -> dict[str, Any]:
        started = time.perf_counter()
        r = await self.services.directory.lookup(text[:100])
        found = result_json(r, (time.perf_counter() - started) * 1000)
        for row, hit in zip(found["results"], r.hits, strict=True):
            row["transfer"] = bool(hit.entry.transfer_to)  # the desk offers these
        return {"type": "suggestions", "id": call_id, **found}

    async def _knowledge(self, call_id: int, text: str) -> dict[str, Any]:
        """The knowledge items the caller's words are about (一次性告知 on the desk)."""
        found = await self.services.knowledge.search(text[:200], limit=3)
        return {"type": "knowledge", "id": call_id, **found.json()}


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin on WebSocket handshakes; refuse other sites' pages (CSWSH)."""
    origin = request.headers.get("Origin", "")
    scheme = scheme_of(request, request.app[SECURITY].trusted_proxies)
    return origin in ("", f"{scheme}://{request.host}")


@routes.get("/desk/live")
async def desk_live(request: web.Request) -> web.WebSocketResponse:
    session = require(request, Role.OPERATOR, *SUPERVISING)
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site WebSocket refused")
    services = request.app[SERVICES]
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    view = DeskView(session.user, services, tz(request))
    # closed when the session ends: logout, or the user's password changed, disabled, removed
    async with request.app[SESSIONS].socket(session, request[TOKEN], ws), \
            services.hub.subscribe() as feed:
        closed = asyncio.ensure_future(_until_closed(ws))
        try:
            with contextlib.suppress(HotlineError):  # on duty: what waits pops up at once
                for m in await view.waiting():
                    await ws.send_str(dumps(m))
            while not closed.done():
                got = asyncio.ensure_future(feed.get())
                await asyncio.wait({got, closed}, return_when=asyncio.FIRST_COMPLETED)
                if not got.done():
                    got.cancel()
                    break
                try:
                    messages = await view.on(got.result())
                except HotlineError as exc:  # e.g. the database is away: say so, go on
                    log.warning("desk feed for %s: %s", session.user, exc)
                    messages = [{"type": "error", "text": "记录暂时无法读取"}]
                for m in messages:
                    if ws.closed:  # the session ended meanwhile: not one message more
                        break
                    await ws.send_str(dumps(m))
        except ConnectionResetError:
            pass
        finally:
            closed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closed
    return ws


async def _until_closed(ws: web.WebSocketResponse) -> None:
    async for msg in ws:  # the desk sends nothing; pings are answered by aiohttp
        if msg.type == WSMsgType.ERROR:
            break
