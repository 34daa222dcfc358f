"""Build the duty service and the appraisal rules from the settings and the stores."""

from __future__ import annotations

from datetime import timedelta

from hotline.callbacks.service import CallbackService
from hotline.config import Settings
from hotline.domain.appraisal import AppraisalRules, parse_daily_weights
from hotline.duty.service import DutyService
from hotline.duty.store import DutyLog
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.store.operators_repo import OperatorRepository
from hotline.store.tickets_repo import TicketRepository
from hotline.store.users_repo import UserRepository


def appraisal_rules(settings: Settings) -> AppraisalRules:
    return AppraisalRules(
        satisfaction_weight=settings.appraisal_satisfaction_weight,
        daily=parse_daily_weights(settings.appraisal_daily_weights),
        handle_target_s=settings.appraisal_handle_target_s,
        duty_hours_target=settings.appraisal_duty_hours,
        complaint_points=settings.appraisal_complaint_points,
        phrase_points=settings.appraisal_phrase_points,
        fcr_window=timedelta(hours=settings.first_contact_window_h))


def duty_service(db: Database, operators: OperatorRepository, tickets: TicketRepository,
                 loop: LoopRepository, users: UserRepository,
                 callbacks: CallbackService | None = None) -> DutyService:
    return DutyService(DutyLog(db), operators, tickets, loop, users.audit, callbacks)


def settings_duty_service(db: Database, operators: OperatorRepository,
                          settings: Settings) -> DutyService:
    """The duty service of the shell: its stores from the settings, and the missed-call
    list of the configured window for the handover."""
    from hotline.callbacks.store import CallbackStore
    from hotline.server.root import SystemClock
    from hotline.tickets.setup import loop_repository, ticket_repository

    callbacks = CallbackService(CallbackStore(db), SystemClock(),
                                settings.callback_window_days)
    return duty_service(db, operators, ticket_repository(db, settings),
                        loop_repository(db, settings), UserRepository(db), callbacks)
