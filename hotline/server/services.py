"""The running hotline's parts, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.ari.rest import AriRest
from hotline.ari.stream import EventStream
from hotline.callbacks.service import CallbackService
from hotline.calls.ari_recorder import AriRecorder
from hotline.calls.commands import CallRequests
from hotline.calls.controller import CallController
from hotline.calls.reconcile import Reconciler
from hotline.directory.service import DirectoryService
from hotline.domain.appraisal import AppraisalRules
from hotline.inspection.service import InspectionService
from hotline.knowledge.service import KnowledgeService
from hotline.knowledge.store import KnowledgeStore
from hotline.live.hub import LiveHub
from hotline.live.notify import NotifyBus
from hotline.monitor.service import Monitors
from hotline.observability.metrics import HotlineMetrics
from hotline.retention import PersonalDataService
from hotline.seats.board import SeatRoster
from hotline.seats.provision import SeatProvisioner
from hotline.seats.sync import SeatSync
from hotline.server.pbx_access import PbxAccess
from hotline.server.supervisor import Supervisor
from hotline.speech.recognizer import StreamingRecognizer
from hotline.speech.vocabulary import Vocabularies
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.journal import JournalingCallStore
from hotline.store.loop_repo import LoopRepository
from hotline.store.operators_repo import OperatorRepository
from hotline.store.sessions_repo import SessionRepository
from hotline.store.tickets_repo import TicketRepository
from hotline.store.users_repo import UserRepository
from hotline.web.access import ConsoleSecurity
from hotline.web.sessions import Revocations


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
    loop: LoopRepository  # the tickets' loop with the handling units
    users: UserRepository
    sessions: SessionRepository  # the console's, shared by every node on the database
    timezone: str
    recorder: AriRecorder
    pbx: PbxAccess
    provisioner: SeatProvisioner
    seat_sync: SeatSync  # this node's Asterisk kept in step with the seats in the database
    roster: SeatRoster  # who is talking (the wallboard: every node's, with claims)
    hub: LiveHub  # what happens on this node's calls (the desk, the wallboard)
    requests: CallRequests  # the console's requests to the calls, wherever they run
    try_page: bool  # /try: dial the hotline from the browser (sandbox and demo)
    metrics: HotlineMetrics
    reconciler: Reconciler
    journal: JournalingCallStore  # the flow's record writes while the database is away
    unattended_sweep_s: float
    metrics_token: str  # /metrics from anywhere but loopback needs it as a bearer token
    supervisor: Supervisor  # the long-lived tasks, restarted when they fail (/healthz)
    inspection: InspectionService  # quality inspection (质检) and its ledger
    speech: StreamingRecognizer | None = None  # None: no usable model, speech goes to seats
    vocabulary: Vocabularies = field(default_factory=Vocabularies)  # the recogniser's bias
    directory_refresh_s: float = 0.5  # how often directory changes and imports are looked for
    journal_replay_s: float = 2.0  # how often the journal is replayed while it holds writes
    attendant_post: str = "9000"  # the attendant's job number: the tickets it raises wait here
    console: ConsoleSecurity = field(default_factory=ConsoleSecurity)
    privacy: PersonalDataService | None = None  # the retention sweep (None: not run here)
    retention_sweep_s: float = 86400.0
    monitors: Monitors | None = None  # the supervisors' listen/whisper/barge sessions
    appraisal: AppraisalRules = field(default_factory=AppraisalRules)  # 004 篇5 weights
    callbacks: CallbackService | None = None  # the missed-call list, the outbound calls
    bus: NotifyBus | None = None  # LISTEN/NOTIFY between nodes (None: one node)
    revocations: Revocations | None = None  # sessions ended here, told to the other nodes
    knowledge: KnowledgeService = field(init=False)  # 一次性告知: the desk's knowledge base

    def __post_init__(self) -> None:
        self.knowledge = KnowledgeService(KnowledgeStore(self.db), self.calls)
