"""Callers' personal data over time and on request: the daily retention sweep (recordings,
transcripts and caller details of records closed longer ago than HOTLINE_RETENTION_DAYS),
and a person's request to see (export) or remove (erase) what the hotline holds about them.
Every run and every request is written to the audit log."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from hotline.domain.calls import caller_number
from hotline.domain.retention import Retention
from hotline.errors import HotlineError, StoreError, TelephonyError
from hotline.ports import Clock
from hotline.privacy import mask_number
from hotline.store.personal_data import PersonalData, Scope, closed_before, of_caller

log = logging.getLogger(__name__)


class RecordingStore(Protocol):
    """Where the recordings' audio is kept (Asterisk's spool, over ARI)."""

    async def delete(self, name: str) -> None: ...


class Audit(Protocol):
    async def audit(self, actor: str, action: str, target: str = "",
                    detail: dict[str, Any] | None = None) -> None: ...


class PrivacyError(HotlineError):
    """A person's request that cannot be answered as asked (an anonymous number)."""


class PersonalDataService:
    def __init__(self, data: PersonalData, audit: Audit, recordings: RecordingStore | None,
                 clock: Clock, retention: Retention) -> None:
        self.data = data
        self.audit_log = audit
        self.recordings = recordings
        self.clock = clock
        self.retention = retention

    async def _delete_recordings(self, scope: Scope, why: str) -> tuple[int, int]:
        """Delete the audio, then forget the name: (deleted, left for the next run). A
        recording whose audio cannot be deleted (no PBX reachable) stays named."""
        deleted = failed = 0
        seen: set[tuple[str, int]] = set()
        while batch := [r for r in await self.data.recordings(scope)
                        if (r.kind, r.id) not in seen]:
            for rec in batch:
                seen.add((rec.kind, rec.id))
                if self.recordings is None:
                    failed += 1
                    continue
                try:
                    await self.recordings.delete(rec.name)
                except TelephonyError as exc:
                    log.warning("recording %s not deleted: %s", rec.name, exc)
                    failed += 1
                    continue
                await self.data.forget_recording(rec, self.clock.now(), why)
                deleted += 1
        return deleted, failed

    async def sweep(self, actor: str = "system") -> dict[str, Any]:
        """One retention run: what it removed, also written to the audit log."""
        now = self.clock.now()
        cut = self.retention.cutoffs(now)
        deleted, failed = await self._delete_recordings(closed_before(cut.recordings),
                                                        "retention")
        transcripts = await self.data.drop_transcripts(closed_before(cut.transcripts))
        calls, tickets = await self.data.anonymise(closed_before(cut.callers), now, "retention")
        report = {"recordings_deleted": deleted, "recordings_left": failed,
                  "transcripts_deleted": transcripts, "calls_anonymised": calls,
                  "tickets_anonymised": tickets,
                  "days": {"recordings": self.retention.recordings,
                           "transcripts": self.retention.transcripts,
                           "callers": self.retention.callers}}
        await self.audit_log.audit(actor, "retention_sweep", now.date().isoformat(), report)
        return report

    async def keep_sweeping(self, every_s: float) -> None:
        """The daily job of `hotline serve`: a sweep now and then every ``every_s``; a run
        the database fails is logged and tried again at the next."""
        while True:
            try:
                report = await self.sweep()
                log.info("retention sweep: %s", report)
            except StoreError as exc:
                log.error("retention sweep failed, tried again in %.0f s: %s", every_s, exc)
            await asyncio.sleep(every_s)

    def _scope(self, number: str) -> tuple[Scope, str]:
        """The caller's records, and the number as the audit log names it (masked)."""
        scope, normal = of_caller(number), caller_number(number)
        if scope is None or normal is None:
            raise PrivacyError(f"--caller {mask_number(number)!r}: not a caller's number "
                               "(digits, optionally +, 3 to 32): an anonymous call cannot "
                               "be told apart from anyone else's")
        return scope, mask_number(normal)

    async def export(self, number: str, by: str) -> dict[str, Any]:
        """What the hotline holds about the caller of ``number``, audited."""
        scope, target = self._scope(number)
        found = await self.data.export(scope)
        await self.audit_log.audit(by, "privacy_export", target, {
            "calls": len(found["calls"]), "tickets": len(found["tickets"])})
        return {"caller": number, "exported_at": self.clock.now().isoformat(), **found}

    async def erase(self, number: str, by: str) -> dict[str, Any]:
        """Remove the caller's data from every record of theirs (recordings deleted,
        transcripts deleted, details blanked), audited; the matter and figures stay."""
        scope, target = self._scope(number)
        deleted, failed = await self._delete_recordings(scope, "erasure")
        transcripts = await self.data.drop_transcripts(scope)
        # a recording left (no PBX reachable) keeps the number on its record, so that
        # the erasure can be run again and find it
        calls, tickets = await self.data.anonymise(scope, self.clock.now(), "erasure") \
            if not failed else (0, 0)
        report = {"complete": not failed, "recordings_deleted": deleted, "recordings_left": failed,
                  "transcripts_deleted": transcripts, "calls_anonymised": calls,
                  "tickets_anonymised": tickets}
        await self.audit_log.audit(by, "privacy_erase", target, report)
        return report
