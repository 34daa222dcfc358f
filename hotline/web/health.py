"""GET /healthz: 200 when ARI is connected and the database answers, else 503; JSON says which."""

from __future__ import annotations

from aiohttp import web

from hotline.errors import StoreError
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    ari_ok = services.stream.connected.is_set()
    try:
        await services.db.ping()
        db_ok, db_detail = True, "ok"
    except StoreError as exc:
        db_ok, db_detail = False, str(exc)
    body = {
        "status": "ok" if ari_ok and db_ok else "unavailable",
        "ari": {"connected": ari_ok, "url": services.ari_url,
                "detail": "ok" if ari_ok else services.stream.last_error or "connecting"},
        "database": {"reachable": db_ok, "detail": db_detail},
        "calls_in_progress": services.controller.active_calls,
        "journaled_writes": services.journal.pending,  # replayed when the database is back
        "speech_model": services.speech_model or None,
    }
    return web.json_response(body, status=200 if ari_ok and db_ok else 503)
