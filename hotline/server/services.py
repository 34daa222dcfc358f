"""The running hotline's parts, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.ari.rest import AriRest
from hotline.ari.stream import EventStream
from hotline.calls.ari_recorder import AriRecorder
from hotline.calls.commands import CallRequests
from hotline.calls.controller import CallController
from hotline.calls.reconcile import Reconciler
from hotline.directory.service import DirectoryService
from hotline.live.hub import LiveHub
from hotline.observability.metrics import HotlineMetrics
from hotline.retention import PersonalDataService
from hotline.seats.board import SeatRoster
from hotline.seats.provision import SeatProvisioner
from hotline.server.pbx_access import PbxAccess
from hotline.speech.recognizer import StreamingRecognizer
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.journal import JournalingCallStore
from hotline.store.operators_repo import OperatorRepository
from hotline.store.tickets_repo import TicketRepository
from hotline.store.users_repo import UserRepository


@dataclass
class Services:
    db: Database
    calls: CallRepository
    operators: OperatorRepository
    directory: DirectoryService
    home_district: str
    rest: AriRest
    stream: EventStream
    controller: CallController
    ari_url: str
    unit_name: str
    public_number: str
    speech_model: str
    shutdown_timeout_s: float
    tickets: TicketRepository
    users: UserRepository
    timezone: str
    recorder: AriRecorder
    pbx: PbxAccess
    provisioner: SeatProvisioner
    roster: SeatRoster  # who is talking on this node (the wallboard)
    hub: LiveHub  # what happens on this node's calls (the desk, the wallboard)
    requests: CallRequests  # the console's requests to this node's calls (warm transfer)
    try_page: bool  # /try: dial the hotline from the browser (sandbox and demo)
    metrics: HotlineMetrics
    reconciler: Reconciler
    journal: JournalingCallStore  # the flow's record writes while the database is away
    unattended_sweep_s: float
    metrics_token: str  # /metrics from anywhere but loopback needs it as a bearer token
    speech: StreamingRecognizer | None = None  # None: no usable model, speech goes to seats
    privacy: PersonalDataService | None = None  # the retention sweep (None: not run here)
    retention_sweep_s: float = 86400.0
