"""The operator's report printed at the end of ``hearth simulate``."""

from __future__ import annotations

from collections.abc import Callable

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
