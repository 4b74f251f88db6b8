"""The weekly digest: once per operator and week, only to operators who can be written to,
nothing when a community turned it off; its text and charts reach Telegram.

The whole path runs for real: the job composes the digest, the bot-level sender queues it
in the outbox with the charts stored as attachments, and the delivery worker sends it to
the local Bot API stand-in over HTTP, which keeps the bytes of every uploaded photo.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from hearth.bot.app import Hearth, build_hearth
from hearth.bot.digest import write_digest_charts
from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.calendar import local_day
from hearth.domain.events import EventDraft
from hearth.domain.members import ChatRole, Person
from hearth.domain.schedules import schedule_from_spec
from hearth.scheduler import jobs
from hearth.services import communities, digest
from hearth.services.directory import Directory
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.clock import VirtualClock
from hearth.storage.attachments import AttachmentRow
from hearth.storage.engagement import MembershipStageRow, StageChangeRow
from hearth.storage.outbox import OutboxRow
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import fresh_schema, make_settings
from tests.telegram import TOKEN

GROUP = -1001000000001
SHANGHAI = "Asia/Shanghai"
OLGA, ADAM, NED = 7, 8, 9  # a configured operator; chat admins who did and did not /start
ALICE, BOB, CAROL, DAVE = 101, 102, 103, 104
MONDAY_NINE = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 on Monday in Shanghai
TODAY = date(2026, 3, 9)
WEEKLY = schedule_from_spec("mon 09:00")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn(token=TOKEN) as stand_in:
        stand_in.set_admins(
            GROUP,
            [
                {"id": ADAM, "first_name": "Adam", "status": "creator"},
                {"id": NED, "first_name": "Ned"},
                {"id": 555, "first_name": "Helper", "is_bot": True},
            ],
        )
        yield stand_in


def hearth_on(api: BotApiStandIn, sqlite_url: str, clock: VirtualClock) -> Hearth:
    """A Hearth that talks to the stand-in; its scheduler is off: the tests run the job."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
    return build_hearth(make_settings(sqlite_url, operator_ids="7"), clock=clock, session=session)


@pytest.fixture
async def hearth(api: BotApiStandIn, sqlite_url: str) -> AsyncIterator[Hearth]:
    hearth = hearth_on(api, sqlite_url, VirtualClock(MONDAY_NINE))
    await fresh_schema(hearth.engine)
    await seed(hearth.uow_factory)
    yield hearth
    await close(hearth)


async def close(hearth: Hearth) -> None:
    await hearth.engine.dispose()
    await hearth.bot.session.close()


def at(hours: float, day: date) -> datetime:
    """``hours`` past local midnight of ``day`` in Shanghai, as UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours - 8)


async def seed(uow_factory: UnitOfWorkFactory) -> None:
    """Owners (Shanghai): Olga and Adam started the bot, Ned never did. This week Alice
    (high value) and Bob moved into "at risk", Carol into "can't lose" a month ago, and
    Dave became declining; a meet-up comes on Thursday, another in two weeks."""
    start = at(10, date(2026, 1, 5))
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone=SHANGHAI, locale="en", now=start)
        names = {OLGA: "Olga", ADAM: "Adam", NED: "Ned", ALICE: "Alice", BOB: "Bob"}
        names |= {CAROL: "Carol", DAVE: "Dave"}
        for member_id, name in names.items():
            await uow.members.upsert(Person(member_id, name), start)
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=start)
        for member_id in (OLGA, ADAM):
            await uow.members.update(member_id, started_bot=True)
        await uow.activity.add_many(
            ActivityRecord(GROUP, member_id, ActivityKind.MESSAGE, at(12, day), day)
            for member_id, day in [
                (ALICE, date(2026, 3, 3)),
                (BOB, date(2026, 3, 3)),
                (BOB, date(2026, 3, 5)),
                (DAVE, date(2026, 2, 20)),
            ]
        )
        uow.session.add_all(
            [
                standing(ALICE, "at_risk", date(2026, 3, 5), high_value=True),
                standing(BOB, "at_risk", date(2026, 3, 7)),
                standing(CAROL, "cant_lose", date(2026, 2, 6)),
                standing(DAVE, "needs_attention", date(2026, 2, 1), stage="declining"),
                StageChangeRow(
                    community_id=GROUP,
                    member_id=DAVE,
                    old_stage="mature",
                    new_stage="declining",
                    changed_on=date(2026, 3, 6),
                ),
            ]
        )
        for title, day in (("Spring drive", date(2026, 3, 12)), ("Track day", date(2026, 3, 21))):
            draft = meetup(title, at(10, day))
            await uow.events.add(GROUP, draft, code=title[:4], actor_id=None, now=start)
        await uow.commit()


def standing(
    member_id: int, segment: str, since: date, *, high_value: bool = False, stage: str = "mature"
) -> MembershipStageRow:
    return MembershipStageRow(
        community_id=GROUP,
        member_id=member_id,
        stage=stage,
        since=date(2026, 1, 5),
        computed_on=TODAY,
        recency_score=2,
        frequency_score=4,
        value_score=5 if high_value else 3,
        segment=segment,
        segment_since=since,
        high_value=high_value,
    )


def meetup(title: str, starts_at: datetime) -> EventDraft:
    return EventDraft(
        title=title,
        description="",
        place="Pudong",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        capacity=None,
        registration_deadline=starts_at,
        points=10,
    )


async def run_job(hearth: Hearth, when: datetime = MONDAY_NINE) -> int:
    hearth.clock.set(when)  # type: ignore[attr-defined]
    return await jobs.weekly_digests(hearth.uow_factory, hearth.digests, hearth.clock, WEEKLY)


def texts_to(api: BotApiStandIn, chat_id: int) -> list[str]:
    return [
        str(call.params["text"])
        for call in api.calls_of("sendMessage")
        if call.params["chat_id"] == chat_id
    ]


async def outbox_keys(hearth: Hearth) -> list[str]:
    async with hearth.uow_factory() as uow:
        return sorted(await uow.session.scalars(select(OutboxRow.dedupe_key)))


async def test_each_operator_who_started_the_bot_gets_the_digest_once_with_three_png_charts(
    hearth: Hearth, api: BotApiStandIn, sqlite_url: str
) -> None:
    assert await run_job(hearth) == 2  # Olga (configured) and Adam (chat admin)
    assert await run_job(hearth) == 0  # the job ran twice: nothing more
    await hearth.delivery.drain()

    for operator in (OLGA, ADAM):
        [text] = texts_to(api, operator)
        assert "Weekly digest of Owners" in text
        assert "2026-03-02 – 2026-03-08" in text
        photos = [call for call in api.calls_of("sendPhoto") if call.params["chat_id"] == operator]
        assert len(photos) == 3
        assert all(photo.uploads["photo"].startswith(PNG) for photo in photos)
        assert [photo.params["caption"] for photo in photos] == [
            "Owners: members active per day, last 8 weeks",
            "Owners: members by lifecycle stage, last 8 weeks",
            "Owners: retention of the last 8 join weeks",
        ]
    assert api.delivered_to(NED) == []  # an admin who never started the bot
    assert api.delivered_to(555) == []  # nor a bot among the admins

    # A restart: a new process on the same database runs the job again.
    again = hearth_on(api, sqlite_url, VirtualClock(MONDAY_NINE + timedelta(minutes=15)))
    try:
        assert await run_job(again, MONDAY_NINE + timedelta(minutes=15)) == 0
    finally:
        await close(again)
    assert len(api.calls_of("sendMessage")) == 2
    assert len(api.calls_of("sendPhoto")) == 6


async def test_the_digest_names_who_needs_attention_and_what_comes_up(
    hearth: Hearth, api: BotApiStandIn
) -> None:
    await run_job(hearth)
    await hearth.delivery.drain()

    [text] = texts_to(api, OLGA)
    watched = text.split("Moved into")[1].split("Became")[0]
    assert "(2)" in watched
    assert watched.index("⭐ Alice — At risk") < watched.index("Bob — At risk")
    assert "Carol" not in text  # moved a month ago: not this week's news
    assert "<b>Became “Declining” (1)</b>\nDave" in text
    assert "2026-03-12 10:00 — Spring drive (0 going)" in text
    assert "Track day" not in text  # in more than a week


async def test_a_long_list_names_the_first_ten_and_counts_the_rest(
    hearth: Hearth, api: BotApiStandIn
) -> None:
    async with hearth.uow_factory() as uow:
        for index in range(12):
            member_id = 2_000 + index
            await uow.members.upsert(Person(member_id, f"Member {index:02d}"), MONDAY_NINE)
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=MONDAY_NINE)
            uow.session.add(standing(member_id, "cant_lose", date(2026, 3, 8)))
        await uow.commit()

    async with hearth.uow_factory() as uow:
        community = await uow.communities.get(GROUP)
        assert community is not None
        composed = await digest.compose(uow, community, TODAY, MONDAY_NINE)

    assert composed.watched.total == 14
    assert [member.name for member in composed.watched.members][:1] == ["Alice"]  # high value
    assert len(composed.watched.members) == digest.LISTED
    assert composed.watched.more == 4
    await run_job(hearth)
    await hearth.delivery.drain()
    [text, *_] = [call.params["text"] for call in api.calls_of("sendMessage")]
    assert "… and 4 more" in text


async def test_operators_who_cannot_be_written_to_are_skipped(
    hearth: Hearth, api: BotApiStandIn
) -> None:
    async with hearth.uow_factory() as uow:
        await uow.members.update(OLGA, reachable=False)  # she blocked the bot
        await uow.commit()

    assert await run_job(hearth) == 1
    await hearth.delivery.drain()

    assert {call.params["chat_id"] for call in api.calls} & {OLGA, NED} == set()
    assert len(api.delivered_to(ADAM)) == 4  # the text and three charts


async def test_a_community_that_turned_the_digest_off_gets_nothing(
    hearth: Hearth, api: BotApiStandIn
) -> None:
    async with hearth.uow_factory() as uow:
        await communities.set_digest(
            uow, Directory(), community_id=GROUP, enabled=False, actor_id=OLGA, now=MONDAY_NINE
        )
        await uow.commit()

    assert await run_job(hearth) == 0
    await hearth.delivery.drain()

    assert await outbox_keys(hearth) == []
    assert api.delivered == []
    async with hearth.uow_factory() as uow:
        assert list(await uow.session.scalars(select(AttachmentRow.id))) == []


async def test_the_digest_waits_for_its_local_time_and_comes_again_next_week(
    hearth: Hearth,
) -> None:
    assert await run_job(hearth, MONDAY_NINE - timedelta(minutes=15)) == 0  # 08:45
    assert await run_job(hearth, MONDAY_NINE + timedelta(hours=5)) == 2  # late, same day
    assert await run_job(hearth, MONDAY_NINE + timedelta(days=7)) == 2

    assert [key for key in await outbox_keys(hearth) if key.count(":") == 3] == [
        f"digest:{GROUP}:{OLGA}:2026-W11",
        f"digest:{GROUP}:{OLGA}:2026-W12",
        f"digest:{GROUP}:{ADAM}:2026-W11",
        f"digest:{GROUP}:{ADAM}:2026-W12",
    ]


async def test_a_run_missed_by_more_than_a_day_waits_for_next_week(hearth: Hearth) -> None:
    assert await run_job(hearth, MONDAY_NINE + timedelta(days=1, minutes=15)) == 0


async def test_the_job_purges_charts_older_than_thirty_days(hearth: Hearth) -> None:
    async with hearth.uow_factory() as uow:
        old = await uow.attachments.add("old.png", PNG, MONDAY_NINE - timedelta(days=31))
        kept = await uow.attachments.add("kept.png", PNG, MONDAY_NINE - timedelta(days=29))
        await uow.commit()

    await run_job(hearth, MONDAY_NINE - timedelta(hours=1))  # not due: purges all the same

    async with hearth.uow_factory() as uow:
        assert await uow.attachments.get(old) is None
        assert await uow.attachments.get(kept) == ("kept.png", PNG)


async def test_the_simulation_can_write_the_three_charts_as_png_files(
    hearth: Hearth, tmp_path: Path
) -> None:
    async with hearth.uow_factory() as uow:
        community = await uow.communities.get(GROUP)
        assert community is not None
        paths = await write_digest_charts(
            uow, community, local_day(MONDAY_NINE, SHANGHAI), tmp_path / "charts"
        )

    assert [path.name for path in paths] == [
        "digest-active.png",
        "digest-stages.png",
        "digest-cohorts.png",
    ]
    assert all(path.read_bytes().startswith(PNG) for path in paths)


async def test_members_per_stage_each_day_follow_their_latest_change(hearth: Hearth) -> None:
    moves = [
        (ALICE, "new", date(2026, 1, 20)),
        (ALICE, "growing", date(2026, 2, 10)),
        (ALICE, "mature", date(2026, 3, 5)),
        (BOB, "mature", date(2025, 12, 1)),  # before the charts' first day
        (BOB, "dormant", date(2026, 3, 9)),  # today: not in the charts yet
        (CAROL, "declining", date(2026, 2, 1)),
        (CAROL, "churned", date(2026, 2, 20)),
    ]
    async with hearth.uow_factory() as uow:
        uow.session.add_all(
            StageChangeRow(community_id=GROUP, member_id=member, new_stage=stage, changed_on=on)
            for member, stage, on in moves
        )
        await uow.commit()

    async with hearth.uow_factory() as uow:
        community = await uow.communities.get(GROUP)
        assert community is not None
        series = await digest.chart_series(uow, community, TODAY)

    def on(month: int, number: int) -> dict[str, int]:
        return {
            stage.value: count for stage, count in series.stages[date(2026, month, number)].items()
        }

    assert series.days[0] == date(2026, 1, 12)
    assert series.days[-1] == date(2026, 3, 8)
    assert on(1, 12) == {"mature": 1}
    assert on(1, 20) == {"mature": 1, "new": 1}
    assert on(2, 10) == {"mature": 1, "growing": 1, "declining": 1}
    assert on(2, 20) == {"mature": 1, "growing": 1, "churned": 1}
    assert on(3, 6) == {"mature": 2, "churned": 1, "declining": 1}  # Dave since 6 March
    assert on(3, 8) == on(3, 6)
    assert series.active[-7:] == [0, 2, 0, 1, 0, 0, 0]  # 2-8 March
