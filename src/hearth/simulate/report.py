"""The operator's report printed at the end of ``hearth simulate``."""

from __future__ import annotations

from collections.abc import Callable

from hearth.domain.delivery import OutboxStatus
from hearth.domain.lifecycle import Stage
from hearth.simulate.business import BusinessFigures
from hearth.simulate.engagement import EngagementFigures
from hearth.simulate.growth import ArmFigures, GrowthFigures
from hearth.simulate.nudges import summary_lines
from hearth.simulate.programme import ProgrammeFigures
from hearth.simulate.runner import SimulationResult


def print_report(result: SimulationResult, echo: Callable[[str], object]) -> None:
    """Print the figures an operator reads first, a table per day, and the chart's path."""
    overview = result.overview
    echo("")
    echo(f"== {overview.community.title}: {overview.first} to {overview.last} ==")
    echo(f"Members now:                 {overview.members}")
    echo(f"Joined / left:               {overview.joined} / {overview.left}")
    echo(f"Active members (period):     {overview.active}")
    echo(f"Average daily active:        {overview.average_daily_active:.1f}")
    echo(f"Stickiness (DAU / active):   {overview.stickiness:.0%}")
    echo(f"Reachable in private:        {overview.reachable}")
    echo("")
    echo("day          active  joined  left")
    for day in overview.days:
        bar = "#" * max(0, round(day.active / max(1, overview.members) * 40))
        echo(f"{day.day}  {day.active:>6}  {day.joined:>6}  {day.left:>4}  {bar}")
    echo("")
    points = result.points
    echo("Points")
    echo(
        f"  issued {points.issued} · redeemed {points.redeemed} · expired {points.expired}"
        f" · deducted {points.deducted} · outstanding {points.outstanding}"
    )
    echo("  tiers: " + ", ".join(f"{name} {count}" for name, count in points.tiers.items()))
    echo("  top 10 by points earned in the last 12 months:")
    for rank, name, earned in points.top:
        echo(f"    {rank:>2}. {name:<12} {earned:>6}")
    echo("")
    print_programme(result.programme, echo)
    echo("")
    print_growth(result.growth, echo)
    print_business(result.business, echo)
    echo("")
    print_engagement(result.engagement, echo)
    echo("")
    for line in summary_lines(result.nudges):
        echo(line)
    echo("")
    echo(f"Weekly digests to the operator: {result.digests}")
    for path in result.digest_charts:
        echo(f"  chart of the last digest: {path.resolve()}")
    echo("")
    echo("The operator's /stats in private, as the bot answered it:")
    for line in result.operator_stats_reply.splitlines():
        echo(f"  | {line}")
    echo("")
    echo(
        f"{result.updates} updates through the real bot in {result.seconds:.1f} s "
        f"({result.updates / max(result.seconds, 1e-9):.0f}/s)"
    )
    echo(f"Database: {result.database_url}")
    echo(f"Chart:    {result.chart.resolve()}")


def print_programme(figures: ProgrammeFigures, echo: Callable[[str], object]) -> None:
    """Events, announcements, quizzes and the outbox, as the database holds them."""
    events = figures.events
    echo(f"Events ({len(events.reports)}, figures of /event_report)")
    echo(
        f"  going {events.going} · waitlisted {events.waitlisted} · maybe {events.maybe}"
        f" · can't go {events.not_going} · attended {events.attended}"
    )
    echo(
        f"  average rating {_figure(events.average_rating, '.1f')} ({events.ratings} ratings)"
        f" · NPS {_figure(events.nps, '+d')} ({events.recommendations} answers)"
    )
    for report in events.reports:
        event = report.event
        seats = f"{event.capacity} seats" if event.capacity is not None else "no limit"
        echo(
            f"    #{event.id} {event.starts_at:%Y-%m-%d} {event.title[:32]:<32} {seats:<9}"
            f" going {report.counts.going:>3}  waitlisted {report.counts.waitlisted:>3}"
            f"  attended {report.attended:>3}  rating {_figure(report.average_rating, '.1f')}"
            f"  NPS {_figure(report.nps, '+d')}"
        )
    echo("")
    announcements = figures.announcements
    echo(f"Announcements ({announcements.announcements} scheduled)")
    echo(
        f"  runs {announcements.runs} · group posts {announcements.group_posts}"
        f" · private copies {announcements.private_copies}"
        + (f" · skipped {announcements.skipped}" if announcements.skipped else "")
    )
    echo("")
    quizzes = figures.quizzes
    echo(f"Quizzes ({quizzes.bank} questions in the bank)")
    echo(
        f"  rounds {len(quizzes.rounds)} · players per round {quizzes.players_per_round:.1f}"
        f" ({quizzes.participation:.0%} of members) · average score {quizzes.average_score:.1f}"
        " points"
    )
    leader = quizzes.leader
    echo(
        f"  season leader: {leader.name} ({leader.points} points)"
        if leader is not None
        else "  season leader: none yet"
    )
    echo("")
    outbox = figures.outbox
    echo("Outbox (messages the bot sent on its own initiative)")
    echo(
        f"  sent {outbox[OutboxStatus.SENT]} · failed {outbox[OutboxStatus.FAILED]}"
        f" · blocked {outbox[OutboxStatus.BLOCKED]} · queued {outbox[OutboxStatus.QUEUED]}"
    )


def print_growth(figures: GrowthFigures, echo: Callable[[str], object]) -> None:
    """Newcomer missions with and without, referrals and lucky draws."""
    echo("Newcomer missions (switched on and off week by week; activation as /stats shows it:")
    echo("  every mission done within a week of joining)")
    for label, arm in (
        ("with missions", figures.with_missions),
        ("without", figures.without_missions),
    ):
        echo(f"  {label:<14} {_arm(arm)}")
    referrals = figures.referrals
    echo("Referrals")
    echo(
        f"  invites asked for {referrals.links_shared} · opened by friends {referrals.opened}"
        f" · recorded {referrals.invited} · joined {referrals.joined}"
        f" · credited {referrals.credited} (+{referrals.points} points)"
    )
    echo(
        f"  own links and known members opening a link: {referrals.refused_attempts},"
        f" counted anyway {referrals.wrongly_recorded}"
    )
    draws = figures.draws
    echo("Lucky draws")
    echo(
        f"  created {draws.created} · drawn {draws.closed} · cancelled {draws.cancelled}"
        f" · entries {draws.entries} (second presses refused {draws.double_presses})"
        f" · winners {draws.winners}"
    )
    echo(
        f"  drawn again from the recorded seed: {draws.reproduced} of {draws.closed} the same"
        f" · refunded entries {draws.refunded} · ledger mismatches {draws.ledger_mismatches}"
    )


def print_business(figures: BusinessFigures, echo: Callable[[str], object]) -> None:
    """Channels, the dealers' files and the uplift of event attendance on service visits."""
    echo("Channels (dealers and partners; attribution: the first link opened before joining)")
    echo(
        f"  {'channel':<18}{'sent':>6}{'brought':>9}{'reached':>9}"
        f"{'conversions':>13}{'service':>9}{'amount':>14}"
    )
    for line in figures.channels:
        name = line.name or "direct"
        echo(
            f"  {name:<18}{line.opened:>6}{line.brought:>9}{line.reached:>9}"
            f"{line.conversions:>13}{line.service_visits:>9}{line.amount_minor / 100:>14,.2f}"
        )
    echo(
        f"  members already in the club who opened a dealer's link: {figures.workshop_touches},"
        f" attributed to it anyway {figures.moved_by_later_touch}"
    )
    reported = " · ".join(f"{kind} {count}" for kind, count in sorted(figures.reported.items()))
    imports = figures.imports
    echo("Conversions (the dealers' weekly files, sent to the bot in private as CSV)")
    echo(
        f"  files {imports.files} · rows {imports.rows} ({reported}; not in the club"
        f" {figures.strangers}) · stored {figures.stored} · phone numbers shared"
        f" {figures.phones_shared}"
    )
    echo(
        f"  the last file sent again: conversions {imports.stored_before_resend}"
        f" before, {imports.stored_after_resend} after"
    )
    echo(
        "Event attendance and service visits (attendees against the members who did not"
        " come, standardised by lifecycle stage;"
    )
    echo(f"  the simulation makes a visit {figures.true_lift:g} times as likely for 30 days)")
    for window in figures.uplift:
        state = "" if window.complete else "  (window not over yet)"
        echo(
            f"  {window.days:>2} days  attendees {_share(window.attendees_share)} of"
            f" {window.attendees} · others {_share(window.others_share)} of {window.others}"
            f" · standardised {_share(window.standardised_share)}"
            f" · uplift {_figure(window.uplift_points, '+.1f')} points{state}"
        )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _arm(arm: ArmFigures) -> str:
    rate = "-" if arm.rate is None else f"{arm.rate:.0%}"
    return (
        f"activated {arm.activated} of {arm.activated + arm.missed} ({rate}), pending"
        f" {arm.pending}; {arm.newcomers_with_bot} use the bot, {arm.read_checklist} read"
        f" the checklist ({arm.weeks} weeks)"
    )


def print_engagement(figures: EngagementFigures, echo: Callable[[str], object]) -> None:
    """Members per lifecycle stage, overall and by the habit each was built with."""
    stages = list(Stage)
    echo(f"Lifecycle stages ({figures.recomputes} nightly recomputes)")
    echo("  " + " · ".join(f"{stage.value} {figures.stages[stage]}" for stage in stages))
    echo("  by synthetic habit (members built that way → the stage the bot settled on):")
    echo("    " + f"{'habit':<10}" + "".join(f"{stage.value:>10}" for stage in stages))
    for habit, counts in figures.by_habit.items():
        if counts.total():
            row = "".join(f"{counts[stage]:>10}" for stage in stages)
            echo(f"    {habit:<10}{row}")
    echo(f"RFM segments of current members ({figures.high_value} high-value)")
    echo("  " + " · ".join(f"{s.value} {n}" for s, n in figures.segments.most_common()))
    echo("  by synthetic habit (the three commonest):")
    for habit, segments in figures.segments_by_habit.items():
        if segments.total():
            common = ", ".join(f"{s.value} {n}" for s, n in segments.most_common(3))
            echo(f"    {habit:<10}  {common}")


def _figure(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)
