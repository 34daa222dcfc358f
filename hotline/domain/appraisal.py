"""The operators' monthly appraisal (004 篇5 工作人员绩效考核办法 第十三条): satisfaction counts
50%, daily work 50% (the weights are settings). Pure: a month's figures in, scores out.

Satisfaction: the callers' ratings of the operator's answered calls (1-5, at the end of the
call) and the follow-up satisfaction (回访, 1-5) of the tickets the operator owns that were
closed in the month, pooled; their mean on 0-100 is (mean - 1) / 4 * 100. A month without a
single rating has no satisfaction score and the total is the daily-work score alone.

Daily work: a weighted mean, over the parts that have data, of
- three_rings: the share of answered calls answered within three rings (000: 铃响三声);
- handle: the mean handling time (answer to end): 100 at or under the target, falling
  linearly to 0 at twice the target;
- duty: the hours on duty (the duty log) against the month's target, at most 100;
- complaints: 100 less the points per complaint against the operator (a complaint ticket
  whose 被投诉人 names the operator's job number or name);
- phrases: 100 less the points per forbidden phrase flagged in what the operator said
  (hotline/reports/review.py);
- inspection: the operator's mean quality-inspection score (0-100) of the month's calls
  (the scorecards of hotline/inspection), or one given from outside; an operator with no
  score has the part left out, not counted as 0.

First-contact resolution (一次办结), from true outcomes: an answered call from a known number
is resolved at first contact unless, within the window after it arrived, a ticket was raised
on it, or the same number called again about the same matter (the same category, or either
call uncategorised). Calls from withheld numbers cannot be followed and are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

DAILY_PARTS = ("three_rings", "handle", "duty", "complaints", "phrases", "inspection")
DEFAULT_DAILY = "three_rings=30,handle=20,duty=20,complaints=15,phrases=15,inspection=20"
PART_NAMES = {"three_rings": "三声接听率", "handle": "处理时长", "duty": "在岗时长",
              "complaints": "被投诉", "phrases": "服务忌语", "inspection": "质检"}


def parse_daily_weights(text: str) -> dict[str, float]:
    """``three_rings=30,handle=20,...``: every part named once, each weight >= 0."""
    out: dict[str, float] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in DAILY_PARTS:
            raise ValueError(f"{item!r}: expected PART=WEIGHT with PART one of "
                             f"{', '.join(DAILY_PARTS)}")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"{item!r}: the weight is not a number") from None
        if weight < 0:
            raise ValueError(f"{item!r}: a weight is 0 or more")
        out[name] = weight
    missing = [p for p in DAILY_PARTS if p not in out]
    if missing:
        raise ValueError(f"missing part(s): {', '.join(missing)}")
    return out


@dataclass(frozen=True)
class AppraisalRules:
    satisfaction_weight: float = 0.5  # the rest is daily work
    daily: Mapping[str, float] = field(
        default_factory=lambda: parse_daily_weights(DEFAULT_DAILY))
    handle_target_s: float = 300.0
    duty_hours_target: float = 160.0
    complaint_points: float = 10.0
    phrase_points: float = 5.0
    fcr_window: timedelta = timedelta(hours=72)


@dataclass
class OperatorMonth:
    """What the appraisal reads of one operator's month."""

    job_number: str
    name: str = ""
    answered: int = 0
    within_three_rings: int = 0
    handled: int = 0
    handle_s: float = 0.0
    call_ratings: list[int] = field(default_factory=list)
    ticket_ratings: list[int] = field(default_factory=list)
    duty_s: float = 0.0
    complaints_against: int = 0
    phrases_flagged: int = 0
    fcr_counted: int = 0
    fcr_resolved: int = 0
    inspection: float | None = None


@dataclass(frozen=True)
class Appraisal:
    job_number: str
    name: str
    parts: dict[str, float | None]  # each daily part 0-100, None: no data
    satisfaction: float | None
    daily: float
    total: float
    figures: dict[str, float | int | None]


def _r(x: float) -> float:
    return round(x + 0.0, 2)


def appraise(m: OperatorMonth, rules: AppraisalRules) -> Appraisal:
    ratings = m.call_ratings + m.ticket_ratings
    satisfaction = _r((sum(ratings) / len(ratings) - 1) / 4 * 100) if ratings else None
    mean_handle = m.handle_s / m.handled if m.handled else None
    parts: dict[str, float | None] = {
        "three_rings": _r(100 * m.within_three_rings / m.answered) if m.answered else None,
        "handle": None if mean_handle is None else _r(max(0.0, min(
            100.0, 100 * (2 - mean_handle / rules.handle_target_s)))),
        "duty": _r(min(100.0, 100 * m.duty_s / 3600 / rules.duty_hours_target))
        if rules.duty_hours_target else 100.0,
        "complaints": _r(max(0.0, 100 - rules.complaint_points * m.complaints_against)),
        "phrases": _r(max(0.0, 100 - rules.phrase_points * m.phrases_flagged)),
        "inspection": None if m.inspection is None else _r(max(0.0, min(100.0,
                                                                         m.inspection))),
    }
    weighted = [(rules.daily[k], v) for k, v in parts.items() if v is not None]
    total_w = sum(w for w, _ in weighted)
    daily_raw = sum(w * v for w, v in weighted) / total_w if total_w else 0.0
    daily = _r(daily_raw)
    if satisfaction is None:
        total = daily
    else:  # from the unrounded daily score: the rounding happens once
        total = _r(rules.satisfaction_weight * satisfaction
                   + (1 - rules.satisfaction_weight) * daily_raw)
    figures: dict[str, float | int | None] = {
        "answered": m.answered, "within_three_rings": m.within_three_rings,
        "mean_handle_s": None if mean_handle is None else _r(mean_handle),
        "ratings": len(ratings),
        "mean_rating": _r(sum(ratings) / len(ratings)) if ratings else None,
        "duty_h": _r(m.duty_s / 3600), "complaints_against": m.complaints_against,
        "phrases_flagged": m.phrases_flagged,
        "fcr": _r(m.fcr_resolved / m.fcr_counted) if m.fcr_counted else None,
        "fcr_counted": m.fcr_counted, "fcr_resolved": m.fcr_resolved,
        "inspection": m.inspection}
    return Appraisal(m.job_number, m.name, parts, satisfaction, daily, total, figures)


# the callers that cannot be followed: first-contact resolution does not count them
WITHHELD = frozenset({"", "anonymous"})
