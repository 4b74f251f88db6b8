"""Daily check-ins and forgiving streaks: freezes earned by activity cover missed days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hearth.domain.errors import HearthError

MILESTONES = (3, 7, 30, 100, 365)
FREEZE_EVERY = 7  # one freeze earned per 7 consecutive days
MAX_FREEZES = 2


class AlreadyCheckedIn(HearthError):
    """The member has checked in today already."""

    def __init__(self, streak: int) -> None:
        super().__init__(streak)
        self.streak = streak


@dataclass(frozen=True, slots=True)
class StreakState:
    """A member's streak after their latest check-in."""

    last_day: date
    streak: int
    freezes: int
    best: int


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    """What today's check-in did to the streak."""

    day: date
    streak: int
    best: int
    freezes: int
    freezes_used: int  # missed days covered by freezes on the way here
    freeze_earned: bool
    milestone: int | None
    first_ever: bool
    broken_streak: int  # the streak that ended before today (0 if none ended)

    @property
    def state(self) -> StreakState:
        return StreakState(self.day, self.streak, self.freezes, self.best)


def check_in(previous: StreakState | None, today: date) -> CheckinOutcome:
    """Today's check-in after ``previous``; raises AlreadyCheckedIn on a second one today.

    Missed days are covered by freezes while they last (each covers one day); a gap longer
    than the freezes held starts a new streak. A freeze is earned at every 7th day of a
    streak, at most two held.
    """
    if previous is None:
        return _outcome(today, streak=1, best=1, freezes=0, used=0, first=True, broken=0)
    if today <= previous.last_day:
        raise AlreadyCheckedIn(previous.streak)
    missed = (today - previous.last_day).days - 1
    if missed <= previous.freezes:
        streak = previous.streak + 1
        return _outcome(
            today,
            streak=streak,
            best=max(previous.best, streak),
            freezes=previous.freezes - missed,
            used=missed,
            first=False,
            broken=0,
        )
    return _outcome(
        today,
        streak=1,
        best=previous.best,
        freezes=0,
        used=0,
        first=False,
        broken=previous.streak,
    )


def _outcome(
    day: date, *, streak: int, best: int, freezes: int, used: int, first: bool, broken: int
) -> CheckinOutcome:
    earned = streak % FREEZE_EVERY == 0 and freezes < MAX_FREEZES
    return CheckinOutcome(
        day=day,
        streak=streak,
        best=best,
        freezes=freezes + (1 if earned else 0),
        freezes_used=used,
        freeze_earned=earned,
        milestone=streak if streak in MILESTONES else None,
        first_ever=first,
        broken_streak=broken,
    )


def current_streak(state: StreakState | None, today: date) -> int:
    """The streak as it stands today: alive if today or yesterday (or freezes) keep it."""
    if state is None:
        return 0
    missed = (today - state.last_day).days - 1
    return state.streak if missed <= state.freezes else 0
