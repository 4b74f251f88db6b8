"""Newcomer missions: a short checklist of first steps, each worth points once, and a bonus
for finishing the list within the first week (快速破零, a quick first win).

Progress is read from the activity stream, never reported by the member: a mission is done
by the first activity of its kind (``mission_of``). Only newcomers have missions: members
Hearth saw join the group, during their first ``CHECKLIST_DAYS`` days. Members who were in
the group before Hearth saw them (first seen taking part) are not newcomers.

A community's programme starts from ``DEFAULT_PROGRAMME`` (switched off, every mission on
the list) until its operators change it. Completions are recorded whether the programme is
on or off, so that the activation figure (``activation``) reads the same with and without
missions; points, the bonus and the member's notes come only while it is on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord


class Mission(enum.StrEnum):
    """One first step (short values: they travel in callback data and ledger keys)."""

    INTRODUCE = "introduce"  # a first group message that says something
    CHECKIN = "checkin"  # a first check-in
    QUIZ = "quiz"  # a first quiz answer
    RSVP = "rsvp"  # a first answer to an event (going, maybe or can't go)
    INTERESTS = "interests"  # a first answer to the profile questionnaire


MISSIONS = tuple(Mission)  # the checklist's order
BONUS_DAYS = 7  # the bonus is for finishing every mission this soon after joining
CHECKLIST_DAYS = 30  # a member is a newcomer, with a checklist, this long after joining
DEFAULT_POINTS: Mapping[Mission, int] = {
    Mission.INTRODUCE: 10,
    Mission.CHECKIN: 10,
    Mission.QUIZ: 10,
    Mission.RSVP: 20,
    Mission.INTERESTS: 10,
}
DEFAULT_BONUS = 50
MAX_POINTS = 10_000  # what one mission or the bonus may be worth at most

# Activity that completes a mission; a message completes the introduction only when it
# says something (``ActivityRecord.earns_points``: a few words or media, not "hi").
_BY_KIND: Mapping[ActivityKind, Mission] = {
    ActivityKind.CHECKIN: Mission.CHECKIN,
    ActivityKind.QUIZ_ANSWER: Mission.QUIZ,
    ActivityKind.RSVP: Mission.RSVP,
    ActivityKind.PROFILE: Mission.INTERESTS,
}
_CONVERSATION = frozenset({ActivityKind.MESSAGE, ActivityKind.REPLY})


class BadMissionChange(ValueError):
    """An operator's change cannot be made: ``reason`` is "unknown" (no such mission) or
    "points" (not a whole number from 0 to ``MAX_POINTS``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MissionRule:
    """Whether a mission is on a community's checklist, and what it is worth."""

    mission: Mission
    enabled: bool
    points: int


@dataclass(frozen=True, slots=True)
class Programme:
    """A community's missions: on or off, the checklist and the bonus.

    ``configured``: the operators changed it at least once (the activation figure is shown
    in /stats from then on, whether the programme is on or off).
    """

    enabled: bool
    bonus: int
    rules: tuple[MissionRule, ...]
    configured: bool = False

    @property
    def missions(self) -> tuple[Mission, ...]:
        """The missions on the checklist, in order."""
        return tuple(rule.mission for rule in self.rules if rule.enabled)

    def rule(self, mission: Mission) -> MissionRule:
        return next(rule for rule in self.rules if rule.mission is mission)

    def switched(self, enabled: bool) -> Programme:
        return replace(self, enabled=enabled, configured=True)

    def with_bonus(self, points: int) -> Programme:
        return replace(self, bonus=_checked_points(points), configured=True)

    def with_mission(
        self, mission: Mission, *, enabled: bool | None = None, points: int | None = None
    ) -> Programme:
        """The programme with one mission put on or off the list, or made worth ``points``."""
        rules = tuple(
            MissionRule(
                rule.mission,
                rule.enabled if enabled is None else enabled,
                rule.points if points is None else _checked_points(points),
            )
            if rule.mission is mission
            else rule
            for rule in self.rules
        )
        return replace(self, rules=rules, configured=True)


DEFAULT_PROGRAMME = Programme(
    enabled=False,
    bonus=DEFAULT_BONUS,
    rules=tuple(MissionRule(mission, True, DEFAULT_POINTS[mission]) for mission in MISSIONS),
)


def parse_mission(name: str) -> Mission:
    """The mission an operator named; raises BadMissionChange("unknown")."""
    try:
        return Mission(name.strip().casefold())
    except ValueError:
        raise BadMissionChange("unknown") from None


def parse_points(text: str) -> int:
    """Points an operator typed; raises BadMissionChange("points")."""
    if not text.strip().isdigit():
        raise BadMissionChange("points")
    return _checked_points(int(text))


def _checked_points(points: int) -> int:
    if not 0 <= points <= MAX_POINTS:
        raise BadMissionChange("points")
    return points


def mission_of(record: ActivityRecord) -> Mission | None:
    """The mission an activity completes, if any."""
    if record.kind in _CONVERSATION:
        return Mission.INTRODUCE if record.earns_points else None
    return _BY_KIND.get(record.kind)


def is_newcomer(joined_at: datetime, now: datetime) -> bool:
    """Whether a member who joined at ``joined_at`` still has a checklist at ``now``."""
    return now - joined_at < timedelta(days=CHECKLIST_DAYS)


def bonus_deadline(joined_at: datetime) -> datetime:
    """Every mission done before this earns the bonus."""
    return joined_at + timedelta(days=BONUS_DAYS)


def finished_in_time(
    missions: tuple[Mission, ...], joined_at: datetime, done: Mapping[Mission, datetime]
) -> bool:
    """Whether every mission of a non-empty list was done before the bonus deadline."""
    deadline = bonus_deadline(joined_at)
    return bool(missions) and all(
        mission in done and done[mission] < deadline for mission in missions
    )


class MissionActivation(enum.StrEnum):
    """Where a newcomer stands on the activation figure."""

    ACTIVATED = "activated"  # every mission of the list done within BONUS_DAYS of joining
    PENDING = "pending"  # not yet, and the week is not over
    MISSED = "missed"  # the week is over without every mission done


def activation(
    missions: tuple[Mission, ...],
    joined_at: datetime,
    done: Mapping[Mission, datetime],
    now: datetime,
) -> MissionActivation:
    """A newcomer's activation at ``now``: pending members count in neither part of the
    rate (activated / (activated + missed))."""
    if finished_in_time(missions, joined_at, done):
        return MissionActivation.ACTIVATED
    if now < bonus_deadline(joined_at):
        return MissionActivation.PENDING
    return MissionActivation.MISSED


def completion_key(community_id: int, member_id: int, mission: Mission) -> str:
    """The ledger key of a mission's points: paid once per member and community."""
    return f"mission:{community_id}:{member_id}:{mission.value}"


def bonus_key(community_id: int, member_id: int) -> str:
    """The ledger key of the bonus for finishing every mission in the first week."""
    return f"mission-bonus:{community_id}:{member_id}"


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    mission: Mission
    points: int
    done: bool


@dataclass(frozen=True, slots=True)
class Checklist:
    """A newcomer's missions as they see them: ticks, points and the bonus's deadline."""

    items: tuple[ChecklistItem, ...]
    bonus: int
    deadline: datetime  # every mission done before this earns the bonus
    bonus_earned: bool
    now: datetime

    @property
    def done(self) -> int:
        return sum(item.done for item in self.items)

    @property
    def complete(self) -> bool:
        return self.done == len(self.items)

    @property
    def bonus_open(self) -> bool:
        """The bonus can still be earned."""
        return self.bonus > 0 and not self.complete and self.now < self.deadline


def checklist(
    programme: Programme, joined_at: datetime, done: Mapping[Mission, datetime], now: datetime
) -> Checklist:
    """The checklist of a newcomer who joined at ``joined_at`` and did ``done`` so far."""
    missions = programme.missions
    return Checklist(
        items=tuple(
            ChecklistItem(mission, programme.rule(mission).points, mission in done)
            for mission in missions
        ),
        bonus=programme.bonus,
        deadline=bonus_deadline(joined_at),
        bonus_earned=programme.bonus > 0 and finished_in_time(missions, joined_at, done),
        now=now,
    )
