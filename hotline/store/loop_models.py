"""The tables of the loop with the handling units: the units, the dispatch catalogue, the
reminders (催办) and the follow-up visits (回访, the source of the per-unit and per-operator
satisfaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.models import Base


class HandlingUnit(Base):
    """A 承办单位 tickets are dispatched to."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    parent: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class CatalogueRule(Base):
    """One row of the dispatch catalogue (派单目录), in file order."""

    __tablename__ = "catalogue_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(64))
    keywords: Mapped[str] = mapped_column(Text)  # |-separated
    unit: Mapped[str] = mapped_column(String(200))


class Reminder(Base):
    """催办: one per overdue step (``sign:R`` or ``reply:R``) of a ticket."""

    __tablename__ = "ticket_reminders"
    __table_args__ = (UniqueConstraint("ticket_id", "step"),  # newest first, of a unit or
                      Index("ix_ticket_reminders_unit_at", "unit", "at"),  # an owner (0020)
                      Index("ix_ticket_reminders_owner_at", "owner", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    step: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(200), index=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    due_at: Mapped[datetime]  # the limit that was missed
    at: Mapped[datetime] = mapped_column(index=True)
    by: Mapped[str] = mapped_column(String(64))


class FollowUp(Base):
    """A follow-up visit (回访): who made it, how, whether the caller was reached, the grade
    and its satisfaction (5 非常满意 … 1 非常不满意), the caller's opinion, and the unit
    judged."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    by: Mapped[str] = mapped_column(String(32), index=True)  # the operator who called
    owner: Mapped[str] = mapped_column(String(32), index=True)  # the ticket's 首问 owner
    unit: Mapped[str] = mapped_column(String(200), index=True)
    method: Mapped[str] = mapped_column(String(8))  # 电话 | 走访 | 短信
    reached: Mapped[bool]
    grade: Mapped[str] = mapped_column(String(8), default="")
    satisfaction: Mapped[int | None]
    opinion: Mapped[str] = mapped_column(Text, default="")
