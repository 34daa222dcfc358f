"""The operator seats: who they are, their A/B posts and their duty state."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from hotline.domain.duty import DutyChange
from hotline.domain.seats import (
    PHONES,
    SIP_PHONE,
    DutyState,
    Seat,
    SeatConfig,
    validate_job_number,
)
from hotline.errors import NotFoundError, StoreError
from hotline.store.database import Database
from hotline.store.models import DutyLogEntry, Operator


def to_seat(row: Operator) -> Seat:
    return Seat(job_number=row.job_number, name=row.name, duty=DutyState(row.duty),
                backup_of=row.backup_of, last_call_at=row.last_call_at)


class OperatorRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, job_number: str, name: str, sip_digest: str, *,
                  backup_of: str | None = None, contact: str = "",
                  phone: str = SIP_PHONE) -> Operator:
        try:
            validate_job_number(job_number)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        if not name.strip():
            raise StoreError("an operator needs a name (--name)")
        if phone not in PHONES:
            raise StoreError(f"--phone {phone!r}: one of {', '.join(PHONES)}")
        async with self.db.unit() as s:
            if await s.get(Operator, job_number) is not None:
                raise StoreError(f"operator {job_number} exists already")
            position = 0
            if backup_of is not None:
                a_post = await s.get(Operator, backup_of)
                if a_post is None:
                    raise StoreError(f"--backup-of {backup_of}: no such operator")
                if a_post.backup_of is not None:
                    raise StoreError(f"--backup-of {backup_of}: that seat is itself a B post "
                                     f"of {a_post.backup_of}; name an A post")
                position = 1 + (await s.scalar(select(func.count()).select_from(Operator)
                                               .where(Operator.backup_of == backup_of)) or 0)
            row = Operator(job_number=job_number, name=name.strip(), backup_of=backup_of,
                           position=position, duty=DutyState.OFF.value, sip_digest=sip_digest,
                           contact=contact, phone=phone, created_at=datetime.now(UTC))
            s.add(row)
        return row

    async def get(self, job_number: str) -> Operator:
        async with self.db.unit() as s:
            row = await s.get(Operator, job_number)
        if row is None:
            raise NotFoundError(f"no operator {job_number}")
        return row

    async def all(self) -> list[Operator]:
        async with self.db.unit() as s:
            rows = await s.scalars(select(Operator).order_by(
                func.coalesce(Operator.backup_of, Operator.job_number), Operator.position,
                Operator.job_number))
            return list(rows.all())

    async def configs(self) -> list[SeatConfig]:
        """Every seat's PJSIP configuration alone (four short columns): what each node polls
        to keep its Asterisk in step (hotline/seats/sync.py)."""
        async with self.db.unit() as s:
            rows = await s.execute(select(Operator.job_number, Operator.sip_digest,
                                          Operator.contact, Operator.phone)
                                   .order_by(Operator.job_number))
            return [SeatConfig(job, digest, contact or "", phone or SIP_PHONE)
                    for job, digest, contact, phone in rows.all()]

    async def seats(self) -> list[Seat]:
        return [to_seat(r) for r in await self.all()]

    async def set_duty(self, job_number: str, duty: DutyState, *, by: str = "",
                       at: datetime | None = None, note: str = "", guard: str = ""
                       ) -> DutyChange:
        """The new state and its entry in the duty log (值班记录), in one unit of work: no
        change of duty goes unlogged, whoever makes it (the desk, a supervisor, the CLI)."""
        at = at or datetime.now(UTC)
        async with self.db.unit() as s:
            row = await s.scalar(select(Operator).where(Operator.job_number == job_number)
                                 .with_for_update())
            if row is None:
                raise NotFoundError(f"no operator {job_number}")
            before = DutyState(row.duty)
            row.duty, row.duty_changed_at = duty.value, at
            s.add(DutyLogEntry(job_number=job_number, at=at, before=before.value,
                               after=duty.value, by=by or job_number, note=note[:200],
                               guard=guard))
        return DutyChange(job_number, at, duty, before, by or job_number, note, guard)

    async def set_backup(self, job_number: str, backup_of: str | None) -> None:
        """Pair a seat as a B post of an A post (003 AB岗), or make it an A post (None)."""
        async with self.db.unit() as s:
            row = await s.get(Operator, job_number)
            if row is None:
                raise NotFoundError(f"no operator {job_number}")
            position = 0
            if backup_of is not None:
                a_post = await s.get(Operator, backup_of)
                if a_post is None or backup_of == job_number:
                    raise StoreError(f"--backup-of {backup_of}: no such other operator")
                if a_post.backup_of is not None:
                    raise StoreError(f"--backup-of {backup_of}: that seat is itself a B post "
                                     f"of {a_post.backup_of}; name an A post")
                own = await s.scalar(select(func.count()).select_from(Operator)
                                     .where(Operator.backup_of == job_number))
                if own:
                    raise StoreError(f"operator {job_number} has {own} B post(s) of its own; "
                                     "reassign them first")
                position = 1 + (await s.scalar(select(func.count()).select_from(Operator)
                                               .where(Operator.backup_of == backup_of)) or 0)
            row.backup_of, row.position = backup_of, position

    async def set_digest(self, job_number: str, sip_digest: str) -> None:
        await self._set(job_number, sip_digest=sip_digest)

    async def set_phone(self, job_number: str, phone: str) -> None:
        """``sip`` (a SIP phone over UDP) or ``browser`` (the console's WebRTC softphone)."""
        if phone not in PHONES:
            raise StoreError(f"phone {phone!r}: one of {', '.join(PHONES)}")
        await self._set(job_number, phone=phone)

    async def _set(self, job_number: str, **values: object) -> None:
        async with self.db.unit() as s:
            result = await s.execute(update(Operator).where(
                Operator.job_number == job_number).values(**values))
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError(f"no operator {job_number}")

    async def touch(self, job_number: str, at: datetime) -> None:
        async with self.db.unit() as s:
            await s.execute(update(Operator).where(Operator.job_number == job_number)
                            .values(last_call_at=at))

    async def remove(self, job_number: str) -> None:
        async with self.db.unit() as s:
            row = await s.get(Operator, job_number)
            if row is None:
                raise NotFoundError(f"no operator {job_number}")
            backups = await s.scalar(select(func.count()).select_from(Operator)
                                     .where(Operator.backup_of == job_number))
            if backups:
                raise StoreError(f"operator {job_number} has {backups} B post(s); remove or "
                                 "reassign them first")
            await s.delete(row)
