"""``hearth draw-verify``: a closed draw is drawn again from its recorded seed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col
from typer.testing import CliRunner

from hearth.__main__ import app
from hearth.domain.draws import NewDraw
from hearth.domain.members import ChatRole, Person
from hearth.services.draws import close_draw
from hearth.storage.draws import DrawEntryRow
from hearth.storage.engine import create_engine, unit_of_work_factory
from tests.conftest import fresh_schema

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUP_ID = -100123
ENTRANTS = (101, 102, 103, 104, 105)


class Unheard:
    """Draw notices nobody reads: this test is about the record, not the messages."""

    async def announce(self, *args: object) -> bool:
        return True

    async def results(self, *args: object) -> bool:
        return True

    async def won(self, *args: object) -> bool:
        return True

    async def cancelled(self, *args: object) -> bool:
        return True

    async def refunded(self, *args: object) -> bool:
        return True


async def a_closed_draw(url: str) -> list[int]:
    """A draw of 2 winners among 5 entrants, closed; its winners in the order drawn."""
    engine = create_engine(url)
    await fresh_schema(engine)
    async with unit_of_work_factory(engine)() as uow:
        await uow.communities.add(GROUP_ID, "Owners", timezone="UTC", locale="en", now=NOW)
        draw = await uow.draws.add(
            GROUP_ID,
            NewDraw(prize="Mug", winners=2, cost=0, closes_at=NOW + timedelta(hours=1)),
            actor_id=7,
            now=NOW,
        )
        for member_id in ENTRANTS:
            await uow.members.upsert(Person(member_id, f"M{member_id}"), NOW)
            await uow.memberships.add(GROUP_ID, member_id, role=ChatRole.MEMBER, now=NOW)
            await uow.draws.add_entry(draw.id, member_id, 0, NOW)
        await close_draw(uow, uow.draws, Unheard(), draw.id, now=NOW + timedelta(hours=1))
        await uow.commit()
        winners = [entry for entry in await uow.draws.entries_of(draw.id) if entry.rank]
    await engine.dispose()
    return [entry.member_id for entry in sorted(winners, key=lambda entry: entry.rank or 0)]


async def swap_a_winner(url: str, winner: int, loser: int) -> None:
    engine = create_engine(url)
    async with unit_of_work_factory(engine)() as uow:
        for member_id, rank in ((winner, None), (loser, 1)):
            await uow.session.execute(
                update(DrawEntryRow)
                .where(col(DrawEntryRow.member_id) == member_id)
                .values(rank=rank)
            )
        await uow.commit()
    await engine.dispose()


def test_draw_verify_reproduces_the_recorded_winners_and_notices_tampering(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    winners = asyncio.run(a_closed_draw(url))
    assert len(winners) == 2

    result = CliRunner().invoke(app, ["draw-verify", "1", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"recorded winners: {winners[0]} {winners[1]}" in result.output
    assert f"drawn again:      {winners[0]} {winners[1]}" in result.output
    assert "The same winners: the result is reproduced." in result.output

    loser = next(member_id for member_id in ENTRANTS if member_id not in winners)
    asyncio.run(swap_a_winner(url, winners[0], loser))
    result = CliRunner().invoke(app, ["draw-verify", "1", "--database-url", url])
    assert result.exit_code == 1
    assert "differ from the recorded ones" in result.output

    result = CliRunner().invoke(app, ["draw-verify", "9", "--database-url", url])
    assert result.exit_code == 2
    assert "draw 9 does not exist or has not been drawn yet" in result.output
