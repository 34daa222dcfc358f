"""GET /metrics for Prometheus: open to scrapers on this machine (loopback, the client's
address through a trusted proxy); from anywhere else only with
``Authorization: Bearer $HOTLINE_METRICS_TOKEN``. Aggregates only: no
caller's number or name is ever a label."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from hotline.errors import StoreError
from hotline.observability.metrics import CONTENT_TYPE
from hotline.web.access import local_or_token
from hotline.web.auth import SECURITY
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if not local_or_token(request, services.metrics_token,
                          request.app[SECURITY].trusted_proxies):
        raise web.HTTPForbidden(text="metrics: loopback, or the bearer token")
    m = services.metrics
    m.in_progress.set(services.controller.active_calls)
    m.ari_connected.set(1 if services.stream.connected.is_set() else 0)
    m.ari_reconnects.set(services.stream.reconnects)
    m.unknown_events.set(services.controller.unknown_events)
    journal = services.journal
    m.journal_pending.set(journal.pending)
    m.journal_bytes.set(journal.bytes)
    m.journal_max_bytes.set(journal.log.max_bytes)
    m.journal_dead_letters.set(await asyncio.to_thread(journal.dead.count))
    m.tasks_down.set(len(services.supervisor.down))
    for name, state in services.supervisor.states.items():
        m.task_restarts.labels(name).set(state.restarts)
    m.speech_streams.set(services.speech.streams if services.speech is not None else 0)
    try:
        open_, overdue = await services.tickets.counts(datetime.now(UTC))
        m.tickets_open.set(open_)
        m.tickets_overdue.set(overdue)
    except StoreError:  # the rest is still worth scraping
        pass
    return web.Response(body=m.render(), headers={"Content-Type": CONTENT_TYPE})
