"""Build the duty service and the appraisal rules from the settings and the stores."""

from __future__ import annotations

from datetime import timedelta

from hotline.config import Settings
from hotline.domain.appraisal import AppraisalRules, parse_daily_weights
from hotline.duty.service import DutyService
from hotline.duty.store import DutyLog
from hotline.store.database import Database
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
                 users: UserRepository) -> DutyService:
    return DutyService(DutyLog(db), operators, tickets, users.audit)
