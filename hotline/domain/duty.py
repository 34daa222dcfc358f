"""The duty log (值班记录), the A/B guard (003 AB岗) and attendance, as pure logic.

Every change of an operator's duty state is a ``DutyChange``; attendance is read back from
them: the time a seat spent on duty (在岗) and away (小休) per local day, cut at midnight.
No I/O here: the store keeps the log, this says what it means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.domain.seats import DutyState, Seat
from hotline.errors import HotlineError


@dataclass(frozen=True)
class DutyChange:
    job_number: str
    at: datetime
    to: DutyState
    before: DutyState
    by: str  # who made the change (the operator, a supervisor, or cli:USER)
    note: str = ""
    guard: str = ""  # "confirmed": the post was left without anyone on duty, on purpose


class DutyError(HotlineError):
    """A duty or handover step the rules do not allow; says which rule."""


class PostGuard(DutyError):
    """Taking an A post off while none of its B posts is on duty: asks for a confirmation."""

    def __init__(self, post: str, backups: Sequence[str]) -> None:
        names = ", ".join(backups) or "none"
        super().__init__(f"post {post} would have nobody on duty (its B posts: {names}); "
                         "confirm to leave it uncovered")
        self.post = post
        self.backups = tuple(backups)


def post_of(seat: Seat) -> str:
    """The A post a seat belongs to (itself for an A post)."""
    return seat.backup_of or seat.job_number


def needs_confirmation(seats: Sequence[Seat], job_number: str, to: DutyState) -> bool:
    """The A/B guard: an A post leaving duty (break or off) while none of its B posts is on
    duty would leave the post with nobody on it. A B post leaving is never held up here
    (its A post or another B may be on; the wallboard shows the post if not)."""
    by_job = {s.job_number: s for s in seats}
    seat = by_job.get(job_number)
    if seat is None or not seat.is_a_post or to is DutyState.ON_DUTY:
        return False
    if seat.duty is not DutyState.ON_DUTY:
        return False  # already away: no change of cover
    return not any(s.duty is DutyState.ON_DUTY for s in seats if s.backup_of == job_number)


def backups_of(seats: Sequence[Seat], job_number: str) -> list[str]:
    return [s.job_number for s in seats if s.backup_of == job_number]


def uncovered_posts(seats: Sequence[Seat]) -> list[str]:
    """The A posts with nobody on duty: neither the A post nor any of its B posts."""
    on = {post_of(s) for s in seats if s.duty is DutyState.ON_DUTY}
    return sorted(s.job_number for s in seats if s.is_a_post and s.job_number not in on)


def standing_in_for(seats: Sequence[Seat], job_number: str) -> list[str]:
    """The A posts whose open tickets this seat may work now: it is on duty, it is a B post
    of that A post, and the A post is away (break or off)."""
    by_job = {s.job_number: s for s in seats}
    seat = by_job.get(job_number)
    if seat is None or seat.duty is not DutyState.ON_DUTY or seat.backup_of is None:
        return []
    a_post = by_job.get(seat.backup_of)
    return [a_post.job_number] if a_post and a_post.duty is not DutyState.ON_DUTY else []


@dataclass
class DayAttendance:
    job_number: str
    day: date
    on_duty_s: float = 0.0
    break_s: float = 0.0
    first_on: datetime | None = None
    last_off: datetime | None = None
    changes: int = 0

    @property
    def on_duty_h(self) -> float:
        return round(self.on_duty_s / 3600, 2)


@dataclass
class Attendance:
    """Per operator per local day; ``month`` sums a period's days."""

    days: dict[tuple[str, date], DayAttendance] = field(default_factory=dict)

    def day(self, job: str, d: date) -> DayAttendance:
        return self.days.setdefault((job, d), DayAttendance(job, d))

    def by_operator(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for (job, _), a in sorted(self.days.items()):
            o = out.setdefault(job, {"on_duty_s": 0.0, "break_s": 0.0, "days": 0})
            o["on_duty_s"] += a.on_duty_s
            o["break_s"] += a.break_s
            o["days"] += a.on_duty_s > 0
        return out


def _spans(start: datetime, end: datetime, zone: ZoneInfo
           ) -> Iterable[tuple[date, datetime, datetime]]:
    """[start, end) cut at local midnights: (local day, from, to)."""
    at = start
    while at < end:
        local = at.astimezone(zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                    zone)
        to = min(end, midnight)
        yield local.date(), at, to
        at = to


def attendance(changes: Iterable[DutyChange], since: datetime, until: datetime,
               zone: ZoneInfo, state_before: dict[str, DutyState] | None = None
               ) -> Attendance:
    """The time on duty and on break per operator per local day in [since, until), from the
    log's changes in time order. ``state_before``: each operator's state at ``since`` (the
    last change before it); an operator with no change before is off."""
    state = dict(state_before or {})
    since_at: dict[str, datetime] = {job: since for job in state}
    out = Attendance()

    def close(job: str, upto: datetime) -> None:
        current = state.get(job, DutyState.OFF)
        began = since_at.get(job, since)
        if current is DutyState.OFF or upto <= began:
            return
        for d, a, b in _spans(began, upto, zone):
            day = out.day(job, d)
            seconds = (b - a).total_seconds()
            if current is DutyState.ON_DUTY:
                day.on_duty_s += seconds
            else:
                day.break_s += seconds

    for c in sorted(changes, key=lambda c: c.at):
        if not since <= c.at < until:
            continue
        close(c.job_number, c.at)
        day = out.day(c.job_number, c.at.astimezone(zone).date())
        day.changes += 1
        if c.to is DutyState.ON_DUTY and day.first_on is None:
            day.first_on = c.at
        if c.to is DutyState.OFF:
            day.last_off = c.at
        state[c.job_number] = c.to
        since_at[c.job_number] = c.at
    for job in list(state):
        close(job, until)
    return out
