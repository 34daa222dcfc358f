"""The month's sample proposed to the inspector: every call with a complaint or a low rating,
plus N calls drawn at random per operator from the rest. The draw is seeded (by default with
the month), so the same month proposes the same calls every time it is opened, and a test
can name the seed. Pure logic."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

COMPLAINT, LOW_RATING, RANDOM = "投诉", "低评价", "随机抽取"


@dataclass(frozen=True)
class Candidate:
    call_id: int
    operator: str
    satisfaction: int | None
    complaint: bool  # a complaint ticket on the call, or the call's disposition


@dataclass(frozen=True)
class Proposal:
    call_id: int
    operator: str
    reasons: tuple[str, ...]
    satisfaction: int | None = None


def _reasons(c: Candidate, low_rating: int) -> tuple[str, ...]:
    out = []
    if c.complaint:
        out.append(COMPLAINT)
    if c.satisfaction is not None and c.satisfaction <= low_rating:
        out.append(f"{LOW_RATING}（{c.satisfaction}）")
    return tuple(out)


def propose(candidates: Iterable[Candidate], per_operator: int, seed: str, low_rating: int
            ) -> list[Proposal]:
    """Per operator (in job-number order): the flagged calls, then ``per_operator`` of the
    others drawn with a generator seeded by ``seed`` and the job number (so one operator's
    draw does not shift when another's calls change); each list in call order."""
    by_operator: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_operator[c.operator].append(c)
    out: list[Proposal] = []
    for operator in sorted(by_operator):
        calls = sorted(by_operator[operator], key=lambda c: c.call_id)
        flagged = [(c, r) for c in calls if (r := _reasons(c, low_rating))]
        rest = [c for c in calls if not _reasons(c, low_rating)]
        drawn = random.Random(f"{seed}/{operator}").sample(rest, min(per_operator, len(rest)))
        chosen = [(c, r) for c, r in flagged] + [(c, (RANDOM,)) for c in drawn]
        out += [Proposal(c.call_id, operator, r, c.satisfaction)
                for c, r in sorted(chosen, key=lambda cr: cr[0].call_id)]
    return out
