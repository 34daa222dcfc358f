"""The inspection service as the composition root builds it from the settings."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.config import Settings
from hotline.inspection.checklist import load_checklist
from hotline.inspection.repo import InspectionRepository
from hotline.inspection.service import InspectionService, InspectionSettings
from hotline.paths import project_dir
from hotline.phrasebook.model import load_phrasebook
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database


def inspection_service(db: Database, calls: CallRepository, settings: Settings
                       ) -> InspectionService:
    """ChecklistError (line and field) for a HOTLINE_INSPECTION_CHECKLIST that is not a
    valid checklist: the hotline does not start with one it cannot score by."""
    checklist = load_checklist(Path(settings.inspection_checklist)
                               if settings.inspection_checklist else None)
    return InspectionService(
        InspectionRepository(db), calls, checklist,
        load_phrasebook(project_dir("scripts") / "phrasebook.yaml"),
        InspectionSettings(per_operator=settings.inspection_sample,
                           low_rating=settings.inspection_low_rating,
                           attendant_post=settings.attendant_job_number,
                           unit_name=settings.unit_name),
        ZoneInfo(settings.timezone))
