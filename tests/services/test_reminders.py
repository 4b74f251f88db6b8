"""Reminders: at the right local hour, only when due, never twice, and not to who blocked us."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from hearth.domain.members import ChatRole, CommunityProfile, MemberProfile, Person
from hearth.domain.points import EntryKind, PointsRules, Tier
from hearth.domain.streaks import check_in
from hearth.scheduler import jobs
from hearth.services import points
from hearth.services.ports import UnitOfWork
from hearth.simulate.clock import VirtualClock
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP, ALICE = -1001000000001, 101
# 20:00 in Shanghai is 12:00 UTC.
SHANGHAI_EIGHT_PM = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class RecordingNotifier:
    """Stands in for the outbox: records what would be queued, once per key."""

    checkins: list[tuple[int, int]] = field(default_factory=list)  # (member, streak)
    expiries: list[tuple[int, int, date]] = field(default_factory=list)  # (member, points, day)
    keys: set[str] = field(default_factory=set)

    async def checkin_reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        streak: int,
    ) -> bool:
        self.checkins.append((member.id, streak))
        return self._new(key)

    async def expiry_reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        points: int,
        day: date,
    ) -> bool:
        self.expiries.append((member.id, points, day))
        return self._new(key)

    def _new(self, key: str) -> bool:
        new = key not in self.keys
        self.keys.add(key)
        return new


async def community_with_alice(uow_factory: UnitOfWorkFactory, *, reminder_hour: int) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(
            GROUP, "Owners", timezone="Asia/Shanghai", locale="en", now=SHANGHAI_EIGHT_PM
        )
        await uow.members.upsert(Person(ALICE, "Alice"), SHANGHAI_EIGHT_PM)
        await uow.members.update(ALICE, started_bot=True)
        await uow.memberships.add(GROUP, ALICE, role=ChatRole.MEMBER, now=SHANGHAI_EIGHT_PM)
        await uow.memberships.set_reminder_hour(GROUP, ALICE, reminder_hour)
        await uow.commit()


async def test_a_checkin_reminder_comes_at_the_chosen_local_hour_once(
    uow_factory: UnitOfWorkFactory,
):
    await community_with_alice(uow_factory, reminder_hour=20)
    notifier = RecordingNotifier()

    await jobs.checkin_reminders(
        uow_factory, notifier, VirtualClock(SHANGHAI_EIGHT_PM - timedelta(hours=1))
    )
    assert notifier.checkins == []  # 19:00 in Shanghai: not yet

    clock = VirtualClock(SHANGHAI_EIGHT_PM)
    assert await jobs.checkin_reminders(uow_factory, notifier, clock) == 1
    assert await jobs.checkin_reminders(uow_factory, notifier, clock) == 0  # a rerun: not twice
    assert notifier.checkins == [(ALICE, 0)]


async def test_no_checkin_reminder_once_the_member_has_checked_in_today(
    uow_factory: UnitOfWorkFactory,
):
    await community_with_alice(uow_factory, reminder_hour=20)
    async with uow_factory() as uow:
        outcome = check_in(None, date(2026, 3, 2))
        await uow.checkins.add(GROUP, ALICE, outcome, SHANGHAI_EIGHT_PM - timedelta(hours=2))
        await uow.commit()
    notifier = RecordingNotifier()
    await jobs.checkin_reminders(uow_factory, notifier, VirtualClock(SHANGHAI_EIGHT_PM))
    assert notifier.checkins == []


async def test_a_member_who_blocked_the_bot_is_reminded_no_more(uow_factory: UnitOfWorkFactory):
    await community_with_alice(uow_factory, reminder_hour=20)
    async with uow_factory() as uow:  # what the delivery worker does on a 403
        await uow.members.update(ALICE, reachable=False)
        await uow.commit()

    later = RecordingNotifier()
    await jobs.checkin_reminders(uow_factory, later, VirtualClock(SHANGHAI_EIGHT_PM))
    assert later.checkins == []


async def test_points_about_to_expire_are_announced_30_and_7_days_ahead_once_each(
    uow_factory: UnitOfWorkFactory,
):
    await community_with_alice(uow_factory, reminder_hour=20)
    earned = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)  # expires at the end of March 2026
    async with uow_factory() as uow:
        await points.credit(
            uow,
            community_id=GROUP,
            member_id=ALICE,
            amount=40,
            kind=EntryKind.EARN,
            reason="checkin",
            key="lot",
            now=earned,
            timezone="Asia/Shanghai",
            rules=PointsRules(),
        )
        await uow.commit()
    notifier = RecordingNotifier()
    ten_am = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 29 days before

    await jobs.expiry_reminders(uow_factory, notifier, VirtualClock(ten_am - timedelta(hours=3)))
    assert notifier.expiries == []  # 07:00 local: too early in the day
    await jobs.expiry_reminders(uow_factory, notifier, VirtualClock(ten_am))
    await jobs.expiry_reminders(uow_factory, notifier, VirtualClock(ten_am + timedelta(days=1)))
    assert notifier.expiries == [(ALICE, 40, date(2026, 3, 31))]

    week_before = ten_am + timedelta(days=23)
    await jobs.expiry_reminders(uow_factory, notifier, VirtualClock(week_before))
    await jobs.expiry_reminders(uow_factory, notifier, VirtualClock(week_before))
    assert notifier.expiries[1:] == [(ALICE, 40, date(2026, 3, 31))]

    after = datetime(2026, 3, 31, 16, 1, tzinfo=UTC)  # past midnight in Shanghai
    assert await jobs.expire_points(uow_factory, VirtualClock(after)) == 40
    assert await jobs.expire_points(uow_factory, VirtualClock(after)) == 0
    async with uow_factory() as uow:
        assert await uow.points.balance(GROUP, ALICE) == 0


async def test_a_member_who_rises_a_tier_is_told_once_and_a_fall_is_quiet(
    uow_factory: UnitOfWorkFactory,
):
    await community_with_alice(uow_factory, reminder_hour=20)
    async with uow_factory() as uow:
        await points.credit(
            uow,
            community_id=GROUP,
            member_id=ALICE,
            amount=600,
            kind=EntryKind.GRANT,
            reason="gift",
            key="gift",
            now=SHANGHAI_EIGHT_PM,
            timezone="Asia/Shanghai",
            rules=PointsRules(),
        )
        await uow.commit()
    notifier = RecordingTierNotifier()

    clock = VirtualClock(SHANGHAI_EIGHT_PM)
    assert await jobs.tier_announcements(uow_factory, notifier, clock) == 1
    assert await jobs.tier_announcements(uow_factory, notifier, clock) == 0
    assert notifier.tiers == [(ALICE, "silver")]

    # A year later the points no longer count: back to member, without a message.
    later = VirtualClock(SHANGHAI_EIGHT_PM + timedelta(days=400))
    assert await jobs.tier_announcements(uow_factory, notifier, later) == 0
    async with uow_factory() as uow:
        assert (await uow.memberships.tiers(GROUP))[ALICE] == "member"


@dataclass
class RecordingTierNotifier(RecordingNotifier):
    tiers: list[tuple[int, str]] = field(default_factory=list)

    async def tier_reached(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        tier: Tier,
    ) -> bool:
        self.tiers.append((member.id, tier.name))
        return self._new(key)
