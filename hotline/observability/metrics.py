"""Prometheus metrics at GET /metrics.

Call figures come from the live hub (what the flow writes to the records, as it writes it),
so the flow knows nothing of metrics; recogniser and lookup latencies are observed where they
are measured; ticket and connection gauges are read at each scrape. One registry per app
(not the process-global one), so tests and several apps in one process do not collide.
"""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hotline.live.hub import Happening, LiveHub

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HotlineMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.arrived = Counter("hotline_calls_arrived", "Calls that reached the hotline",
                               registry=r)
        self.ended = Counter("hotline_calls_ended", "Calls ended, by disposition",
                             ["disposition"], registry=r)
        self.answer = Histogram(
            "hotline_answer_seconds", "From arrival to answer (three rings: 11 s)",
            buckets=(0.5, 1, 2, 3, 5, 6, 8, 11, 15, 20, 30), registry=r)
        self.rings = Histogram("hotline_rings", "Rings the caller heard before the answer",
                               buckets=(0, 1, 2, 3, 4, 5, 6, 8), registry=r)
        self.asr = Histogram(
            "hotline_asr_final_seconds", "From the end of the caller's voice to the final text",
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5), registry=r)
        self.asr_wait = Histogram(
            "hotline_asr_queue_wait_seconds", "How long an ended utterance waited for a free "
            "recogniser worker (Whisper's bounded pool)",
            buckets=(0.001, 0.01, 0.1, 0.3, 0.5, 1, 2, 5), registry=r)
        self.lookup = Histogram(
            "hotline_lookup_seconds", "Directory lookups",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5), registry=r)
        self.in_progress = Gauge("hotline_calls_in_progress", "Calls in the controller",
                                 registry=r)
        self.tickets_open = Gauge("hotline_tickets_open", "Tickets not closed", registry=r)
        self.tickets_overdue = Gauge("hotline_tickets_overdue", "Open tickets past due",
                                     registry=r)
        self.ari_connected = Gauge("hotline_ari_connected", "1 while the ARI events flow",
                                   registry=r)
        self.ari_reconnects = Gauge("hotline_ari_reconnects",
                                    "ARI reconnections since start", registry=r)
        self.unknown_events = Gauge("hotline_ari_unknown_events",
                                    "ARI events the controller did not understand", registry=r)
        self.speech_streams = Gauge("hotline_asr_streams", "Recognition streams open",
                                    registry=r)
        self.journal_pending = Gauge("hotline_journal_pending",
                                     "Record writes waiting for the database", registry=r)
        self.journal_bytes = Gauge("hotline_journal_bytes",
                                   "Size of the journal of writes waiting for the database",
                                   registry=r)
        self.journal_max_bytes = Gauge("hotline_journal_max_bytes",
                                       "The journal's bound (HOTLINE_JOURNAL_MAX_MB)",
                                       registry=r)
        self.journal_refused = Counter(
            "hotline_journal_refused_writes",
            "Record writes lost because the journal was at its bound", registry=r)
        self.journal_dead_letters = Gauge(
            "hotline_journal_dead_letters",
            "Writes the database refused, kept for `hotline journal list`", registry=r)
        self.store_data_errors = Counter(
            "hotline_store_data_errors",
            "Record writes the database refused for what they hold (a bug)", registry=r)
        self.tasks_down = Gauge("hotline_tasks_down",
                                "Background tasks down, waiting to be restarted", registry=r)
        self.task_restarts = Gauge("hotline_task_restarts",
                                   "Restarts of a background task since start", ["task"],
                                   registry=r)
        self._arrived_at: dict[int, datetime] = {}

    def on_happening(self, h: Happening) -> None:
        d = h.data
        if h.kind == "arrived":
            self.arrived.inc()
            self._arrived_at[h.call_id] = datetime.fromisoformat(d["arrived_at"])
            return
        if h.kind != "update":
            return
        arrived = self._arrived_at.get(h.call_id)
        if d.get("answered_at") and arrived is not None:
            answered = datetime.fromisoformat(d["answered_at"])
            self.answer.observe(max(0.0, (answered - arrived).total_seconds()))
        if isinstance(d.get("rings"), int):
            self.rings.observe(d["rings"])
        if d.get("ended_at") and d.get("disposition"):
            self.ended.labels(str(d["disposition"])).inc()
            self._arrived_at.pop(h.call_id, None)

    def asr_latency_ms(self, ms: float) -> None:
        self.asr.observe(ms / 1000)

    def asr_wait_ms(self, ms: float) -> None:
        self.asr_wait.observe(ms / 1000)

    def lookup_ms(self, ms: float) -> None:
        self.lookup.observe(ms / 1000)

    async def watch(self, hub: LiveHub) -> None:
        async with hub.subscribe() as feed:
            while True:
                happening = await feed.get()
                if happening.origin:  # another node's call: that node counts it
                    continue
                try:
                    self.on_happening(happening)
                except (KeyError, ValueError, TypeError) as exc:  # a metric, never a crash
                    log.warning("metrics: %s on %s", exc, happening.kind)

    def render(self) -> bytes:
        return generate_latest(self.registry)
