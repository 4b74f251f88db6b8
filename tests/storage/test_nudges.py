"""The nudge repository on SQLite and (when configured) PostgreSQL: the planner's candidates
and facts, the day's decisions, sending and outcomes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.events import EventDraft
from hearth.domain.lifecycle import Stage
from hearth.domain.members import ChatRole, Person
from hearth.domain.nudges import (
    Contact,
    Decision,
    KindOutcome,
    MemberReturns,
    NudgeKind,
    NudgePreference,
    NudgeSettings,
    NudgeStatus,
    NudgeTemplate,
    QuietHours,
    ReturnRate,
    SkipReason,
)
from hearth.domain.points import EntryKind, NewEntry
from hearth.domain.streaks import CheckinOutcome
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.nudges import NudgeRow
from hearth.storage.quizzes import QuestionRow, QuizAnswerRow
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
ZONE = "Asia/Shanghai"  # UTC+8
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 local
TODAY = date(2026, 3, 2)
JOINED = datetime(2025, 12, 1, 20, 0, tzinfo=UTC)  # 04:00 local on 2 December
DORMANT, NOT_STARTED, STEADY, LEFT, FORGOTTEN = 1, 2, 3, 4, 5


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in the community's zone, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def spoke(
    member_id: int, at: datetime, kind: ActivityKind = ActivityKind.MESSAGE
) -> ActivityRecord:
    return ActivityRecord(GROUP, member_id, kind, at, (at + timedelta(hours=8)).date())


async def club(uow_factory: UnitOfWorkFactory) -> None:
    """A dormant member with a habit, a streak, expiring points, a topic to practise and an
    event of their kind ahead; a member who never started the bot; a steady one; one who
    left; one who had their data erased and turned nudges off."""
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone=ZONE, locale="en", now=JOINED)
        for member_id in (DORMANT, NOT_STARTED, STEADY, LEFT, FORGOTTEN):
            await uow.members.upsert(Person(member_id, f"M{member_id}"), JOINED)
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=JOINED)
            started = member_id != NOT_STARTED
            await uow.members.update(member_id, started_bot=started)
        await uow.members.update(FORGOTTEN, forgotten_at=JOINED)
        await uow.memberships.leave(GROUP, LEFT, NOW - timedelta(days=3))
        stages = {
            DORMANT: Stage.DORMANT,
            NOT_STARTED: Stage.DECLINING,
            STEADY: Stage.MATURE,
            LEFT: Stage.DORMANT,
            FORGOTTEN: Stage.CHURNED,
        }
        for member_id, stage in stages.items():
            uow.session.add(
                MembershipStageRow(
                    community_id=GROUP,
                    member_id=member_id,
                    stage=stage.value,
                    since=TODAY,
                    computed_on=TODAY,
                    value_score=5 if member_id == DORMANT else 2,
                    high_value=member_id == DORMANT,
                    tags=["track-day"] if member_id == DORMANT else [],
                )
            )
        away = TODAY - timedelta(days=40)
        await uow.activity.add_many(
            [
                # 20:15 local three times, 09:00 once: the habit is 20:00
                *(spoke(DORMANT, local(away - timedelta(days=d), 20, 15)) for d in (0, 1, 2)),
                spoke(DORMANT, local(away - timedelta(days=5), 9)),
                spoke(DORMANT, local(away + timedelta(days=1), 12), ActivityKind.JOIN),  # no part
                spoke(STEADY, local(TODAY, 8)),
            ]
        )
        await uow.checkins.add(
            GROUP, DORMANT, CheckinOutcome(away, 2, 5, 0, 0, False, None, False, 0), local(away, 8)
        )
        # 20 points expire in 10 days, 5 in 20, 9 later: a nudge names the first day's 20
        await uow.points.add_credits(
            [
                NewEntry(GROUP, DORMANT, EntryKind.EARN, points, "checkin", key, JOINED, expiry)
                for points, key, expiry in (
                    (20, "a", NOW + timedelta(days=10)),
                    (5, "b", NOW + timedelta(days=20)),
                    (9, "c", NOW + timedelta(days=90)),
                )
            ]
        )
        for index in range(5):
            uow.session.add(
                QuizAnswerRow(
                    poll_id=f"p{index}",
                    community_id=GROUP,
                    member_id=DORMANT,
                    question_id=index,
                    topic="history",
                    option=0,
                    correct=True,
                    answered_at=JOINED,
                )
            )
        uow.session.add(
            QuizAnswerRow(
                poll_id="p9",
                community_id=GROUP,
                member_id=DORMANT,
                question_id=9,
                topic="cars",
                option=1,
                correct=False,
                answered_at=JOINED,
            )
        )
        # history is mastered: cars is the topic practice still has for them
        for topic in ("history", "cars"):
            uow.session.add(
                QuestionRow(
                    community_id=GROUP,
                    text=f"A {topic} question?",
                    options=["a", "b"],
                    correct=0,
                    topic=topic,
                    fingerprint=topic,
                    created_at=JOINED,
                )
            )
        for title, days, tag in (("Meetup", 3, None), ("Track day", 10, "Track day")):
            starts = NOW + timedelta(days=days)
            draft = EventDraft(
                title, "", "Circuit", starts, starts + timedelta(hours=2), None, starts, 0
            )
            event = await uow.events.add(GROUP, draft, code=title[:5], actor_id=None, now=JOINED)
            assert event is not None
            if tag is not None:
                await uow.events.change(event.id, JOINED, tag=tag)
        await uow.nudges.set_preference(
            FORGOTTEN, NudgePreference(False, QuietHours(22, 8)), JOINED
        )
        await uow.commit()


async def test_candidates_are_the_current_drifting_members_with_their_habit_and_facts(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        found = {
            each.member_id: each for each in await uow.nudges.candidates(GROUP, ZONE, TODAY, NOW)
        }
    assert sorted(found) == [DORMANT, NOT_STARTED, FORGOTTEN]
    dormant = found[DORMANT]
    assert (dormant.stage, dormant.high_value, dormant.value_score) == (Stage.DORMANT, True, 5)
    assert dormant.joined_on == date(2025, 12, 2)
    assert dormant.last_active_on == TODAY - timedelta(days=40)
    assert dormant.habitual_hour == 20
    assert (dormant.started_bot, dormant.reachable, dormant.nudges_enabled) == (True, True, True)
    assert dormant.quiet_hours == QuietHours()
    facts = dormant.facts
    assert facts.best_streak == 5
    assert (facts.expiring_points, facts.expiring_on) == (20, date(2026, 3, 12))  # that day's
    assert facts.quiz_topic == "cars"
    assert facts.event is not None
    assert facts.event.title == "Track day"
    assert facts.event_matches_interest
    assert found[NOT_STARTED].started_bot is False
    assert found[NOT_STARTED].facts.event is not None  # the soonest: no interest of theirs
    assert found[NOT_STARTED].facts.event.title == "Meetup"
    assert not found[NOT_STARTED].facts.event_matches_interest
    forgotten = found[FORGOTTEN]
    assert (forgotten.reachable, forgotten.nudges_enabled) == (False, False)
    assert forgotten.quiet_hours == QuietHours(22, 8)


def decision(
    member_id: int, status: NudgeStatus = NudgeStatus.PLANNED, **changes: object
) -> Decision:
    kind = NudgeKind.LIGHT if status is NudgeStatus.PLANNED else None
    made = Decision(member_id, date(2026, 1, 21), status, 1, kind, local(TODAY, 20, 30))
    return made._replace(**changes)


async def test_a_day_is_decided_once_and_its_contacts_count_for_the_member(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    day = [decision(DORMANT), decision(NOT_STARTED, NudgeStatus.HELD_OUT)]
    async with uow_factory() as uow:
        assert await uow.nudges.claim_plan(GROUP, TODAY, NOW)
        assert await uow.nudges.record(GROUP, TODAY, day, NOW) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.nudges.claim_plan(GROUP, TODAY, NOW)
        capped = decision(FORGOTTEN, NudgeStatus.SKIPPED, reason=SkipReason.DAILY_CAP)
        assert await uow.nudges.record(GROUP, TODAY, [*day, capped], NOW) == 1
        assert await uow.nudges.count_sent(GROUP, TODAY) == 1
        found = {
            each.member_id: each for each in await uow.nudges.candidates(GROUP, ZONE, TODAY, NOW)
        }
        assert await uow.nudges.claim_plan(GROUP, TODAY + timedelta(days=1), NOW)
    assert found[DORMANT].contacts == (Contact(TODAY, date(2026, 1, 21), NudgeKind.LIGHT, None),)
    assert found[NOT_STARTED].contacts == (Contact(TODAY, date(2026, 1, 21), None, None),)
    assert found[FORGOTTEN].contacts == ()  # a skip is no contact


async def test_a_due_nudge_is_sent_once_and_only_the_first_tap_counts(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        await uow.nudges.record(GROUP, TODAY, [decision(DORMANT), decision(FORGOTTEN)], NOW)
        await uow.commit()
    at = local(TODAY, 20, 31)
    async with uow_factory() as uow:
        assert await uow.nudges.due(local(TODAY, 20, 29), 10) == []
        first, second = await uow.nudges.due(at, 10)
        assert await uow.nudges.mark_sent(
            first.id, kind=NudgeKind.LIGHT, template="light:0", event_id=None, now=at
        )
        assert not await uow.nudges.mark_sent(
            first.id, kind=NudgeKind.LIGHT, template="light:1", event_id=None, now=at
        )
        assert await uow.nudges.mark_skipped(second.id, SkipReason.OPTED_OUT)
        assert not await uow.nudges.mark_skipped(first.id, SkipReason.LATE)
        assert await uow.nudges.mark_clicked(first.id, at + timedelta(minutes=5))
        assert not await uow.nudges.mark_clicked(first.id, at + timedelta(minutes=9))
        assert await uow.nudges.mark_opted_out(first.id, at + timedelta(minutes=9))
        assert not await uow.nudges.mark_opted_out(first.id, at + timedelta(minutes=10))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.nudges.due(at, 10) == []
        sent = await uow.nudges.get(first.id)
        [skipped] = await uow.nudges.history(GROUP, FORGOTTEN)
    assert sent is not None
    assert (sent.status, sent.template, sent.sent_at) == (NudgeStatus.SENT, "light:0", at)
    assert (sent.clicked_at, sent.opted_out_at) == (
        at + timedelta(minutes=5),
        at + timedelta(minutes=9),
    )
    assert (skipped.status, skipped.reason) == (NudgeStatus.SKIPPED, SkipReason.OPTED_OUT)


async def test_a_member_who_takes_part_within_a_week_of_a_contact_returned(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    sent_at = local(TODAY, 20, 31)
    async with uow_factory() as uow:
        await uow.nudges.record(
            GROUP, TODAY, [decision(DORMANT), decision(NOT_STARTED, NudgeStatus.HELD_OUT)], NOW
        )
        [planned] = await uow.nudges.history(GROUP, DORMANT)
        [holdout] = await uow.nudges.history(GROUP, NOT_STARTED)
        await uow.nudges.mark_sent(
            planned.id, kind=NudgeKind.LIGHT, template="light:0", event_id=None, now=sent_at
        )
        assert await uow.nudges.mark_held_out(holdout.id, sent_at)
        assert not await uow.nudges.mark_held_out(holdout.id, sent_at)
        await uow.activity.add_many(
            [
                spoke(DORMANT, sent_at + timedelta(days=2), ActivityKind.JOIN),  # not taking part
                spoke(DORMANT, sent_at + timedelta(days=3)),
                spoke(DORMANT, sent_at + timedelta(days=4)),
                spoke(NOT_STARTED, sent_at + timedelta(days=7, hours=1)),  # too late
            ]
        )
        await uow.commit()
    later = sent_at + timedelta(days=7, hours=12)
    async with uow_factory() as uow:
        assert await uow.nudges.record_returns(later) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.nudges.record_returns(later) == 0
        [sent] = await uow.nudges.history(GROUP, DORMANT)
        [held_out] = await uow.nudges.history(GROUP, NOT_STARTED)
        assert await uow.nudges.active_on(
            GROUP, DORMANT, (sent_at + timedelta(days=3, hours=8)).date()
        )
        assert not await uow.nudges.active_on(GROUP, DORMANT, TODAY)
        outcomes = await uow.nudges.outcomes(GROUP, TODAY, later)
    assert sent.returned_at == sent_at + timedelta(days=3)
    assert held_out.returned_at is None
    [light] = outcomes.by_kind
    assert (light.kind, light.contacts, light.matured, light.returned) == (NudgeKind.LIGHT, 1, 1, 1)
    assert outcomes.holdout.contacts == outcomes.holdout.matured == 1
    assert outcomes.holdout.returned == 0


async def test_outcomes_count_contacts_whose_window_is_open_but_not_as_matured(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    capped = decision(FORGOTTEN, NudgeStatus.SKIPPED, reason=SkipReason.DAILY_CAP)
    async with uow_factory() as uow:
        await uow.nudges.record(
            GROUP,
            TODAY,
            [decision(DORMANT), decision(NOT_STARTED, NudgeStatus.HELD_OUT), capped],
            NOW,
        )
        await uow.commit()
        outcomes = await uow.nudges.outcomes(GROUP, TODAY, local(TODAY, 22))
    assert outcomes.by_kind == ()
    assert outcomes.planned == 1  # the nudge; the holdout's contact is not yet due
    assert outcomes.holdout.contacts == 0
    assert outcomes.skipped == {SkipReason.DAILY_CAP: 1}


def contact(
    member_id: int, days_ago: int, *, held_out: bool = False, returned_after: int | None = None
) -> NudgeRow:
    """A light nudge sent (or a holdout contact confirmed) ``days_ago`` before NOW."""
    at = NOW - timedelta(days=days_ago)
    return NudgeRow(
        community_id=GROUP,
        member_id=member_id,
        planned_on=(at + timedelta(hours=8)).date(),
        episode=at.date() - timedelta(days=30),
        step=1,
        status=(NudgeStatus.HELD_OUT if held_out else NudgeStatus.SENT).value,
        kind=None if held_out else NudgeKind.LIGHT.value,
        decided_at=at - timedelta(hours=6),
        due_at=at,
        sent_at=at,
        returned_at=None if returned_after is None else at + timedelta(days=returned_after),
    )


async def test_only_contacts_whose_window_is_over_count_and_each_member_once(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        for row in (
            contact(DORMANT, 100, held_out=True),  # before the 90 days
            contact(DORMANT, 20, returned_after=1),
            contact(DORMANT, 10),  # contacted twice in the period, came back once
            contact(NOT_STARTED, 9, held_out=True),
            contact(NOT_STARTED, 2, returned_after=1),  # came back, but within the 7 days
            contact(STEADY, 2),  # within the 7 days, not back yet: waiting
            contact(LEFT, 3, held_out=True, returned_after=1),  # back early: waiting too
            contact(FORGOTTEN, 8, held_out=True, returned_after=2),
        ):
            uow.session.add(row)
        await uow.commit()
    async with uow_factory() as uow:
        outcomes = await uow.nudges.outcomes(GROUP, TODAY - timedelta(days=89), NOW)

    # contacts: DORMANT's two have matured (one returned); NOT_STARTED's and STEADY's wait
    assert outcomes.by_kind == (KindOutcome(NudgeKind.LIGHT, 4, 2, 1, 0, 0),)
    assert outcomes.holdout == KindOutcome(None, 3, 2, 1, 0, 0)  # LEFT's waits
    # members: DORMANT nudged and back, STEADY waiting; NOT_STARTED held out first and not
    # back within a matured contact, FORGOTTEN back, LEFT waiting
    assert outcomes.members == MemberReturns(
        nudged=ReturnRate(matured=1, returned=1, waiting=1),
        holdout=ReturnRate(matured=2, returned=1, waiting=1),
    )


async def test_settings_preferences_and_templates_are_kept_per_community_and_member(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        assert await uow.nudges.settings(GROUP) == NudgeSettings()
        assert await uow.nudges.preference(DORMANT) == NudgePreference()
        await uow.nudges.claim_plan(GROUP, TODAY, NOW)
        await uow.nudges.save_settings(GROUP, NudgeSettings(paused=True, daily_cap=3), NOW)
        await uow.nudges.set_preference(DORMANT, NudgePreference(True, QuietHours(23, 7)), NOW)
        first = await uow.nudges.add_template(
            GROUP, NudgeTemplate(0, NudgeKind.LIGHT, "Hi {name}"), 7, NOW
        )
        second = await uow.nudges.add_template(
            GROUP, NudgeTemplate(0, NudgeKind.COMEBACK, "{bonus} for you"), 7, NOW
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.nudges.settings(GROUP) == NudgeSettings(paused=True, daily_cap=3)
        assert not await uow.nudges.claim_plan(GROUP, TODAY, NOW)  # saving kept the day
        assert await uow.nudges.preference(DORMANT) == NudgePreference(True, QuietHours(23, 7))
        assert await uow.nudges.remove_template(GROUP, first)
        assert not await uow.nudges.remove_template(GROUP, first)
        assert await uow.nudges.templates(GROUP) == [
            NudgeTemplate(second, NudgeKind.COMEBACK, "{bonus} for you")
        ]
