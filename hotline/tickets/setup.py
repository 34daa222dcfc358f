"""Build the work calendar, deadlines and ticket repository from the settings."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from hotline.config import Settings
from hotline.domain.loop.limits import (
    FOLLOW_UP_SHARE,
    REPLY_DAYS,
    Limits,
    parse_by_matter,
    parse_urgent,
)
from hotline.domain.tickets import TicketKind
from hotline.domain.workdays import WorkCalendar, parse_dates
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.store.tickets_repo import TicketRepository


def work_calendar(settings: Settings) -> WorkCalendar:
    hh, mm = settings.close_of_business.split(":")
    return WorkCalendar(
        ZoneInfo(settings.timezone), time(int(hh), int(mm)),
        parse_dates(settings.local_days_off.split(","), "HOTLINE_LOCAL_DAYS_OFF"),
        parse_dates(settings.local_workdays.split(","), "HOTLINE_LOCAL_WORKDAYS"))


def deadline_days(settings: Settings) -> dict[TicketKind, int]:
    return {TicketKind.COMPLAINT: settings.complaint_days,
            TicketKind.CALLBACK: settings.callback_days,
            TicketKind.MESSAGE: settings.message_days,
            TicketKind.REFERRAL: settings.referral_days}


def loop_limits(settings: Settings) -> Limits:
    return Limits(
        work_calendar(settings),
        parse_urgent(settings.urgent_sign_minutes, "HOTLINE_URGENT_SIGN_MINUTES"),
        reply_days={**REPLY_DAYS, **parse_by_matter(settings.unit_reply_days,
                                                    "HOTLINE_UNIT_REPLY_DAYS", 0, 60)},
        follow_up_share={**FOLLOW_UP_SHARE, **parse_by_matter(
            settings.follow_up_share, "HOTLINE_FOLLOW_UP_SHARE", 0, 100)})


def loop_repository(db: Database, settings: Settings) -> LoopRepository:
    return LoopRepository(db, loop_limits(settings))


def ticket_repository(db: Database, settings: Settings) -> TicketRepository:
    return TicketRepository(db, work_calendar(settings), deadline_days(settings))
