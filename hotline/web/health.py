"""GET /healthz: 200 when ARI is connected and the database answers, else 503. The JSON says
which, with the detail (addresses, errors, counts), only to loopback or with the metrics
token; anyone else (a load balancer) gets the status alone."""

from __future__ import annotations

from aiohttp import web

from hotline.errors import StoreError
from hotline.web.access import local_or_token
from hotline.web.auth import SECURITY
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
    status = 200 if ari_ok and db_ok else 503
    if not local_or_token(request, services.metrics_token,
                          request.app[SECURITY].trusted_proxies):
        return web.json_response({"status": body["status"]}, status=status)
    return web.json_response(body, status=status)
