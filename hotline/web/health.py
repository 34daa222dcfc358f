"""GET /healthz: 200 when ARI is connected and the database answers, else 503; JSON says which.

"degraded" (still 200: calls are served) when something needs an operator's eye: a
background task down and waiting to be restarted, writes the database refused (dead
letters, see `hotline journal list`), or a journal that reached its bound. The detail
(addresses, errors, counts) goes only to loopback or with the metrics token; anyone else (a
load balancer) gets the status alone.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from hotline.errors import StoreError
from hotline.server.services import Services
from hotline.web.access import local_or_token
from hotline.web.auth import SECURITY
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()


def _problems(services: Services, dead_letters: int) -> list[str]:
    journal = services.journal
    problems = [f"task {s.name} is down ({s.last_error}); restarting"
                for s in services.supervisor.down]
    if dead_letters:
        problems.append(f"{dead_letters} record writes refused by the database "
                        "(`hotline journal list`)")
    if journal.full:
        problems.append(f"the journal is full: {journal.refused} record writes lost")
    return problems


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    ari_ok = services.stream.connected.is_set()
    try:
        await services.db.ping()
        db_ok, db_detail = True, "ok"
    except StoreError as exc:
        db_ok, db_detail = False, str(exc)
    journal = services.journal
    dead_letters = await asyncio.to_thread(journal.dead.count)
    problems = _problems(services, dead_letters)
    status = "unavailable" if not (ari_ok and db_ok) else "degraded" if problems else "ok"
    body = {
        "status": status,
        "problems": problems,
        "ari": {"connected": ari_ok, "url": services.ari_url,
                "detail": "ok" if ari_ok else services.stream.last_error or "connecting"},
        "database": {"reachable": db_ok, "detail": db_detail},
        "calls_in_progress": services.controller.active_calls,
        "journaled_writes": journal.pending,  # replayed when the database is back
        "journal": {"pending": journal.pending, "bytes": journal.bytes,
                    "max_bytes": journal.log.max_bytes, "dead_letters": dead_letters,
                    "data_errors": journal.data_errors, "refused_writes": journal.refused},
        "tasks": {name: s.as_json() for name, s in services.supervisor.states.items()},
        "speech_model": services.speech_model or None,
    }
    code = 503 if status == "unavailable" else 200
    if not local_or_token(request, services.metrics_token,
                          request.app[SECURITY].trusted_proxies):
        return web.json_response({"status": status}, status=code)
    return web.json_response(body, status=code)
