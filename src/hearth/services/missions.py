"""Newcomer missions (``domain/missions.py``): progress read from the activity stream, points
and the bonus through the ledger, the checklist members see, the operators' changes and
the activation figure of /stats.

Progress is detected where activity is written: ``observe`` runs in every transaction that
wrote activity rows (the unit of work's activity hook), be it a check-in, a quiz answer, an
RSVP, a questionnaire answer or a batch of group messages from the write-behind buffer. A
mission is credited once: its completion row, its ledger key and its note's outbox key are
each unique, so activity that repeats or is replayed changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hearth.domain.activity import ActivityRecord
from hearth.domain.calendar import start_of_local_day
from hearth.domain.members import CommunityProfile
from hearth.domain.missions import (
    CHECKLIST_DAYS,
    Checklist,
    Mission,
    MissionActivation,
    Programme,
    activation,
    bonus_key,
    checklist,
    completion_key,
    finished_in_time,
    mission_of,
)
from hearth.domain.points import EntryKind
from hearth.services import points
from hearth.services.ports import MissionNotices, UnitOfWork

REASON = "mission"  # the ledger reason of a mission's points
BONUS_REASON = "mission-bonus"  # and of the bonus

CommunityLookup = Callable[[int], Awaitable[CommunityProfile | None]]
Done = dict[Mission, datetime]


async def observe(
    uow: UnitOfWork,
    records: Sequence[ActivityRecord],
    community_of: CommunityLookup,
    now: datetime,
    notices: MissionNotices | None = None,
) -> int:
    """Record the missions that newcomers did with ``records`` and, where the programme is
    on, credit their points and the bonus and tell the member in private (when they started
    the bot). Returns the number of missions newly done."""
    seen: dict[int, dict[int, Done]] = defaultdict(lambda: defaultdict(dict))
    for record in records:
        mission = mission_of(record)
        if mission is None:
            continue
        firsts = seen[record.community_id][record.member_id]
        if mission not in firsts or record.occurred_at < firsts[mission]:
            firsts[mission] = record.occurred_at
    newly_done = 0
    for community_id, members in seen.items():
        newly_done += await _observe_community(
            uow, community_id, members, community_of, now, notices
        )
    return newly_done


async def _observe_community(
    uow: UnitOfWork,
    community_id: int,
    members: dict[int, Done],
    community_of: CommunityLookup,
    now: datetime,
    notices: MissionNotices | None,
) -> int:
    since = now - timedelta(days=CHECKLIST_DAYS)
    newcomers = await uow.missions.newcomers(community_id, members.keys(), since)
    if not newcomers:  # the usual case: activity of members who are no newcomers
        return 0
    before = await uow.missions.completions(community_id, newcomers.keys())
    fresh: dict[int, Done] = {}
    for member_id in sorted(newcomers):
        done_before = before.get(member_id, {})
        for mission, at in members[member_id].items():
            if mission in done_before:
                continue
            if await uow.missions.complete(community_id, member_id, mission, at):
                fresh.setdefault(member_id, {})[mission] = at
    if not fresh:
        return 0
    programme = await uow.missions.programme(community_id)
    community = await community_of(community_id)
    if programme.enabled and community is not None:
        for member_id, done_now in fresh.items():
            await _reward(
                uow,
                community,
                programme,
                member_id,
                joined_at=newcomers[member_id],
                done={**before.get(member_id, {}), **done_now},
                done_now=done_now,
                now=now,
                notices=notices,
            )
    return sum(len(done_now) for done_now in fresh.values())


async def _reward(
    uow: UnitOfWork,
    community: CommunityProfile,
    programme: Programme,
    member_id: int,
    *,
    joined_at: datetime,
    done: Done,
    done_now: Done,
    now: datetime,
    notices: MissionNotices | None,
) -> None:
    """Credit the missions just done that are on the list, and the bonus when they finish
    it in time; one private note per mission."""
    listed = [mission for mission in programme.missions if mission in done_now]
    if not listed:
        return
    for mission in listed:
        worth = programme.rule(mission).points
        if worth > 0:
            key = completion_key(community.id, member_id, mission)
            await _credit(uow, community, member_id, worth, REASON, key, now)
    bonus = 0
    if programme.bonus > 0 and finished_in_time(programme.missions, joined_at, done):
        key = bonus_key(community.id, member_id)
        if await _credit(uow, community, member_id, programme.bonus, BONUS_REASON, key, now):
            bonus = programme.bonus
    member = await uow.members.get(member_id)
    if notices is None or member is None or not member.writable:
        return
    remaining = sum(mission not in done for mission in programme.missions)
    for position, mission in enumerate(listed):
        await notices.completed(
            uow,
            completion_key(community.id, member_id, mission),
            member,
            community,
            mission,
            programme.rule(mission).points,
            remaining,
            bonus if position == len(listed) - 1 else 0,  # told with the last one
        )


async def _credit(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    amount: int,
    reason: str,
    key: str,
    now: datetime,
) -> bool:
    return await points.credit(
        uow,
        community_id=community.id,
        member_id=member_id,
        amount=amount,
        kind=EntryKind.EARN,
        reason=reason,
        key=key,
        now=now,
        timezone=community.timezone,
        rules=points.rules_of(community),
    )


# -- what members see


async def checklist_of(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, now: datetime
) -> Checklist | None:
    """The member's checklist in the community; None unless the programme is on, lists a
    mission, and the member is a newcomer."""
    programme = await uow.missions.programme(community.id)
    if not programme.enabled or not programme.missions:
        return None
    since = now - timedelta(days=CHECKLIST_DAYS)
    joined_at = (await uow.missions.newcomers(community.id, [member_id], since)).get(member_id)
    if joined_at is None:
        return None
    done = (await uow.missions.completions(community.id, [member_id])).get(member_id, {})
    return checklist(programme, joined_at, done, now)


# -- operators


async def programme_of(uow: UnitOfWork, community: CommunityProfile) -> Programme:
    return await uow.missions.programme(community.id)


async def switch(
    uow: UnitOfWork, community: CommunityProfile, *, enabled: bool, actor_id: int, now: datetime
) -> Programme:
    """Turn the community's missions on or off. Audited."""

    def change(programme: Programme) -> Programme:
        return programme.switched(enabled)

    return await _change(uow, community, change, "missions.switch", actor_id, now, on=enabled)


async def list_mission(
    uow: UnitOfWork,
    community: CommunityProfile,
    mission: Mission,
    *,
    enabled: bool,
    actor_id: int,
    now: datetime,
) -> Programme:
    """Put a mission on the checklist or take it off. Audited."""

    def change(programme: Programme) -> Programme:
        return programme.with_mission(mission, enabled=enabled)

    action = "missions.enable" if enabled else "missions.disable"
    return await _change(uow, community, change, action, actor_id, now, mission=mission.value)


async def set_points(
    uow: UnitOfWork,
    community: CommunityProfile,
    mission: Mission,
    worth: int,
    *,
    actor_id: int,
    now: datetime,
) -> Programme:
    """What a mission is worth from now on; raises BadMissionChange("points"). Audited."""

    def change(programme: Programme) -> Programme:
        return programme.with_mission(mission, points=worth)

    return await _change(
        uow,
        community,
        change,
        "missions.points",
        actor_id,
        now,
        mission=mission.value,
        points=worth,
    )


async def set_bonus(
    uow: UnitOfWork, community: CommunityProfile, worth: int, *, actor_id: int, now: datetime
) -> Programme:
    """The bonus for every mission within the first week; raises BadMissionChange("points").
    Audited."""

    def change(programme: Programme) -> Programme:
        return programme.with_bonus(worth)

    return await _change(uow, community, change, "missions.bonus", actor_id, now, points=worth)


async def _change(
    uow: UnitOfWork,
    community: CommunityProfile,
    change: Callable[[Programme], Programme],
    action: str,
    actor_id: int,
    now: datetime,
    **details: object,
) -> Programme:
    changed = change(await uow.missions.programme(community.id))
    await uow.missions.save(community.id, changed, now)
    await uow.audit.record(
        actor_id=actor_id, action=action, community_id=community.id, details=details, now=now
    )
    return changed


# -- the activation figure


@dataclass(frozen=True, slots=True)
class MissionActivationFigures:
    """Members Hearth saw join the group in a period of local days, by whether they did
    every mission of the current list within ``BONUS_DAYS`` of joining.

    ``rate`` = activated / (activated + missed); members whose first week is still running
    and who have not finished yet are pending and left out. ``programme_on``: whether the
    members see the missions now (the figure is measured the same way when they do not).
    """

    first: date
    last: date
    programme_on: bool
    activated: int
    missed: int
    pending: int

    @property
    def judged(self) -> int:
        return self.activated + self.missed

    @property
    def rate(self) -> float | None:
        return self.activated / self.judged if self.judged else None


async def activation_figures(
    uow: UnitOfWork, community: CommunityProfile, *, first: date, last: date, now: datetime
) -> MissionActivationFigures:
    """The mission activation of the newcomers who joined from local day ``first`` to
    ``last``, both included, as of ``now``."""
    programme = await uow.missions.programme(community.id)
    return await _figures(uow, community, programme, first, last, now)


async def _figures(
    uow: UnitOfWork,
    community: CommunityProfile,
    programme: Programme,
    first: date,
    last: date,
    now: datetime,
) -> MissionActivationFigures:
    joined = await uow.missions.joined_between(
        community.id,
        start_of_local_day(first, community.timezone),
        start_of_local_day(last + timedelta(days=1), community.timezone),
    )
    tally = dict.fromkeys(MissionActivation, 0)
    for joined_at, done in joined:
        tally[activation(programme.missions, joined_at, done, now)] += 1
    return MissionActivationFigures(
        first=first,
        last=last,
        programme_on=programme.enabled,
        activated=tally[MissionActivation.ACTIVATED],
        missed=tally[MissionActivation.MISSED],
        pending=tally[MissionActivation.PENDING],
    )


async def stats_figures(
    uow: UnitOfWork, community: CommunityProfile, *, first: date, last: date, now: datetime
) -> MissionActivationFigures | None:
    """The activation figure for /stats: None until the community's operators have set up
    their missions (on or off) at least once."""
    programme = await uow.missions.programme(community.id)
    if not programme.configured:
        return None
    return await _figures(uow, community, programme, first, last, now)
