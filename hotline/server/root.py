"""The composition root: the one place that builds the hotline's parts and wires them."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from hotline.ari.rest import AriRest
from hotline.ari.stream import Dispatcher, EventStream
from hotline.callbacks import web as callbacks_web
from hotline.callbacks.dialer import OutboundDialer
from hotline.callbacks.service import CallbackService
from hotline.callbacks.store import CallbackStore
from hotline.calls.ari_recorder import AriRecorder
from hotline.calls.ari_telephony import AriTelephony
from hotline.calls.controller import CallController
from hotline.calls.flow import CallDeps, CallFlow
from hotline.calls.reconcile import Reconciler
from hotline.config import Settings, networks
from hotline.directory.asked import AskedNames
from hotline.directory.service import DirectoryService
from hotline.domain.retention import parse_retention
from hotline.duty import appraisal_web
from hotline.duty import web as duty_web
from hotline.duty.setup import appraisal_rules
from hotline.errors import ConfigError, SpeechModelError, StoreError
from hotline.inspection import web as inspection_web
from hotline.inspection.setup import inspection_service
from hotline.live.nodes import live_parts
from hotline.live.publishing_store import PublishingCallStore
from hotline.monitor.service import Monitors
from hotline.observability.metrics import HotlineMetrics
from hotline.ports import Clock
from hotline.prompts.library import PromptLibrary
from hotline.retention import PersonalDataService
from hotline.seats.board import SeatRoster
from hotline.seats.claims import claims_for, keep_leases
from hotline.seats.provision import SeatProvisioner
from hotline.seats.sync import SeatSync
from hotline.server.flow_settings import attendant_settings, flow_settings
from hotline.server.pbx_access import PbxAccess, resolve_pbx
from hotline.server.services import Services
from hotline.server.supervisor import Supervisor
from hotline.speech.ari_tap import AriSpeechTap
from hotline.speech.choice import build_engine, choose_engine, describe
from hotline.speech.endpointing import EndpointSettings
from hotline.speech.recognizer import StreamingRecognizer
from hotline.speech.vocabulary import Vocabularies
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.journal import JournalingCallStore
from hotline.store.operators_repo import OperatorRepository
from hotline.store.personal_data import PersonalData
from hotline.store.sessions_repo import SessionRepository
from hotline.store.users_repo import UserRepository
from hotline.tickets.reminding import keep_reminding
from hotline.tickets.setup import loop_repository, ticket_repository
from hotline.web import (
    console,
    desk,
    health,
    live,
    loop_views,
    metrics_view,
    monitor,
    review,
    softphone,
    transfer,
    unit_portal,
    users_admin,
    wallboard,
)
from hotline.web import knowledge as knowledge_web
from hotline.web.access import ConsoleSecurity, RateLimit, parse_networks
from hotline.web.auth import (
    LIMITER,
    SECURITY,
    SESSIONS,
    USERS,
    auth_middleware,
    bad_input_middleware,
    security_headers,
)
from hotline.web.console import TEMPLATES, templates
from hotline.web.desk import PHRASES, phrasebook
from hotline.web.keys import SERVICES
from hotline.web.sessions import SessionPolicy, Sessions
from hotline.web.static_files import STATIC

log = logging.getLogger("hotline")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


def build_recognizer(settings: Settings, rest: AriRest) -> StreamingRecognizer | None:
    """Whisper or Vosk on a snoop of each caller, if a model is installed or configured and
    verifies; else None, and the speech steps hand calls to an operator (said at startup)."""
    try:
        choice = choose_engine(settings)
        if choice is None:
            log.warning("no speech model (run `hotline asr install whisper-base`, or set "
                        "HOTLINE_ASR_MODEL): speech steps hand the call to an operator")
            return None
        engine = build_engine(choice, settings, os.cpu_count() or 1)
    except SpeechModelError as exc:
        log.error("speech model unusable, speech steps hand the call to an operator: %s", exc)
        return None
    log.info("speech: %s, %s", describe(engine), choice.why)
    return StreamingRecognizer(engine, AriSpeechTap(rest, settings.ari_app),
                               EndpointSettings(end_ms=settings.asr_end_ms))


def seat_provisioner(rest: AriRest, pbx: PbxAccess, settings: Settings) -> SeatProvisioner:
    return SeatProvisioner.for_ari(rest, pbx.ari_url, settings.sip_realm,
                                   settings.seat_rtp_timeout_s, (pbx.dtls_cert, pbx.dtls_key),
                                   tuple(networks(settings.operator_networks)),
                                   settings.seat_nat == "yes")


def console_security(settings: Settings) -> ConsoleSecurity:
    return ConsoleSecurity(
        sessions=SessionPolicy(idle_s=settings.session_idle_s,
                               absolute_s=settings.session_absolute_s),
        trusted_proxies=parse_networks(settings.trusted_proxies),
        tls=bool(settings.tls_cert))


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The console's HTTPS context from HOTLINE_TLS_CERT/_KEY (None: plain HTTP)."""
    if not settings.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except FileNotFoundError as exc:
        key = "HOTLINE_TLS_KEY" if exc.filename == settings.tls_key else "HOTLINE_TLS_CERT"
        raise ConfigError(key, exc.filename or settings.tls_cert, "no such file") from None
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("HOTLINE_TLS_CERT", settings.tls_cert,
                          f"cannot load the certificate and key ({exc}); both PEM, the key "
                          "matching the certificate") from None
    return context


def build_services(settings: Settings) -> tuple[Services, PromptLibrary]:
    pbx = resolve_pbx(settings)
    ari_url, user, password = pbx.ari_url, pbx.ari_user, pbx.ari_password
    db = Database(settings.effective_db_url)
    calls = CallRepository(db)
    prompts = PromptLibrary.from_settings(settings, pbx.prompts)
    rest = AriRest(ari_url, user, password)
    telephony = AriTelephony(rest, settings.ari_app)
    directory = DirectoryService(path=settings.directory_index_path)
    operators = OperatorRepository(db)
    speech = build_recognizer(settings, rest)
    vocabulary = Vocabularies()
    recorder = AriRecorder(rest, settings.ari_app)
    provisioner = seat_provisioner(rest, pbx, settings)
    seat_sync = SeatSync(operators, provisioner)
    claims = claims_for(db, settings.node, SystemClock(), settings.seat_lease_s)
    live = live_parts(settings.effective_db_url, settings.node, shared=claims is not None)
    hub = live.hub
    roster = SeatRoster(operators, claims=claims)
    metrics = HotlineMetrics()
    directory.on_lookup_ms = metrics.lookup_ms
    if speech is not None:
        speech.on_latency_ms = metrics.asr_latency_ms
        if hasattr(speech.engine, "on_wait_ms"):  # Whisper's bounded pool
            speech.engine.on_wait_ms = metrics.asr_wait_ms
    journal = JournalingCallStore(calls, settings.journal_path,
                                  max_bytes=settings.journal_max_mb * 1024 * 1024)
    journal.on_data_error = metrics.store_data_errors.inc
    journal.on_refused = metrics.journal_refused.inc
    tickets = ticket_repository(db, settings)
    flow = CallFlow(CallDeps(
        store=PublishingCallStore(journal, hub), prompts=prompts, clock=SystemClock(),
        tickets=tickets, settings=flow_settings(settings),
        attendant=attendant_settings(settings), telephony=telephony, seats=roster,
        directory=directory, recognizer=speech, requests=live.requests, vocabulary=vocabulary,
        recorder=recorder if settings.record_calls == "yes" else None))
    controller = CallController(rest, settings.ari_app, flow, telephony)

    reconciler = Reconciler(rest, calls, settings.node, settings.ari_app)

    async def on_connected() -> None:
        """After every (re)connect: the seats into Asterisk's memory, then the calls, then
        the records of what happened while this controller was away."""
        connected_at = datetime.now(UTC)
        try:
            pushed = await seat_sync.push_all()
            log.info("%d operator seats provisioned", len(pushed.pushed))
        except StoreError as exc:  # the seat-sync task pushes them once it reads them
            log.error("cannot read the operator seats: %s", exc)
        present = await controller.resync()
        if present is not None:
            await reconciler.after_connect(present, connected_at)

    dialer = OutboundDialer(telephony, settings.outbound_trunk, settings.public_number,
                            SystemClock(), seat_proxy=settings.seat_proxy
                            ) if settings.outbound_trunk else None
    callbacks = CallbackService(CallbackStore(db), SystemClock(),
                                settings.callback_window_days, dialer, roster)
    users = UserRepository(db)
    monitors = controller.monitors = Monitors(rest, settings.ari_app, users,
                                              seat_proxy=settings.seat_proxy)
    privacy = PersonalDataService(PersonalData(db), users, recorder, SystemClock(),
                                  parse_retention(settings.retention_days))
    stream = EventStream(ari_url, user, password, settings.ari_app, Dispatcher(controller),
                         on_connected=on_connected, on_disconnected=controller.disconnected)
    services = Services(db=db, calls=calls, operators=operators, directory=directory,
                        home_district=settings.home_district, rest=rest, stream=stream,
                        controller=controller,
                        ari_url=ari_url, unit_name=settings.unit_name,
                        public_number=settings.public_number,
                        speech_model=describe(speech.engine) if speech else "",
                        speech=speech, vocabulary=vocabulary,
                        tickets=tickets, users=users, privacy=privacy,
                        loop=loop_repository(db, settings),
                        retention_sweep_s=settings.retention_sweep_s,
                        sessions=SessionRepository(db), console=console_security(settings),
                        timezone=settings.timezone, recorder=recorder,
                        shutdown_timeout_s=settings.shutdown_timeout_s, pbx=pbx,
                        provisioner=provisioner, seat_sync=seat_sync, roster=roster,
                        hub=hub, requests=live.requests, bus=live.bus,
                        revocations=live.revocations,
                        metrics=metrics, metrics_token=settings.metrics_token,
                        reconciler=reconciler, journal=journal,
                        unattended_sweep_s=max(1.0, settings.unattended_sweep_s),
                        supervisor=Supervisor(SystemClock()), callbacks=callbacks,
                        monitors=monitors,
                        appraisal=appraisal_rules(settings),
                        inspection=inspection_service(db, calls, settings),
                        try_page=(settings.try_page == "yes"
                                  or (settings.try_page == "auto" and pbx.sandbox)))
    return services, prompts


async def _telephony_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the controller, the event stream and the background work with the app, each
    under the supervisor; stop them gracefully."""
    services = app[SERVICES]
    await services.db.upgrade()
    await services.directory.start(services.db, services.home_district)
    await services.knowledge.warm()
    start = services.supervisor.start
    start("directory", lambda: services.directory.keep_fresh(
        services.db, services.directory_refresh_s))
    start("vocabulary", lambda: services.vocabulary.keep_fresh(
        lambda: (services.directory.version, services.directory.vocabulary_entries()),
        _asked(services)))
    claims = services.roster.claims
    if claims is not None:  # several nodes: this one holds no seat yet; renew what it takes
        try:
            await claims.release_all()
        except StoreError as exc:
            log.warning("cannot release this node's old seat claims: %s", exc)
        start("seat-leases", lambda: keep_leases(claims, services.roster.busy))
    bus = services.bus
    if bus is not None:
        start("notify-bus", bus.run)
    start("controller", services.controller.run)
    start("ari-events", services.stream.run)
    # seats added, changed or removed on any node, into this node's Asterisk
    start("seat-sync", lambda: services.seat_sync.keep_in_step(services.stream.connected))
    start("metrics", lambda: services.metrics.watch(services.hub))
    start("journal", lambda: services.journal.keep_replaying(services.journal_replay_s))
    start("reconcile-sweep", lambda: services.reconciler.keep_sweeping(
        services.stream.connected, services.unattended_sweep_s,
        lambda: set(services.controller.legs)))
    start("reminders", lambda: keep_reminding(services.loop, SystemClock()))
    if services.privacy is not None:  # the daily retention sweep
        privacy = services.privacy
        start("retention", lambda: privacy.keep_sweeping(services.retention_sweep_s))
    yield
    await services.supervisor.stop("metrics", "vocabulary", "reconcile-sweep", "journal",
                                   "reminders", "seat-sync",
                                   *(["retention"] if services.privacy is not None else []))
    if services.callbacks is not None:  # outbound calls in progress are hung up
        await services.callbacks.stop()
    if services.monitors is not None:
        await services.monitors.close()
    await services.controller.stop(services.shutdown_timeout_s)
    await services.supervisor.stop("ari-events", "directory", "controller",
                                   *(["seat-leases"] if claims is not None else []),
                                   *(["notify-bus"] if bus is not None else []))
    if services.speech is not None:
        await services.speech.close()
    await services.rest.close()
    await services.db.close()


def _asked(services: Services) -> Callable[[], Awaitable[list[str]]]:
    """The names callers ask for most, for the recogniser's vocabulary (none while the
    database is away)."""
    names = AskedNames(services.db, services.calls)

    async def asked() -> list[str]:
        try:
            return await names.most_asked(80)
        except StoreError as exc:
            log.warning("most-asked names unavailable: %s", exc)
            return []

    return asked


def make_app(services: Services) -> web.Application:
    """The console with the telephony it serves (the controller, the event stream...)."""
    app = console_app(services)
    app.cleanup_ctx.append(_telephony_ctx)
    return app


def console_app(services: Services, clock: Clock | None = None) -> web.Application:
    """The console alone: its middlewares, sessions, templates and routes over ``services``
    (make_app adds the telephony; tests of pages may use this with only the stores, and a
    virtual ``clock``)."""
    clock = clock or SystemClock()
    app = web.Application(middlewares=[bad_input_middleware, auth_middleware],
                          client_max_size=256 * 1024)
    app.on_response_prepare.append(security_headers)
    app[SERVICES] = services
    app[SECURITY] = services.console
    app[SESSIONS] = Sessions(services.sessions, clock, services.console.sessions,
                             services.revocations)
    app[LIMITER] = RateLimit(clock)
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
    app.add_routes(monitor.routes)
    app.add_routes(metrics_view.routes)
    app.add_routes(users_admin.routes)
    app.add_routes(knowledge_web.routes)
    app.add_routes(duty_web.routes)
    app.add_routes(appraisal_web.routes)
    app.add_routes(inspection_web.routes)
    app.add_routes(loop_views.routes)
    app.add_routes(unit_portal.routes)
    app.add_routes(callbacks_web.routes)
    app.router.add_static("/static", STATIC, follow_symlinks=False)
    app[PHRASES] = phrasebook()
    return app


def serve(settings: Settings) -> int:
    services, prompts = build_services(settings)
    report = prompts.build()
    log.info("prompts: %d rendered, %d cached, %d recorded", report.rendered, report.cached,
             report.recorded)
    context = tls_context(settings)
    log.info("ARI %s; console %s://%s:%d/", services.ari_url, "https" if context else "http",
             settings.console_host, settings.console_port)
    if context is None and not ipaddress.ip_address(
            _host_address(settings.console_host)).is_loopback:
        log.warning("the console is served over plain HTTP on %s: set HOTLINE_TLS_CERT and "
                    "HOTLINE_TLS_KEY (or put a TLS proxy in front and list it in "
                    "HOTLINE_TRUSTED_PROXIES)", settings.console_host)
    app = make_app(services)
    # What is loaded by now (the dictionaries, the phrasebook, the templates, the app) lives
    # as long as the process: the collector's full passes skip it from here on (each took a
    # page ~90 ms at 100k tickets: bench/backoffice.py).
    gc.freeze()
    web.run_app(app, host=settings.console_host, port=settings.console_port,
                ssl_context=context, shutdown_timeout=settings.shutdown_timeout_s, print=None,
                handle_signals=True)
    return 0


def _host_address(host: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return "127.0.0.1" if host == "localhost" else "0.0.0.0"
