"""The composition root: the one place that builds the hotline's parts and wires them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from hotline.ari.rest import AriRest
from hotline.ari.stream import Dispatcher, EventStream
from hotline.calls.ari_recorder import AriRecorder
from hotline.calls.ari_telephony import AriTelephony
from hotline.calls.commands import CallRequests
from hotline.calls.controller import CallController
from hotline.calls.flow import CallDeps, CallFlow
from hotline.calls.reconcile import Reconciler
from hotline.config import Settings, networks
from hotline.directory.service import DirectoryService
from hotline.errors import SpeechModelError, StoreError
from hotline.live.hub import LiveHub
from hotline.live.publishing_store import PublishingCallStore
from hotline.observability.metrics import HotlineMetrics
from hotline.prompts.library import PromptLibrary
from hotline.seats.board import SeatRoster
from hotline.seats.provision import SeatProvisioner
from hotline.server.flow_settings import attendant_settings, flow_settings
from hotline.server.pbx_access import PbxAccess, resolve_pbx
from hotline.server.services import Services
from hotline.speech.ari_tap import AriSpeechTap
from hotline.speech.endpointing import EndpointSettings
from hotline.speech.engine import VoskEngine
from hotline.speech.grammar import read_grammar
from hotline.speech.recognizer import StreamingRecognizer
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.journal import JournalingCallStore
from hotline.store.operators_repo import OperatorRepository
from hotline.store.users_repo import UserRepository
from hotline.tickets.setup import ticket_repository
from hotline.web import (
    console,
    desk,
    health,
    live,
    metrics_view,
    review,
    softphone,
    transfer,
    wallboard,
)
from hotline.web.auth import (
    LIMITER,
    SESSIONS,
    USERS,
    RateLimit,
    Sessions,
    auth_middleware,
    bad_input_middleware,
)
from hotline.web.console import TEMPLATES, templates
from hotline.web.desk import PHRASES, phrasebook
from hotline.web.keys import SERVICES
from hotline.web.static_files import STATIC

log = logging.getLogger("hotline")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


def build_recognizer(settings: Settings, rest: AriRest) -> StreamingRecognizer | None:
    """Vosk on a snoop of each caller, if a model is configured and loads; else None, and
    the speech steps hand calls to an operator (said loudly at startup)."""
    if not settings.vosk_model:
        log.warning("no speech model configured (HOTLINE_VOSK_MODEL): speech steps hand the "
                    "call to an operator. `hotline asr fetch small-cn` downloads one.")
        return None
    try:
        grammar = read_grammar(settings.vosk_grammar) if settings.vosk_grammar else []
        engine = VoskEngine(settings.vosk_model, grammar=grammar,
                            threads=settings.asr_threads or 2 * (os.cpu_count() or 1))
    except SpeechModelError as exc:
        log.error("speech model unusable, speech steps hand the call to an operator: %s", exc)
        return None
    log.info("speech model %s (%d Hz, %s)", engine.info.path, engine.rate,
             f"grammar of {len(grammar)} phrases" if grammar else "open vocabulary")
    return StreamingRecognizer(engine, AriSpeechTap(rest, settings.ari_app),
                               EndpointSettings(end_ms=settings.asr_end_ms))


def seat_provisioner(rest: AriRest, pbx: PbxAccess, settings: Settings) -> SeatProvisioner:
    return SeatProvisioner.for_ari(rest, pbx.ari_url, settings.sip_realm,
                                   settings.seat_rtp_timeout_s, (pbx.dtls_cert, pbx.dtls_key),
                                   tuple(networks(settings.operator_networks)),
                                   settings.seat_nat == "yes")


def build_services(settings: Settings) -> tuple[Services, PromptLibrary]:
    pbx = resolve_pbx(settings)
    ari_url, user, password = pbx.ari_url, pbx.ari_user, pbx.ari_password
    db = Database(settings.effective_db_url)
    calls = CallRepository(db)
    prompts = PromptLibrary.from_settings(settings, pbx.prompts)
    rest = AriRest(ari_url, user, password)
    telephony = AriTelephony(rest, settings.ari_app)
    directory = DirectoryService()
    operators = OperatorRepository(db)
    speech = build_recognizer(settings, rest)
    recorder = AriRecorder(rest, settings.ari_app)
    provisioner = seat_provisioner(rest, pbx, settings)
    hub, requests, roster = LiveHub(), CallRequests(), SeatRoster(operators)
    metrics = HotlineMetrics()
    directory.on_lookup_ms = metrics.lookup_ms
    if speech is not None:
        speech.on_latency_ms = metrics.asr_latency_ms
    journal = JournalingCallStore(calls, settings.journal_path)
    tickets = ticket_repository(db, settings)
    flow = CallFlow(CallDeps(
        store=PublishingCallStore(journal, hub), prompts=prompts, clock=SystemClock(),
        tickets=tickets, settings=flow_settings(settings),
        attendant=attendant_settings(settings), telephony=telephony, seats=roster,
        directory=directory, recognizer=speech, requests=requests,
        recorder=recorder if settings.record_calls == "yes" else None))
    controller = CallController(rest, settings.ari_app, flow, telephony)

    reconciler = Reconciler(rest, calls, settings.node, settings.ari_app)

    async def on_connected() -> None:
        """After every (re)connect: the seats into Asterisk's memory, then the calls, then
        the records of what happened while this controller was away."""
        connected_at = datetime.now(UTC)
        try:
            pushed = await provisioner.push_all(await operators.all())
            log.info("%d operator seats provisioned", pushed)
        except StoreError as exc:
            log.error("cannot read the operator seats: %s", exc)
        present = await controller.resync()
        if present is not None:
            await reconciler.after_connect(present, connected_at)

    stream = EventStream(ari_url, user, password, settings.ari_app, Dispatcher(controller),
                         on_connected=on_connected, on_disconnected=controller.disconnected)
    services = Services(db=db, calls=calls, operators=operators, directory=directory,
                        home_district=settings.home_district, rest=rest, stream=stream,
                        controller=controller,
                        ari_url=ari_url, unit_name=settings.unit_name,
                        public_number=settings.public_number,
                        speech_model=settings.vosk_model, speech=speech,
                        tickets=tickets, users=UserRepository(db),
                        timezone=settings.timezone, recorder=recorder,
                        shutdown_timeout_s=settings.shutdown_timeout_s, pbx=pbx,
                        provisioner=provisioner, roster=roster, hub=hub, requests=requests,
                        metrics=metrics, metrics_token=settings.metrics_token,
                        reconciler=reconciler, journal=journal,
                        unattended_sweep_s=max(1.0, settings.unattended_sweep_s),
                        try_page=(settings.try_page == "yes"
                                  or (settings.try_page == "auto" and pbx.sandbox)))
    return services, prompts


async def _telephony_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the controller and the event stream with the app; stop them gracefully."""
    services = app[SERVICES]
    await services.db.upgrade()
    await services.directory.refresh(services.db, services.home_district)
    directory_task = asyncio.create_task(
        services.directory.keep_fresh(services.db, services.home_district), name="directory")
    controller_task = asyncio.create_task(services.controller.run(), name="controller")
    stream_task = asyncio.create_task(services.stream.run(), name="ari-events")
    metrics_task = asyncio.create_task(services.metrics.watch(services.hub), name="metrics")
    journal_task = asyncio.create_task(services.journal.keep_replaying(), name="journal")
    sweep_task = asyncio.create_task(services.reconciler.keep_sweeping(
        services.stream.connected, services.unattended_sweep_s,
        lambda: set(services.controller.legs)), name="reconcile-sweep")
    yield
    metrics_task.cancel()
    sweep_task.cancel()
    journal_task.cancel()
    await services.controller.stop(services.shutdown_timeout_s)
    stream_task.cancel()
    directory_task.cancel()
    for task in (stream_task, controller_task, directory_task, metrics_task, sweep_task,
                 journal_task):
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if services.speech is not None:
        await services.speech.close()
    await services.rest.close()
    await services.db.close()


def make_app(services: Services) -> web.Application:
    """The console with the telephony it serves (the controller, the event stream...)."""
    app = console_app(services)
    app.cleanup_ctx.append(_telephony_ctx)
    return app


def console_app(services: Services) -> web.Application:
    """The console alone: its middlewares, sessions, templates and routes over ``services``
    (make_app adds the telephony; tests of pages may use this with only the stores)."""
    app = web.Application(middlewares=[bad_input_middleware, auth_middleware],
                          client_max_size=256 * 1024)
    app[SERVICES] = services
    app[SESSIONS] = Sessions()
    app[LIMITER] = RateLimit()
    app[USERS] = services.users
    app[TEMPLATES] = templates()
    app.add_routes(health.routes)
    app.add_routes(console.routes)
    app.add_routes(review.routes)
    app.add_routes(desk.routes)
    app.add_routes(live.routes)
    app.add_routes(transfer.routes)
    app.add_routes(softphone.routes)
    app.add_routes(wallboard.routes)
    app.add_routes(metrics_view.routes)
    app.router.add_static("/static", STATIC, follow_symlinks=False)
    app[PHRASES] = phrasebook()
    return app


def serve(settings: Settings) -> int:
    services, prompts = build_services(settings)
    report = prompts.build()
    log.info("prompts: %d rendered, %d cached, %d recorded", report.rendered, report.cached,
             report.recorded)
    log.info("ARI %s; console http://%s:%d/", services.ari_url, settings.console_host,
             settings.console_port)
    web.run_app(make_app(services), host=settings.console_host, port=settings.console_port,
                shutdown_timeout=settings.shutdown_timeout_s, print=None,
                handle_signals=True)
    return 0
