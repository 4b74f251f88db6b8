"""`hearth simulate`: the whole stack over HTTP on a virtual clock, reproducible by seed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hearth.simulate.runner import SimulationOptions, SimulationResult, simulate


async def run(out: Path, seed: int = 3) -> SimulationResult:
    lines: list[str] = []
    result = await simulate(
        SimulationOptions(members=40, days=4, seed=seed, out=out), progress=lines.append
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
            "WHERE local_day = ? AND kind IN ('message', 'reply', 'reaction', 'start', 'checkin')",
            (result.overview.last.isoformat(),),
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
