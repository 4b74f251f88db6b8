"""`hearth simulate`: the whole stack over HTTP on a virtual clock, reproducible by seed."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from hearth.domain.activity import PARTICIPATION_KINDS
from hearth.domain.delivery import OutboxStatus
from hearth.domain.lifecycle import Stage
from hearth.domain.nudges import NudgeStatus
from hearth.domain.rfm import Segment
from hearth.simulate.programme import ProgrammeFigures
from hearth.simulate.runner import SimulationOptions, SimulationResult, simulate

# The runs end the day before this one, whatever the real date: the same weekdays, the
# same weekly digests and quiz nights, the same figures on every day the suite runs.
TODAY = date(2026, 3, 2)


async def run(out: Path, seed: int = 3) -> SimulationResult:
    lines: list[str] = []
    result = await simulate(
        SimulationOptions(members=40, days=4, seed=seed, out=out, today=TODAY),
        progress=lines.append,
    )
    assert len(lines) == 4  # one progress line per simulated day
    return result


async def test_a_simulation_reports_what_the_database_holds_and_draws_the_chart(tmp_path: Path):
    result = await run(tmp_path / "sim")

    assert result.chart.read_bytes().startswith(b"\x89PNG")
    database = tmp_path / "sim" / "hearth-simulation.db"
    with sqlite3.connect(database) as connection:
        members = connection.execute(
            "SELECT count(*) FROM membership WHERE left_at IS NULL"
        ).fetchone()[0]
        active_last_day = connection.execute(
            "SELECT count(DISTINCT member_id) FROM activity "
            f"WHERE local_day = ? AND kind IN ({', '.join('?' * len(PARTICIPATION_KINDS))})",
            (result.overview.last.isoformat(), *sorted(PARTICIPATION_KINDS)),
        ).fetchone()[0]
    assert result.overview.members == members > 0
    assert result.overview.days[-1].active == active_last_day
    assert "Owners Club" in result.operator_stats_reply
    assert f"Members now: {members}" in result.operator_stats_reply


async def test_the_same_seed_gives_the_same_community(tmp_path: Path):
    first = await run(tmp_path / "one")
    second = await run(tmp_path / "two")
    assert first.overview.days == second.overview.days
    assert first.overview.members == second.overview.members
    assert first.points == second.points
    assert _summary(first.programme) == _summary(second.programme)
    assert first.growth == second.growth


async def test_events_announcements_and_quizzes_run_through_the_bot_and_reach_the_report(
    tmp_path: Path,
):
    result = await run(tmp_path / "sim")
    figures = result.programme

    events = figures.events
    assert len(events.reports) == 2  # a four-day run holds two events
    assert events.going > 0
    assert events.waitlisted > 0  # the first event has few seats
    assert events.attended > 0
    for report in events.reports:
        assert report.attended <= report.counts.going  # only registered members come
        if report.event.capacity is not None:
            assert report.counts.going == report.event.capacity  # the waitlist filled the seats
    assert events.ratings > 0
    assert events.average_rating is not None
    assert 1 <= events.average_rating <= 5
    assert events.nps is not None
    assert -100 <= events.nps <= 100

    announcements = figures.announcements
    assert announcements.announcements == 1
    assert announcements.runs == announcements.group_posts == 1
    assert announcements.private_copies > 0

    quizzes = figures.quizzes
    assert quizzes.bank == 41  # the sample bank, sent to the bot as a file
    assert len(quizzes.rounds) == 1
    assert quizzes.rounds[0].players > 0
    assert 0 < quizzes.participation <= 1
    assert quizzes.average_score > 0
    assert quizzes.leader is not None

    outbox = figures.outbox
    assert outbox[OutboxStatus.SENT] > 0
    assert outbox[OutboxStatus.FAILED] == outbox[OutboxStatus.BLOCKED] == 0
    assert outbox[OutboxStatus.QUEUED] == 0  # the delivery worker sent everything

    # The figures are the database's.
    with sqlite3.connect(tmp_path / "sim" / "hearth-simulation.db") as connection:
        attended = connection.execute("SELECT count(*) FROM attendance").fetchone()[0]
        feedback = connection.execute(
            "SELECT count(*) FROM feedback WHERE rating IS NOT NULL"
        ).fetchone()[0]
        rounds = connection.execute(
            "SELECT count(*) FROM quiz_round WHERE status = 'finished'"
        ).fetchone()[0]
        players = connection.execute(
            "SELECT count(DISTINCT member_id) FROM quiz_answer WHERE option IS NOT NULL"
        ).fetchone()[0]
        sent = connection.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()
    assert attended == events.attended
    assert feedback == events.ratings
    assert rounds == 1
    assert players == quizzes.rounds[0].players
    assert sent[0] == outbox[OutboxStatus.SENT]


def _summary(figures: ProgrammeFigures) -> tuple[object, ...]:
    events, quizzes = figures.events, figures.quizzes
    return (
        [(r.counts, r.attended, r.average_rating, r.nps) for r in events.reports],
        figures.announcements,
        quizzes.rounds,
        quizzes.leader,
        figures.outbox.by_status,
    )


async def test_a_long_run_settles_members_in_stages_their_habits_deserve_and_digests_them(
    tmp_path: Path,
):
    """Long enough for maturity (60 days a member, 8 active weeks) and for fading to show;
    the operator gets a digest every week, whose charts are written as PNG files."""
    result = await simulate(
        SimulationOptions(members=120, days=75, seed=5, out=tmp_path / "long", today=TODAY),
        progress=lambda line: None,
    )
    figures = result.engagement
    by_habit = figures.by_habit
    assert figures.recomputes >= 74  # every simulated night (the first has no community yet)

    def share(habit: str, *stages: Stage) -> float:
        counts = by_habit[habit]
        return sum(counts[stage] for stage in stages) / counts.total()

    assert share("left", Stage.CHURNED) == 1
    assert share("fading", Stage.DECLINING, Stage.DORMANT, Stage.CHURNED) >= 0.8
    assert share("steady", Stage.MATURE, Stage.GROWING) >= 0.9
    assert by_habit["steady"][Stage.MATURE] >= by_habit["steady"].total() // 2
    assert share("newcomer", Stage.NEW) == 1
    # Every member the bot has seen has a stage; a lurker who never took part is unknown to it.
    assert sum(c.total() for c in by_habit.values()) >= 118
    segments = figures.segments_by_habit
    slipping = (Segment.AT_RISK, Segment.CANT_LOSE, Segment.HIBERNATING, Segment.LOST)
    assert sum(segments["fading"][s] for s in slipping) >= 0.8 * segments["fading"].total()
    thriving = (Segment.CHAMPIONS, Segment.LOYAL, Segment.PROMISING)
    assert sum(segments["steady"][s] for s in thriving) >= 0.6 * segments["steady"].total()
    assert segments["left"].total() == 0  # RFM ranks current members only
    assert 0 < figures.high_value <= 0.3 * figures.segments.total()

    _growth_checks(result)
    _business_checks(result)

    assert 10 <= result.digests <= 11  # one a week for 75 days, to the one operator
    assert len(result.digest_charts) == 3
    for chart in result.digest_charts:
        assert chart.read_bytes().startswith(b"\x89PNG")

    nudges = result.nudges
    sent = nudges.statuses[NudgeStatus.SENT]
    assert sent >= 3  # fading members who started the bot get nudged
    assert nudges.delivered == sent  # every "sent" row reached the member, once
    assert nudges.unrecorded == 0
    assert nudges.in_quiet_hours == 0
    assert nudges.within_a_week == 0
    assert nudges.over_episode_limit == 0
    assert nudges.outcomes is not None
    assert nudges.outcomes.sent.contacts == sent


def _growth_checks(result: SimulationResult) -> None:
    """Missions, referrals and draws of a long run, through the bot and back from the
    database: what the rules promise holds in the data."""
    growth = result.growth
    with_missions, without = growth.with_missions, growth.without_missions
    assert with_missions.read_checklist > 0  # the bot showed newcomers their checklist…
    assert without.read_checklist == 0  # …but only while the operator had missions on
    assert with_missions.activated > without.activated
    assert (with_missions.rate or 0) > (without.rate or 0)

    referrals = growth.referrals
    assert 0 < referrals.credited <= referrals.joined <= referrals.invited <= referrals.opened
    assert referrals.points == 100 * referrals.credited  # PointsRules().referral each
    assert referrals.refused_attempts > 0
    assert referrals.wrongly_recorded == 0  # own links and known members never count

    draws = growth.draws
    assert draws.created >= 3
    assert draws.cancelled == 1
    assert draws.closed == draws.created - 1  # the scheduler's job drew every other one
    assert draws.reproduced == draws.closed  # the recorded seed gives the same winners
    assert draws.winners > 0
    assert draws.double_presses > 0
    assert draws.ledger_mismatches == 0  # every paid entry debited once, refunds complete


def _business_checks(result: SimulationResult) -> None:
    """Channels, the dealers' files and attribution of a long run, as the bot counts them."""
    business = result.business
    *dealers, direct = business.channels
    assert [line.name for line in dealers] == [
        "Dealer Pudong",
        "Dealer Jinqiao",
        "Car wash partner",
    ]
    assert direct.name is None
    # Every newcomer sent through a link is attributed to that channel (if still a member).
    assert 0 < sum(line.brought for line in dealers) <= sum(line.opened for line in dealers)
    assert all(line.brought <= line.opened for line in dealers)
    assert business.workshop_touches > 0
    assert business.moved_by_later_touch == 0  # a later touch never moves a member
    assert business.phones_shared > 0
    imports = business.imports
    assert imports.files >= 10  # a file a week, the last one sent twice
    # Only rows about members the bot knows are stored, strangers never.
    assert 0 < business.stored <= sum(business.reported.values())
    assert business.stored == sum(line.conversions for line in business.channels)
    assert imports.stored_after_resend == imports.stored_before_resend == business.stored
    thirty = business.uplift[0]
    assert thirty.days == 30
    assert thirty.attendees > 0
    assert thirty.others > thirty.attendees
    assert thirty.attendees_share is not None
    assert thirty.standardised_share is not None
