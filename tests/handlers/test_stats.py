"""/stats: every figure against the period before, periods, refusals, the community picker."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hearth.domain.events import EventDraft
from hearth.domain.lifecycle import Stage, StageChange
from hearth.domain.points import EntryKind
from hearth.services import points
from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    DAVE,
    GROUP_ID,
    NOW,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    THIRD_GROUP,
    THIRD_GROUP_ID,
    admins,
    at,
    bot_serves_group,
    buttons,
    callback_answers,
    credits,
    joins,
    leaves,
    presses,
    said,
    says_privately,
)
from tests.telegram_html import html_problem

EVE = updates.user(105, "Eve")
FRANK = updates.user(106, "Frank")
GINA = updates.user(107, "Gina")
NOT_AN_OPERATOR = "This command is for the community's operators."
USAGE = "Usage: /stats, /stats 7d, /stats 30d or /stats 90d"
PRIVACY_WARNING = "I am not an administrator here"
TODAY = NOW + timedelta(days=13)  # Sunday 15 March; the bot came on Monday 2 March


def day(number: int, hour: int = 9) -> datetime:
    """``hour`` o'clock on ``number`` March 2026 (the group's time zone is UTC)."""
    return NOW.replace(day=number, hour=hour)


async def churned_on(bot: BotHarness, person: updates.JsonDict, on: date) -> None:
    """The nightly recompute moved ``person`` to the churned stage on ``on``."""
    async with bot.uow() as uow:
        change = StageChange(Stage.DORMANT, Stage.CHURNED, on)
        await uow.engagement.add_changes(GROUP_ID, [(int(person["id"]), change)])
        await uow.commit()


async def event_attended_by(
    bot: BotHarness, moment: datetime, *people: updates.JsonDict, community_id: int = GROUP_ID
) -> None:
    """An event at ``moment`` where each of ``people`` checked in on site."""
    async with bot.uow() as uow:
        draft = EventDraft(
            title="Meet-up",
            description="",
            place="Lakeside",
            starts_at=moment,
            ends_at=moment + timedelta(hours=2),
            capacity=None,
            registration_deadline=moment,
            points=0,
        )
        event = await uow.events.add(
            community_id,
            draft,
            code=f"E{moment:%d%H}{community_id % 100}",
            actor_id=None,
            now=moment,
        )
        assert event is not None
        for person in people:
            await uow.events.attend(event.id, int(person["id"]), moment)
        await uow.commit()


async def redeems(bot: BotHarness, person: updates.JsonDict, amount: int, moment: datetime) -> None:
    """``person`` spends ``amount`` points on a reward at ``moment``."""
    async with bot.uow() as uow:
        await points.debit(
            uow,
            community_id=GROUP_ID,
            member_id=int(person["id"]),
            amount=amount,
            kind=EntryKind.SPEND,
            reason="reward",
            key=f"test-redeem:{person['id']}:{moment.isoformat()}",
            now=moment,
        )
        await uow.commit()


def everything_sent(bot: BotHarness) -> list[str]:
    """The text of every message, edit, answer or caption the bot sent, to anyone."""
    return [
        str(call.params.get("text") or call.params.get("caption") or "")
        for call in bot.session.calls
        if call.method.startswith(("send", "edit", "answer"))
    ]


async def checks_in(bot: BotHarness, person: updates.JsonDict, *days: int) -> None:
    """``person`` sends /checkin in the group on each of these March days."""
    for number in days:
        await at(bot, day(number), said(person, "/checkin", day(number)))


async def a_fortnight_in_the_group(bot: BotHarness) -> None:
    """Two weeks of the group: 2–8 March (the week before) and 9–15 March (this week).

    Before: Adam, Boris, Dave and Eve are there (seen on the 2nd); Alice joins and checks in
    at once, Frank joins and never does anything; Eve leaves on the 8th (and is marked
    churned the night after); Boris checks in three days running, Alice on the 2nd, 7th
    and 8th; Boris and Dave attend an event; Dave speaks on the 8th.
    This week: Carol joins and checks in, Gina joins on the 12th (her week is still open);
    Dave leaves; Frank is marked churned; Boris checks in 13–15, Alice 14–15; a fortnight's
    grant of 50 to Alice, Boris redeems 40; three of the members attend events (Alice twice).
    """
    await bot_serves_group(bot)
    await at(
        bot,
        day(2),
        said(ADMIN, "hi", day(2)),
        said(BORIS, "hi", day(2)),
        said(DAVE, "hi", day(2)),
        said(EVE, "hi", day(2)),
        joins(ALICE, day(2)),
    )
    await checks_in(bot, ALICE, 2)
    await checks_in(bot, BORIS, 2, 3, 4)
    await at(bot, day(3), joins(FRANK, day(3)))
    await event_attended_by(bot, day(5), BORIS, DAVE)
    await checks_in(bot, ALICE, 7, 8)
    await at(bot, day(8), said(DAVE, "hi", day(8)), leaves(EVE, day(8, 20)))
    await churned_on(bot, EVE, date(2026, 3, 9))

    await at(bot, day(9), joins(CAROL, day(9)))
    await checks_in(bot, CAROL, 9)
    await at(bot, day(10), leaves(DAVE, day(10)))
    await churned_on(bot, FRANK, date(2026, 3, 11))
    await at(bot, day(12), joins(GINA, day(12)))
    await checks_in(bot, BORIS, 13, 14, 15)
    await checks_in(bot, ALICE, 14, 15)
    await credits(bot, ALICE, 50, day(14), reason="prize")
    await redeems(bot, BORIS, 40, day(14, 12))
    await event_attended_by(bot, day(14), ALICE, BORIS, CAROL)
    await event_attended_by(bot, day(15, 7), ALICE)
    await bot.flush()
    bot.hearth.clock.set(TODAY)  # type: ignore[attr-defined]
    bot.session.clear()


async def test_stats_over_seven_days_give_every_figure_against_the_week_before(
    bot: BotHarness,
) -> None:
    await a_fortnight_in_the_group(bot)

    await bot.feed(said(ADMIN, "/stats", TODAY))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert reply.splitlines() == [
        "<b>Pudong Owners</b> — last 7 days",
        "Changes against the 7 days before",
        "",
        # Adam, Alice, Boris, Carol, Frank, Gina; a week ago Dave instead of Carol and Gina
        "Members now: 6 · ▲ 20%",
        "Joined: 2 · =",  # Carol, Gina; Alice, Frank
        "Left: 1 · =",  # Dave; Eve
        "Active per day (DAU): 0.9 · ▼ 40%",  # 6 member-days / 7; 10 / 7
        "Active in 7 days (WAU): 3 · ▼ 40%",  # Alice, Boris, Carol; Adam, Alice, Boris, Dave, Eve
        "Active in 30 days (MAU): 6 · ▲ 20%",  # Carol too; a week ago 5
        "Stickiness (DAU / MAU): 14% · ▼ 14 pts",  # 0.86 / 6; 1.43 / 5
        "Newcomers activated: 100% (1/1) · ▲ 50 pts",  # Carol (Gina pending); Alice, not Frank
        "Check-in rate (daily): 14% · ▼ 3 pts",  # 6 check-ins / 7 days / 6; 6 / 7 / 5
        "Churn rate: 40% (2/5) · ▲ 15 pts",  # Dave left, Frank churned; Eve of 4
        "Median streak (days): 2.5 · ▲ 25%",  # Alice 2, Boris 3; Alice 2 (Boris's broke)
        "Points issued: 140 · ▲ 27%",  # 90 for check-ins + 50; 110 for check-ins
        "Points redeemed: 40 · —",  # nothing the week before: no change to tell
        "Event attendances: 4 · ▲ 100%",  # Alice twice, Boris, Carol; Boris, Dave
        "Event participation: 50% (3/6) · ▲ 10 pts",  # 3 of 6 members; 2 of 5
        "Reachable in private (started the bot): 0",
    ]


async def test_stats_over_thirty_days_tell_no_change_from_before_the_bot_came(
    bot: BotHarness,
) -> None:
    await a_fortnight_in_the_group(bot)

    await bot.feed(said(ADMIN, "/stats 30d", TODAY))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert reply.splitlines() == [
        "<b>Pudong Owners</b> — last 30 days",
        "Changes against the 30 days before",
        "",
        "Members now: 6 · —",
        "Joined: 4 · —",  # Alice, Frank, Carol, Gina
        "Left: 2 · —",
        "Active per day (DAU): 0.5 · —",  # 16 member-days / 30
        "Active in 7 days (WAU): 3 · —",
        "Active in 30 days (MAU): 6 · —",
        "Stickiness (DAU / MAU): 9% · —",
        "Newcomers activated: 67% (2/3) · —",  # Alice and Carol, not Frank; Gina pending
        "Check-in rate (daily): 7% · —",  # 12 / 30 / 6
        "Churn rate: 75% (3/4) · —",  # Eve, Dave, Frank of the 4 there on 14 February
        "Median streak (days): 2.5 · —",
        "Points issued: 250 · —",
        "Points redeemed: 40 · —",
        "Event attendances: 6 · —",
        "Event participation: 67% (4/6) · —",
        "Reachable in private (started the bot): 0",
    ]


async def test_stats_over_ninety_days_compare_with_the_ninety_before(bot: BotHarness) -> None:
    await a_fortnight_in_the_group(bot)

    await bot.feed(said(ADMIN, "/stats 90d", TODAY))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert reply.splitlines()[:2] == [
        "<b>Pudong Owners</b> — last 90 days",
        "Changes against the 90 days before",
    ]
    assert "Active in 30 days (MAU): 6 · —" in reply.splitlines()


async def test_stats_with_a_period_it_does_not_know_answers_the_usage(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    for argument in ("5x", "14d", "week", "7d 30d", "-7d"):
        await bot.feed(said(ADMIN, f"/stats {argument}"))

    assert bot.session.texts_to(GROUP_ID) == [USAGE] * 5


async def test_stats_in_the_group_by_a_member_is_refused_without_a_figure(
    bot: BotHarness,
) -> None:
    await a_fortnight_in_the_group(bot)

    for argument in ("", " 7d", " 30d", " 5x"):
        await bot.feed(said(ALICE, f"/stats{argument}", TODAY))

    assert everything_sent(bot) == [NOT_AN_OPERATOR] * 4


async def test_stats_in_private_by_a_member_who_operates_nothing_is_refused(
    bot: BotHarness,
) -> None:
    await a_fortnight_in_the_group(bot)

    await bot.feed(says_privately(ALICE, "/stats", TODAY))
    await bot.feed(says_privately(ALICE, "/stats 30d", TODAY))

    assert bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR] * 2
    assert everything_sent(bot) == [NOT_AN_OPERATOR] * 2


async def test_an_operator_of_another_group_is_refused_here(bot: BotHarness) -> None:
    await a_fortnight_in_the_group(bot)
    bot.session.admins[OTHER_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=OTHER_GROUP)

    await bot.feed(said(CAROL, "/stats", TODAY))

    assert everything_sent(bot) == [NOT_AN_OPERATOR]


async def test_operator_of_two_communities_picks_one_and_gets_its_figures(
    bot: BotHarness,
) -> None:
    await a_fortnight_in_the_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    bot.session.admins[THIRD_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=THIRD_GROUP)
    await at(
        bot,
        TODAY,
        updates.message(OTHER_GROUP, ADMIN, "hi", TODAY),
        updates.message(OTHER_GROUP, DAVE, "hi", TODAY),
    )
    await event_attended_by(bot, TODAY, DAVE, community_id=OTHER_GROUP_ID)
    await bot.flush()
    bot.session.clear()

    await bot.feed(says_privately(ADMIN, "/stats 30d", TODAY))

    [picker] = bot.session.messages_to(ADMIN["id"])
    assert picker.text == "Which community?"
    choices = {button["text"]: button["callback_data"] for button in buttons(picker)}
    assert choices == {
        "Pudong Owners": f"stats1:{GROUP_ID}:30",
        "Jinqiao Riders": f"stats1:{OTHER_GROUP_ID}:30",
    }
    bot.session.clear()

    await bot.feed(presses(ADMIN, choices["Jinqiao Riders"], TODAY))

    [answer] = callback_answers(bot)
    assert "text" not in answer.params
    [figures] = bot.session.texts_to(ADMIN["id"])
    lines = figures.splitlines()
    assert lines[0] == "<b>Jinqiao Riders</b> — last 30 days"
    assert "Members now: 2 · —" in lines  # Adam and Dave, not Pudong's six
    assert "Event attendances: 1 · —" in lines


async def test_forged_button_for_a_community_the_operator_does_not_operate_is_refused(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    bot.session.admins[THIRD_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=THIRD_GROUP)

    await bot.feed(presses(ADMIN, f"stats1:{THIRD_GROUP_ID}:7"))
    await bot.feed(presses(ALICE, f"stats1:{GROUP_ID}:30"))

    first, second = callback_answers(bot)
    assert first.text == second.text == NOT_AN_OPERATOR
    assert first.params.get("show_alert") is True
    assert bot.session.of("sendMessage") == []


async def test_stats_when_the_bot_is_not_an_administrator_warn_that_figures_are_partial(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot, status="member")

    await bot.feed(said(ADMIN, "/stats"))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert "Members now:" in reply
    assert PRIVACY_WARNING in reply


async def test_a_change_under_one_percent_keeps_the_answer_valid_html(bot: BotHarness) -> None:
    await a_fortnight_in_the_group(bot)
    await credits(bot, ALICE, 10_000, day(5), reason="prize")  # the week before: 10,110
    await credits(bot, ALICE, 9_971, day(13), reason="prize")  # this week: 10,111
    bot.session.clear()

    await bot.feed(said(ADMIN, "/stats", TODAY))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert "Points issued: 10111 · ▲ &lt;1%" in reply.splitlines()
    assert html_problem(reply) is None


async def test_a_stats_button_pressed_in_a_group_posts_no_figures_there(bot: BotHarness) -> None:
    await a_fortnight_in_the_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)  # Adam runs both groups

    # a forged press under a bot message in Jinqiao Riders, naming Pudong Owners
    await bot.feed(presses(ADMIN, f"stats1:{GROUP_ID}:7", TODAY, chat=OTHER_GROUP))

    [answer] = callback_answers(bot)
    assert answer.text == "This button is no longer valid. Please send the command again."
    assert bot.session.texts_to(OTHER_GROUP_ID) == []
    assert everything_sent(bot) == [answer.text]
