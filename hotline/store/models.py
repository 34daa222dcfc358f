"""Typed SQLAlchemy models of the first-question records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware (UTC) datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class Call(Base):
    __tablename__ = "calls"
    # a caller's calls in order (first-contact resolution's repeat call; migration 0020)
    __table_args__ = (Index("ix_calls_caller_arrived_at", "caller", "arrived_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    node: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16), default="phone")  # phone | text
    caller: Mapped[str] = mapped_column(String(64), index=True)
    called: Mapped[str] = mapped_column(String(64))
    arrived_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    rings: Mapped[int] = mapped_column(default=0)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    disposition: Mapped[str | None] = mapped_column(String(32), index=True)
    satisfaction: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(32), default="arrived")
    category: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    caller_name: Mapped[str] = mapped_column(String(64), default="")
    caller_title: Mapped[str] = mapped_column(String(16), default="")
    callback_number: Mapped[str] = mapped_column(String(64), default="")
    owner: Mapped[str | None] = mapped_column(String(32))  # first-question owner (job number)
    recording: Mapped[str | None] = mapped_column(String(255))

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", order_by="CallEvent.id", cascade="all, delete-orphan")


class CallEvent(Base):
    """Everything that happened on a call, in order: legs, prompts, lookups, transcripts."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # set by the journal: the same event written again (a replay after a crash) is ignored
    key: Mapped[str | None] = mapped_column(String(32), unique=True)

    call: Mapped[Call] = relationship(back_populates="events")


class Operator(Base):
    """An operator seat: a PJSIP endpoint named by the job number (工号).

    Only the SIP digest (MD5 of ``job:realm:password``) is kept; the password itself is shown
    once when the seat is created or its password reset."""

    __tablename__ = "operators"

    job_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    backup_of: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)  # the order among B posts
    duty: Mapped[str] = mapped_column(String(16), default="off")
    sip_digest: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(255), default="")  # static, for desk phones
    phone: Mapped[str] = mapped_column(String(16), default="sip")  # sip | browser (WebRTC)
    created_at: Mapped[datetime]
    duty_changed_at: Mapped[datetime | None]
    last_call_at: Mapped[datetime | None]


class SeatClaim(Base):
    """Which node holds a seat for a call (hotline/seats/claims.py): taken by a conditional
    update, so two nodes never ring or bridge one seat at once; a claim whose lease lapsed
    (its node died) is free to take."""

    __tablename__ = "seat_claims"

    job_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]


class DirectoryEntry(Base):
    """One organisation of the enterprise directory (imported from CSV)."""

    __tablename__ = "directory_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[str] = mapped_column(Text, default="")  # '|'-separated
    industry: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    transfer_to: Mapped[str] = mapped_column(String(200), default="")
    hot: Mapped[bool] = mapped_column(default=False)  # most asked: the recogniser hears it


class DirectoryImport(Base):
    """Each import; the running hotline reloads its index when a new one appears."""

    __tablename__ = "directory_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int]
    replaced: Mapped[bool]


class DirectoryChange(Base):
    """One entry added, edited or removed by hand (not by an import): the running hotline
    lays it over its saved index at once and folds it in at the next rebuild."""

    __tablename__ = "directory_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    entry_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # add, edit, remove
    by: Mapped[str] = mapped_column(String(64), default="")


class Ticket(Base):
    """A callback ticket raised from a call record: callback, complaint, message, referral.

    ``owner`` is the first-question owner (首问责任人), who stays accountable when the matter
    is assigned or referred to a department; ``assignee`` is who works on it now."""

    __tablename__ = "tickets"
    # a unit's tickets by stage in due order (the unit's dashboard; migration 0020)
    __table_args__ = (Index("ix_tickets_unit_stage_due", "unit", "stage", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    summary: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(32), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    department: Mapped[str] = mapped_column(String(200), default="")  # referral target
    caller_name: Mapped[str] = mapped_column(String(64), default="")
    callback_number: Mapped[str] = mapped_column(String(64), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)  # complaint form, message text
    created_at: Mapped[datetime] = mapped_column(index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    replied_at: Mapped[datetime | None]
    reply: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[int | None]
    extensions: Mapped[int] = mapped_column(default=0)
    # the loop with the handling units (hotline/domain/loop, hotline/store/loop_repo.py)
    stage: Mapped[str] = mapped_column(String(16), index=True, default="")
    unit: Mapped[str] = mapped_column(String(200), index=True, default="")  # 主办单位
    assisting: Mapped[list[str]] = mapped_column(JSON, default=list)  # 协办单位
    matter: Mapped[str] = mapped_column(String(16), default="")  # 诉求类型
    urgency: Mapped[str] = mapped_column(String(16), default="")
    loop_round: Mapped[int] = mapped_column(default=0)  # dispatches and 重办 so far
    sign_due_at: Mapped[datetime | None]
    follow_up_due_at: Mapped[datetime | None] = mapped_column(index=True)
    merged_into: Mapped[int | None] = mapped_column(index=True)
    extension_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan")


class TicketEvent(Base):
    """Every transition of a ticket: who, when, from, to, and why."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    by: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # created, moved, extended, follow_up
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class User(Base):
    """A console user: an operator (by job number), a supervisor or an admin."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the login (job number)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)
    unit: Mapped[str | None] = mapped_column(String(200))  # a unit user's handling unit


class AuditEntry(Base):
    """Who looked at or changed what, append-only (no console route edits it)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ConsoleSession(Base):
    """A console login. Only the SHA-256 of the cookie's token is kept: a copy of the
    database does not let anyone in. Expired when idle for the idle timeout or older than
    the absolute one (hotline/web/sessions.py); a user's rows go when they are revoked."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime] = mapped_column(index=True)


class DutyLogEntry(Base):
    """值班记录: every change of an operator's duty state, with who made it and when
    (hotline/duty). ``guard`` is "confirmed" when an A post was left with nobody on duty."""

    __tablename__ = "duty_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_number: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    before: Mapped[str] = mapped_column(String(16))
    after: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200), default="")
    guard: Mapped[str] = mapped_column(String(16), default="")


class Handover(Base):
    """交接班记录: what an operator hands over at the end of a shift (the open tickets,
    messages, callbacks and follow-ups due, as they were), and who took it over when."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    by: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    to: Mapped[str] = mapped_column(String(16), default="")  # the next operator, if named
    items: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    acknowledged_by: Mapped[str | None] = mapped_column(String(16))
    acknowledged_at: Mapped[datetime | None]
    ack_note: Mapped[str] = mapped_column(Text, default="")


class Inspection(Base):
    """A quality inspection (质检) of a recorded call: who scored whose call when, against
    which checklist, each item's result (with what the system pre-filled), the forbidden
    phrases found, and the rectification (整改) asked for and its follow-through. Together the
    rows are the inspection ledger (巡查记录, 003). One per call; scoring it again replaces
    it (each save is in the audit log)."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"),
                                         unique=True)
    call_at: Mapped[datetime] = mapped_column(index=True)  # the call's arrival: its month
    operator: Mapped[str] = mapped_column(String(32), index=True)
    inspector: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    checklist: Mapped[str] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(Float)
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)  # item id -> result, note...
    findings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"forbidden": [...]}
    remarks: Mapped[str] = mapped_column(Text, default="")
    rectification: Mapped[str] = mapped_column(Text, default="")  # 整改要求
    rectified_at: Mapped[datetime | None]
    rectified_by: Mapped[str | None] = mapped_column(String(32))
    follow_up: Mapped[str] = mapped_column(Text, default="")  # 整改落实情况


class CallbackAttempt(Base):
    """One outbound call an operator made (hotline/callbacks): to call back a missed call
    (``missed_call_id``, the entry's first missed call) or a ticket's person (``ticket_id``)."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), index=True)
    missed_call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    by: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    talk_s: Mapped[int | None]
