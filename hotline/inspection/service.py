"""Quality inspection as the console uses it: the month's proposed sample, one call's review
(both sides' transcript placed in the recording, the pre-filled checklist, the forbidden
phrases found), saving the scorecard, and the rectification's follow-through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.errors import HotlineError
from hotline.inspection.checklist import Checklist, Result
from hotline.inspection.precheck import Hit, Prefill, Segment, precheck, segments
from hotline.inspection.repo import InspectionRepository, Scorecard
from hotline.inspection.sampling import Proposal, propose
from hotline.knowledge.service import TOLD
from hotline.phrasebook.model import Phrasebook
from hotline.reports.ledger import month_bounds
from hotline.store.calls_repo import CallRepository
from hotline.store.models import Call, Inspection

NOTE_MAX, TEXT_MAX = 200, 2000


class InspectionInputError(HotlineError):
    """A scorecard that cannot be saved: which item or field, and why."""


@dataclass(frozen=True)
class InspectionSettings:
    per_operator: int = 3  # random calls per operator per month (HOTLINE_INSPECTION_SAMPLE)
    low_rating: int = 2  # a rating at or below this is sampled (HOTLINE_INSPECTION_LOW_RATING)
    attendant_post: str = "9000"  # the attendant's calls are not an operator's to inspect
    unit_name: str = "12345便民服务热线"


@dataclass(frozen=True)
class Review:
    call: Call
    operator: str
    segments: list[Segment]
    prefill: dict[str, Prefill]
    hits: list[Hit]
    record: Inspection | None


class InspectionService:
    def __init__(self, repo: InspectionRepository, calls: CallRepository, checklist: Checklist,
                 phrasebook: Phrasebook, settings: InspectionSettings, zone: ZoneInfo) -> None:
        self.repo, self.calls, self.checklist = repo, calls, checklist
        self.phrasebook, self.settings, self.zone = phrasebook, settings, zone

    async def sample(self, month: str, seed: str = "") -> tuple[list[Proposal],
                                                                  dict[int, Inspection]]:
        """The month's proposed calls (seeded by ``seed``, default the month) and those of
        them already inspected."""
        start, end = month_bounds(month, self.zone)
        found = await self.repo.candidates(start, end, {self.settings.attendant_post})
        proposals = propose(found, self.settings.per_operator, seed or month,
                            self.settings.low_rating)
        return proposals, await self.repo.of_calls([p.call_id for p in proposals])

    async def review(self, call_id: int) -> Review:
        """NotFoundError for no such call."""
        call = await self.calls.get(call_id)
        operator = call.answered_by or call.owner or ""
        segs = segments([(e.at, e.data) for e in call.events if e.kind == "transcript"],
                        call.answered_at)
        said = [str(e.data.get("phrase")) for e in call.events if e.kind == "said"]
        openings = [self.phrasebook[p].fill(unit=self.settings.unit_name, job_number=operator)
                    for p in ("opening", "opening_after_wait")]
        told = [str(i.get("title", "")) for e in call.events if e.kind == TOLD
                for i in e.data.get("items", []) if isinstance(i, dict)]
        prefill, hits = precheck(self.checklist, segs, said, operator, openings,
                                 call.satisfaction is not None, told)
        return Review(call, operator, segs, prefill, hits, await self.repo.of_call(call_id))

    async def save(self, call_id: int, inspector: str, given: dict[str, str],
                   notes: dict[str, str], remarks: str, rectification: str, now: datetime
                   ) -> tuple[int, float]:
        """Score the call as the inspector judged each item (pass / fail / na): (the
        record's id, the score). InspectionInputError naming the item or field."""
        review = await self.review(call_id)
        if not review.operator:
            raise InspectionInputError("this call was not answered: nobody to inspect")
        results: dict[str, Result] = {}
        for item in self.checklist.items:
            raw = given.get(item.id, "")
            try:
                results[item.id] = Result(raw)
            except ValueError:
                raise InspectionInputError(
                    f"{item.id} ({item.title}): choose pass (合格), fail (不合格)"
                    + (" or na (不适用)" if item.optional else "") + f", not {raw!r}") from None
        try:
            score = self.checklist.score(results)
        except ValueError as exc:
            raise InspectionInputError(str(exc)) from None
        rectification = rectification.strip()[:TEXT_MAX]
        if score < self.checklist.pass_score and not rectification:
            raise InspectionInputError(
                f"rectification: {score:g} is below the pass mark "
                f"{self.checklist.pass_score:g}; say what is to be rectified (整改要求)")
        record = {i.id: {"title": i.title, "weight": i.weight, "result": results[i.id].value,
                         "prefill": (p.result.value if (p := review.prefill.get(i.id))
                                     and p.result else None),
                         "evidence": p.evidence if p else "",
                         "note": notes.get(i.id, "").strip()[:NOTE_MAX]}
                  for i in self.checklist.items}
        findings = {"forbidden": [{"phrase": h.phrase, "text": h.text, "offset_s": h.offset_s,
                                   "situation": h.situation, "instead": h.instead}
                                  for h in review.hits]}
        card = Scorecard(call_id, review.operator, inspector, now, self.checklist.name, score,
                         record, findings, remarks.strip()[:TEXT_MAX], rectification)
        return await self.repo.save(card), score

    async def rectified(self, inspection_id: int, by: str, follow_up: str, at: datetime
                        ) -> Inspection:
        follow_up = follow_up.strip()[:TEXT_MAX]
        if not follow_up:
            raise InspectionInputError("follow_up: say how the rectification was carried out")
        row = await self.repo.get(inspection_id)
        if not row.rectification:
            raise InspectionInputError("this inspection asked for no rectification")
        return await self.repo.rectified(inspection_id, by, follow_up, at)

    async def records(self, month: str) -> list[Inspection]:
        start, end = month_bounds(month, self.zone)
        return await self.repo.month(start, end)
