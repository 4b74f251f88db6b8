"""Forgetting a member on the real database: their personal data goes, nobody else's does,
and every figure built from the ledger, the activity and the events reads the same."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from hearth.domain.activity import PARTICIPATION_KINDS, ActivityKind, ActivityRecord
from hearth.domain.delivery import OutboxStatus, OutgoingMessage
from hearth.domain.events import EventDraft
from hearth.domain.greetings import Birthday
from hearth.domain.lifecycle import LifecycleRules
from hearth.domain.members import ChatRole, CommunityProfile, Person
from hearth.domain.points import EntryKind, PointsRules
from hearth.handlers.segments_texts import short_name
from hearth.services import points, privacy
from hearth.services.directory import Directory
from hearth.services.engagement_recompute import recompute
from hearth.storage import tables
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.events import FeedbackRow
from hearth.storage.outbox import OutboxRow
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
ALICE, BORIS = 101, 102
DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = DAY + timedelta(days=1)
CLUB = CommunityProfile(
    id=GROUP,
    title="Owners",
    timezone="UTC",
    locale="en",
    active=True,
    bot_is_admin=True,
    welcome_enabled=True,
)


async def club(uow_factory: UnitOfWorkFactory) -> int:
    """Alice and Boris each: a name, a birthday, greetings on, an operator tag, points, a
    week of activity, an attended event rated with a comment, one delivered and one queued
    private message. In the group: a quiz's results naming both, and a piece of news. The
    stages were recomputed. Returns the event's id."""
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=DAY)
        event = await uow.events.add(
            GROUP,
            EventDraft("Drive", "Along the river", "Car park", DAY, DAY + timedelta(hours=2),
                       None, DAY, 10),
            code="DRIVE1",
            actor_id=None,
            now=DAY,
        )  # fmt: skip
        assert event is not None
        for member_id, name in ((ALICE, "Alice"), (BORIS, "Boris")):
            await uow.members.upsert(
                Person(member_id, name, "Lee", name.lower(), language_code="en"), DAY
            )
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=DAY)
            await uow.greetings.set_birthday(member_id, Birthday(5, 17), DAY)
            await uow.greetings.set_greetings(member_id, [GROUP], True, DAY)
            await uow.tags.add(GROUP, member_id, ["vip"], actor_id=7, now=DAY)
            await points.credit(
                uow,
                community_id=GROUP,
                member_id=member_id,
                amount=40,
                kind=EntryKind.EARN,
                reason="checkin",
                key=f"test:{member_id}",
                now=DAY,
                timezone="UTC",
                rules=PointsRules(),
            )
            await uow.activity.add_many(
                ActivityRecord(GROUP, member_id, ActivityKind.MESSAGE, at, at.date())
                for at in (DAY - timedelta(days=days) for days in range(7))
            )
            await uow.events.attend(event.id, member_id, DAY)
            await uow.events.save_feedback(
                event.id, member_id, DAY, rating=4, recommend=8, comment=f"{name} liked it"
            )
            for key in ("sent", "queued"):
                await uow.outbox.add(private_message(f"{key}:{member_id}", member_id, name), DAY)
            [delivered] = [
                m for m in await uow.outbox.due(DAY, 10) if m.dedupe_key.startswith("sent")
            ]
            await uow.outbox.claim(delivered.id, DAY)
            await uow.outbox.sent(delivered.id, DAY, 1)
        for key, text in (
            ("quiz", "The quiz is over! 🥇 Alice: 15 points 🥈 Boris: 10 points"),
            ("news", "Spring drive on Saturday!"),
        ):
            group_message = OutgoingMessage(key, GROUP, {"text": text}, "quiz", community_id=GROUP)
            await uow.outbox.add(group_message, DAY)
        for delivered in await uow.outbox.due(DAY, 10):
            if delivered.chat_id == GROUP:
                await uow.outbox.claim(delivered.id, DAY)
                await uow.outbox.sent(delivered.id, DAY, 2)
        await recompute(uow, CLUB, DAY.date(), LifecycleRules())
        # interests the recompute would find (the quiz topics mastered, the events attended)
        await uow.session.execute(update(MembershipStageRow).values(tags=["engines", "drives"]))
        await uow.commit()
    return event.id


def private_message(key: str, member_id: int, name: str) -> OutgoingMessage:
    return OutgoingMessage(
        dedupe_key=key,
        chat_id=member_id,
        payload={"text": f"Happy birthday, {name}!"},
        kind="greeting",
        community_id=GROUP,
        member_id=member_id,
    )


async def forget_alice(uow_factory: UnitOfWorkFactory, directory: Directory) -> privacy.Erasure:
    async with uow_factory() as uow:
        erasure = await privacy.forget(
            uow,
            directory,
            member_id=ALICE,
            anonymous_name="Former member",
            actor_id=ALICE,
            community_id=None,
            now=LATER,
        )
        await uow.commit()
    return erasure


async def personal_data(uow_factory: UnitOfWorkFactory, member_id: int) -> dict[str, Any]:
    """What Hearth holds about the member that says who they are or what they wrote."""
    async with uow_factory() as uow:
        row = await uow.session.get(tables.Member, member_id)
        assert row is not None
        stage = await uow.session.get(MembershipStageRow, (GROUP, member_id))
        comments = await uow.session.scalars(
            select(FeedbackRow.comment).where(FeedbackRow.member_id == member_id)
        )
        outbox = await uow.session.scalars(
            select(OutboxRow).where(OutboxRow.member_id == member_id)
        )
        return {
            "names": (row.first_name, row.last_name, row.username, row.language_code),
            "forgotten": row.forgotten_at is not None,
            "birthday": await uow.greetings.birthday(member_id),
            "greetings": await uow.greetings.greetings_on(member_id),
            "operator_tags": await uow.tags.of_member(GROUP, member_id),
            "automatic_tags": None if stage is None else list(stage.tags),
            "comments": list(comments),
            "messages": sorted((m.status, json.loads(m.payload).get("text")) for m in outbox),
        }


async def group_messages(uow_factory: UnitOfWorkFactory) -> list[str | None]:
    """The text of every message the bot sent to the group, as stored, by key."""
    async with uow_factory() as uow:
        sent = await uow.session.scalars(
            select(OutboxRow).where(OutboxRow.chat_id == GROUP).order_by(OutboxRow.dedupe_key)
        )
        return [json.loads(row.payload).get("text") for row in sent]


async def aggregates(uow_factory: UnitOfWorkFactory, event_id: int) -> dict[str, Any]:
    """The figures reports, boards and the recompute are built from."""
    async with uow_factory() as uow:
        return {
            "balances": [await uow.points.balance(GROUP, m) for m in (ALICE, BORIS)],
            "ledger_sums": [await uow.points.ledger_sum(GROUP, m) for m in (ALICE, BORIS)],
            "by_kind": await uow.points.totals_by_kind(GROUP),
            "outstanding": await uow.points.outstanding(GROUP),
            "active": await uow.activity.daily_members(
                GROUP, date(2026, 2, 20), date(2026, 3, 3), PARTICIPATION_KINDS
            ),
            "attendees": await uow.events.attendees(event_id),
            "ratings": sorted((r, n) for r, n, _ in await uow.events.feedback(event_id)),
            "outbox": await uow.outbox.counts(GROUP),
            "stages": await uow.engagement.stage_states(GROUP),
        }


async def test_forgetting_erases_the_members_personal_data(uow_factory: UnitOfWorkFactory) -> None:
    await club(uow_factory)

    erasure = await forget_alice(uow_factory, Directory())

    assert await personal_data(uow_factory, ALICE) == {
        "names": ("Former member", None, None, None),
        "forgotten": True,
        "birthday": None,
        "greetings": False,
        "operator_tags": [],
        "automatic_tags": [],
        "comments": [None],
        # delivered: blanked; still queued: delivered as planned
        "messages": [
            (OutboxStatus.QUEUED.value, "Happy birthday, Alice!"),
            (OutboxStatus.SENT.value, None),
        ],
    }
    assert erasure == privacy.Erasure(
        member=1,
        birthday=1,
        greeting_opt_ins=1,
        operator_tags=1,
        automatic_tags=1,
        feedback_comments=1,
        nudge_preference=0,
        nudges=0,
        messages=1,
        mentions=1,
    )
    assert await group_messages(uow_factory) == ["Spring drive on Saturday!", None]


async def test_nobody_elses_data_is_touched(uow_factory: UnitOfWorkFactory) -> None:
    await club(uow_factory)
    before = await personal_data(uow_factory, BORIS)

    await forget_alice(uow_factory, Directory())

    assert await personal_data(uow_factory, BORIS) == before
    assert before["names"] == ("Boris", "Lee", "boris", "en")
    assert before["automatic_tags"] == ["engines", "drives"]


async def test_every_figure_reads_the_same_after_forgetting(
    uow_factory: UnitOfWorkFactory,
) -> None:
    event_id = await club(uow_factory)
    before = await aggregates(uow_factory, event_id)

    await forget_alice(uow_factory, Directory())

    after = await aggregates(uow_factory, event_id)
    assert after == before
    assert after["balances"] == after["ledger_sums"] == [40, 40]


async def test_forgetting_twice_changes_nothing_more_and_is_audited_each_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)
    await forget_alice(uow_factory, Directory())
    once = await personal_data(uow_factory, ALICE)

    again = await forget_alice(uow_factory, Directory())

    assert await personal_data(uow_factory, ALICE) == once
    assert (again.birthday, again.operator_tags, again.feedback_comments, again.messages) == (
        0,
        0,
        0,
        0,
    )
    async with uow_factory() as uow:
        audits = [
            (audit.actor_id, audit.details["member_id"], audit.details["requested_by"])
            for audit in await uow.session.scalars(
                select(tables.AuditLog).where(tables.AuditLog.action == privacy.AUDIT_ACTION)
            )
        ]
    assert audits == [
        (ALICE, ALICE, "member"),
        (ALICE, ALICE, "member"),
    ]


async def test_the_cached_profile_is_dropped_only_once_the_erasure_is_committed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)
    directory = Directory()
    async with uow_factory() as uow:
        alice = await uow.members.get(ALICE)
    assert alice is not None
    directory.remember_member(alice)

    async with uow_factory() as uow:  # left without commit: nothing happened
        await privacy.forget(
            uow,
            directory,
            member_id=ALICE,
            anonymous_name="Former member",
            actor_id=ALICE,
            community_id=None,
            now=LATER,
        )
    assert directory.member(ALICE) == alice
    assert (await personal_data(uow_factory, ALICE))["names"][0] == "Alice"

    await forget_alice(uow_factory, directory)

    assert directory.member(ALICE) is None


async def test_a_digest_naming_a_long_or_html_like_name_is_blanked_too(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)
    name = "Ann & the Lakeside Night Drivers of Pudong"  # cut short where lists name her
    async with uow_factory() as uow:
        await uow.members.upsert(Person(ALICE, name, None, "night_owl_77"), LATER)
        digest = OutgoingMessage(
            "digest:alice",
            7,
            {"text": f"<b>Moved into “At risk” (1)</b>\n⭐ {short_name(name)} — At risk"},
            "digest",
            community_id=GROUP,
            member_id=7,
        )
        await uow.outbox.add(digest, LATER)
        [queued] = [m for m in await uow.outbox.due(LATER, 10) if m.dedupe_key == "digest:alice"]
        await uow.outbox.claim(queued.id, LATER)
        await uow.outbox.sent(queued.id, LATER, 3)
        await uow.commit()
    shown = "Ann &amp; the Lakeside Night Driver… — At risk"
    assert shown in str(await operator_digest(uow_factory))

    await forget_alice(uow_factory, Directory())

    assert await operator_digest(uow_factory) is None


async def operator_digest(uow_factory: UnitOfWorkFactory) -> str | None:
    async with uow_factory() as uow:
        [row] = await uow.session.scalars(select(OutboxRow).where(OutboxRow.chat_id == 7))
        text = json.loads(row.payload).get("text")
        return None if text is None else str(text)


async def test_the_nightly_recompute_gives_a_forgotten_member_no_tags_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)
    await forget_alice(uow_factory, Directory())
    async with uow_factory() as uow:  # both keep taking part, every morning
        await uow.activity.add_many(
            ActivityRecord(GROUP, member_id, ActivityKind.REACTION, at, at.date())
            for member_id in (ALICE, BORIS)
            for at in (LATER - timedelta(days=days, hours=1) for days in range(12))
        )
        await recompute(uow, CLUB, LATER.date(), LifecycleRules())
        await uow.commit()

    assert (await personal_data(uow_factory, ALICE))["automatic_tags"] == []
    assert "morning" in (await personal_data(uow_factory, BORIS))["automatic_tags"]
