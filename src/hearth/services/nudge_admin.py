"""What operators see and change of a community's nudges (``/nudges``): the outcomes with the
measured uplift, the settings (pause, daily cap, holdout) and the community's own templates.

Every change is audited. The uplift compares the return rate of nudged members with the
holdout's, each member counted once, when a contact's return window is over
(``member_returns``); it is only judged once both groups have ``MIN_MATURED`` such members,
because a Wald interval on a handful of members says nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from hearth.domain.calendar import local_day
from hearth.domain.errors import HearthError, InvalidArgument
from hearth.domain.members import CommunityProfile
from hearth.domain.nudges import (
    TEMPLATE_FIELDS,
    KindOutcome,
    NudgeKind,
    NudgeOutcomes,
    NudgeRecord,
    NudgeSettings,
    NudgeStatus,
    NudgeTemplate,
    ReturnRate,
    Uplift,
    check_template,
    uplift,
)
from hearth.services.ports import UnitOfWork

DEFAULT_REPORT_DAYS = 90
MAX_REPORT_DAYS = 365
MAX_DAILY_CAP = 1000  # nudges per community per local day
MAX_HOLDOUT_PERCENT = 50
MIN_MATURED = 30  # matured members each group needs before the uplift is judged


class Verdict(enum.StrEnum):
    """What the measured uplift says, in plain words."""

    TOO_FEW = "too_few"  # too few matured members in one of the groups to tell
    NO_EFFECT = "no_effect"  # the 95% interval includes zero
    HELPS = "helps"  # nudged members come back more often than the holdout
    HURTS = "hurts"  # nudged members come back less often than the holdout


def judge(nudged: ReturnRate, holdout: ReturnRate, measured: Uplift | None) -> Verdict:
    """The verdict on a measured uplift, given how many matured members each group has."""
    if measured is None or min(nudged.matured, holdout.matured) < MIN_MATURED:
        return Verdict.TOO_FEW
    if measured.low > 0:
        return Verdict.HELPS
    if measured.high < 0:
        return Verdict.HURTS
    return Verdict.NO_EFFECT


@dataclass(frozen=True, slots=True)
class NudgeReport:
    """A community's nudges over the last ``days`` local days (``since`` to ``today``)."""

    community: CommunityProfile
    today: date
    since: date
    days: int
    settings: NudgeSettings
    outcomes: NudgeOutcomes
    planned_today: int  # nudges planned or sent today (what the daily cap counts)

    @property
    def sent(self) -> KindOutcome:
        return self.outcomes.sent

    @property
    def by_kind(self) -> tuple[KindOutcome, ...]:
        return self.outcomes.by_kind

    @property
    def nudged(self) -> ReturnRate:
        """Over members, each in the group of their first contact in the period."""
        return self.outcomes.members.nudged

    @property
    def holdout(self) -> ReturnRate:
        return self.outcomes.members.holdout

    @property
    def uplift(self) -> Uplift | None:
        """Return rate of nudged minus held-out members (a share), with its 95% interval."""
        return uplift(self.nudged, self.holdout)

    @property
    def verdict(self) -> Verdict:
        return judge(self.nudged, self.holdout, self.uplift)

    @property
    def opt_out_rate(self) -> float | None:
        """Share of sent nudges after which the member turned nudges off."""
        sent = self.outcomes.sent
        return sent.opted_out / sent.contacts if sent.contacts else None


async def report(
    uow: UnitOfWork, community: CommunityProfile, now: datetime, days: int = DEFAULT_REPORT_DAYS
) -> NudgeReport:
    """The community's nudge outcomes over the last ``days`` local days, today included."""
    today = local_day(now, community.timezone)
    since = today - timedelta(days=days - 1)
    return NudgeReport(
        community=community,
        today=today,
        since=since,
        days=days,
        settings=await uow.nudges.settings(community.id),
        outcomes=await uow.nudges.outcomes(community.id, since, now),
        planned_today=await uow.nudges.count_sent(community.id, today),
    )


# -- settings


async def set_paused(
    uow: UnitOfWork, community_id: int, paused: bool, *, actor_id: int, now: datetime
) -> NudgeSettings:
    """Pause (no nudge is sent until resumed) or resume the community's nudges; audited."""
    action = "nudges.paused" if paused else "nudges.resumed"
    return await _change(
        uow, community_id, lambda current: replace(current, paused=paused), action, {},
        actor_id=actor_id, now=now,
    )  # fmt: skip


async def set_daily_cap(
    uow: UnitOfWork, community_id: int, cap: int, *, actor_id: int, now: datetime
) -> NudgeSettings:
    """At most ``cap`` nudges per local day (0 to MAX_DAILY_CAP, else ValueError); audited."""
    if not 0 <= cap <= MAX_DAILY_CAP:
        raise ValueError(f"the daily cap is from 0 to {MAX_DAILY_CAP}")
    return await _change(
        uow, community_id, lambda current: replace(current, daily_cap=cap), "nudges.cap",
        {"daily_cap": cap}, actor_id=actor_id, now=now,
    )  # fmt: skip


async def set_holdout(
    uow: UnitOfWork, community_id: int, percent: int, *, actor_id: int, now: datetime
) -> NudgeSettings:
    """The share of episodes held out, in percent (0 to 50, else ValueError); audited.

    It applies to the decisions of the next daily plans; past contacts stay as recorded.
    """
    if not 0 <= percent <= MAX_HOLDOUT_PERCENT:
        raise ValueError(f"the holdout is from 0 to {MAX_HOLDOUT_PERCENT} percent")
    return await _change(
        uow, community_id, lambda current: replace(current, holdout_percent=percent),
        "nudges.holdout", {"holdout_percent": percent}, actor_id=actor_id, now=now,
    )  # fmt: skip


async def _change(
    uow: UnitOfWork,
    community_id: int,
    change: Callable[[NudgeSettings], NudgeSettings],
    action: str,
    details: Mapping[str, int],
    *,
    actor_id: int,
    now: datetime,
) -> NudgeSettings:
    """Save the changed settings with an audit row (``action``, ``details``)."""
    changed = change(await uow.nudges.settings(community_id))
    await uow.nudges.save_settings(community_id, changed, now)
    await uow.audit.record(
        actor_id=actor_id, action=action, community_id=community_id, details=details, now=now
    )
    return changed


# -- templates


class BadTemplate(HearthError):
    """An operator's template that cannot be used: ``problem`` is ``empty``, ``too_long``,
    ``braces`` (unbalanced) or ``unknown`` (placeholders not allowed for the kind)."""

    def __init__(self, kind: NudgeKind, problem: str, unknown: tuple[str, ...] = ()) -> None:
        super().__init__(problem)
        self.kind = kind
        self.problem = problem
        self.unknown = unknown

    @property
    def allowed(self) -> list[str]:
        """The placeholders the kind's templates may use, in a stable order."""
        return allowed_fields(self.kind)


class UnknownTemplate(HearthError):
    """No template with this number in this community."""


def allowed_fields(kind: NudgeKind) -> list[str]:
    """The placeholders of a kind's templates: {name} and {community} first."""
    fields = TEMPLATE_FIELDS[kind]
    common = [name for name in ("name", "community") if name in fields]
    return common + sorted(fields - set(common))


async def templates(uow: UnitOfWork, community_id: int) -> list[NudgeTemplate]:
    """The community's own templates (they replace the built-in texts of their kind)."""
    return await uow.nudges.templates(community_id)


async def add_template(
    uow: UnitOfWork,
    community_id: int,
    kind: NudgeKind,
    text: str,
    *,
    actor_id: int,
    now: datetime,
) -> NudgeTemplate:
    """Store an operator's template of ``kind``; BadTemplate when it cannot be used; audited."""
    try:
        checked = check_template(kind, text)
    except InvalidArgument as error:
        problem, _, names = error.usage.partition(":")
        raise BadTemplate(kind, problem, tuple(filter(None, names.split(",")))) from None
    template_id = await uow.nudges.add_template(
        community_id, NudgeTemplate(0, kind, checked), actor_id, now
    )
    await uow.audit.record(
        actor_id=actor_id,
        action="nudges.template_added",
        community_id=community_id,
        details={"template_id": template_id, "kind": kind.value},
        now=now,
    )
    return NudgeTemplate(template_id, kind, checked)


async def remove_template(
    uow: UnitOfWork, community_id: int, template_id: int, *, actor_id: int, now: datetime
) -> None:
    """Remove one of the community's templates; UnknownTemplate when it has none such."""
    if not await uow.nudges.remove_template(community_id, template_id):
        raise UnknownTemplate()
    await uow.audit.record(
        actor_id=actor_id,
        action="nudges.template_removed",
        community_id=community_id,
        details={"template_id": template_id},
        now=now,
    )


# -- one member


class MemberNudges(NamedTuple):
    """A member's nudges in a community, for their card."""

    sent: int
    last_sent_at: datetime | None
    returned: int  # sent nudges after which they took part within the return window
    held_out: int  # holdout contacts (recorded, never sent)
    opted_out: bool  # they turned nudges off from one of them


async def member_nudges(uow: UnitOfWork, community_id: int, member_id: int) -> MemberNudges:
    """What the member's card says about the nudges they got in the community."""
    history = await uow.nudges.history(community_id, member_id)
    return summarise(history)


def summarise(history: list[NudgeRecord]) -> MemberNudges:
    sent = [record for record in history if record.status is NudgeStatus.SENT]
    times = [record.sent_at for record in sent if record.sent_at is not None]
    return MemberNudges(
        sent=len(sent),
        last_sent_at=max(times, default=None),
        returned=sum(1 for record in sent if record.returned_at is not None),
        held_out=sum(1 for record in history if record.status is NudgeStatus.HELD_OUT),
        opted_out=any(record.opted_out_at is not None for record in sent),
    )
