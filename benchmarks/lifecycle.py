"""Lifecycle benchmark: recompute stages, RFM scores and tags of 100,000 memberships.

Seeds a temporary SQLite file (and, with ``--postgres`` or when ``HEARTH_TEST_DATABASE_URL``
is set, a throw-away schema of that PostgreSQL database) with 20 communities × 5,000
memberships, 3,000,000 activity rows over 120 days (most of each member's in a favourite
part of the day), and the points, attendance at typed events, redemptions and quiz answers
that make up RFM value and interests — written in large executemany batches inside one
transaction (COPY on PostgreSQL), not through the ORM. Then it times the real service,
``recompute`` (stages, RFM, segments and automatic tags), for every community, three
times: the first day (every standing is new), the same day again (must change nothing)
and the next day. Before those, the activity history is rolled up into ``member_day``
once (timed and printed apart), as the first recompute on a new database does; each
recompute then brings the roll-up up to date itself, reading only the last few days of
activity.

The goal is the first day's recompute in under 5 s; rows/s is activity rows per second.
As a sanity check it prints the stages and segments overall and by the synthetic habit
each member was built with (steady, fading, occasional, new, gone, left: they should land
in the matching stages), and the most common tags.

Usage: python benchmarks/lifecycle.py [--scale 1] [--postgres] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel, col

from hearth.domain.lifecycle import LifecycleRules, Stage
from hearth.domain.members import CommunityProfile
from hearth.domain.rfm import Segment
from hearth.services.engagement_recompute import Recomputed, recompute
from hearth.storage import tables  # noqa: F401 - registers every table
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.unit_of_work import UnitOfWorkFactory

COMMUNITIES = 20
MEMBERS_PER_COMMUNITY = 5_000
ACTIVITY_ROWS = 3_000_000
HISTORY_DAYS = 120
GOAL_SECONDS = 5.0
TODAY = date(2026, 3, 2)
TIMEZONE = "Asia/Shanghai"  # UTC+8 all year: local days are easy to write by hand
OFFSET = timedelta(hours=8)
FIRST_COMMUNITY = -1_001_000_000_000
FIRST_MEMBER = 10_000_000
BATCH = 50_000
SCHEMA = "bench_lifecycle"
KINDS = ("message", "message", "message", "reply", "reaction", "checkin", "quiz_answer")
EVENT_TAGS = ("track-day", "meet-up", "detailing", "road-trip", "workshop")
QUIZ_TOPICS = ("maintenance", "history", "driving")
FAVOURITE_SHARE = 0.7  # of a member's activities in their favourite part of the day


@dataclass(frozen=True, slots=True)
class Habit:
    """A synthetic member's habit: where they are in the history and how often they act."""

    name: str
    share: float  # of the memberships
    rows: int  # activity rows per member, on average
    joined_days_ago: tuple[int, int]
    active_days_ago: tuple[int, int]  # the span they are active in (inclusive)
    daily_chance: float
    left: bool = False


HABITS = (
    Habit("steady", 0.40, 45, (100, 400), (0, HISTORY_DAYS - 1), 0.45),
    Habit("fading", 0.15, 30, (100, 400), (20, HISTORY_DAYS - 1), 0.5),
    Habit("occasional", 0.20, 15, (60, 400), (0, HISTORY_DAYS - 1), 0.08),
    Habit("new", 0.10, 8, (0, 12), (0, 12), 0.6),
    Habit("gone", 0.10, 20, (150, 400), (40, HISTORY_DAYS - 1), 0.2),
    Habit("left", 0.05, 24, (150, 400), (10, HISTORY_DAYS - 1), 0.3, left=True),
)


@dataclass(slots=True)
class Seed:
    """What was written: the rows to load, by table."""

    communities: list[tuple[Any, ...]]
    members: list[tuple[Any, ...]]
    memberships: list[tuple[Any, ...]]
    activity: list[tuple[Any, ...]]
    points: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    attendance: list[tuple[Any, ...]]
    rewards: list[tuple[Any, ...]]
    redemptions: list[tuple[Any, ...]]
    quiz_answers: list[tuple[Any, ...]]
    habits: Counter[str]
    habit_of: dict[int, str]  # member id → the habit it was built with

    def release(self) -> None:
        """Drop the loaded rows (not the communities and habits the report needs)."""
        for rows in (
            self.members,
            self.memberships,
            self.activity,
            self.points,
            self.events,
            self.attendance,
            self.rewards,
            self.redemptions,
            self.quiz_answers,
        ):
            rows.clear()


def build_seed(scale: float, rng: random.Random) -> Seed:
    """Synthetic communities; timestamps are naive UTC, as Hearth stores them."""
    communities = max(1, round(COMMUNITIES * min(scale, 1.0)))
    per_community = max(10, round(MEMBERS_PER_COMMUNITY * scale / (communities / COMMUNITIES)))
    return build_communities(communities, per_community, round(ACTIVITY_ROWS * scale), rng)


def build_communities(
    communities: int, per_community: int, total_rows: int, rng: random.Random
) -> Seed:
    """``communities`` of ``per_community`` members with ``total_rows`` activity rows."""
    total_members = communities * per_community
    habit_rows = sum(habit.share * habit.rows for habit in HABITS)
    row_factor = total_rows / (total_members * habit_rows)
    created = datetime(2024, 1, 1)
    seed = Seed([], [], [], [], [], [], [], [], [], [], Counter(), {})
    event_id = 0
    for c in range(communities):
        community_id = FIRST_COMMUNITY - c
        seed.communities.append(
            (
                community_id,
                f"Club {c}",
                TIMEZONE,
                "en",
                True,
                True,
                True,
                True,
                True,
                None,
                created,
                None,
            )
        )
        seed.rewards.append((c + 1, community_id, "Sticker pack", 100, False, True, created))
        for e in range(5):  # five past events, each attended by ~2 % of the members
            event_id += 1
            starts = _utc_of(TODAY - timedelta(days=10 + 15 * e), 19)
            seed.events.append((event_id, community_id, f"Meet-up {e}", starts, EVENT_TAGS[e]))
        for m in range(per_community):
            member_id = FIRST_MEMBER + c * per_community + m
            habit = rng.choices(HABITS, weights=[h.share for h in HABITS])[0]
            seed.habits[habit.name] += 1
            seed.habit_of[member_id] = habit.name
            seed.members.append((member_id, f"M{member_id}", False, True, created, created))
            joined_ago = rng.randint(*habit.joined_days_ago)
            joined = _utc_of(TODAY - timedelta(days=joined_ago), rng.randint(0, 23))
            first_ago = min(habit.active_days_ago[1], joined_ago)
            last_ago = habit.active_days_ago[0]
            if habit.name in ("fading", "gone", "left"):
                last_ago = rng.randint(habit.active_days_ago[0], habit.active_days_ago[0] + 30)
            days = [
                ago for ago in range(last_ago, first_ago + 1) if rng.random() < habit.daily_chance
            ] or [rng.randint(last_ago, max(last_ago, first_ago))]
            left = _utc_of(TODAY - timedelta(days=max(0, last_ago - 3)), 12) if habit.left else None
            tier = "silver" if habit.name == "steady" and rng.random() < 0.2 else "member"
            seed.memberships.append(
                (community_id, member_id, "member", joined, left, 1, "join", tier)
            )
            rows = max(1, round(habit.rows * row_factor * rng.uniform(0.5, 1.5)))
            for ago, hour in _spread(days, rows, rng.randrange(4), rng):
                day = TODAY - timedelta(days=ago)
                seed.activity.append(
                    (community_id, member_id, rng.choice(KINDS), _utc_of(day, hour), day)
                )
            for ago in days[:: max(1, len(days) // 4)]:  # some check-ins earned points
                at = _utc_of(TODAY - timedelta(days=ago), 9)
                key = f"bench:{community_id}:{member_id}:{ago}"
                seed.points.append((community_id, member_id, "earn", 10, "checkin", key, at))
            if habit.name in ("steady", "fading") and rng.random() < 0.1:
                first_event = event_id - 4 + rng.randint(0, 4)
                at = _utc_of(TODAY - timedelta(days=10), 20)
                seed.attendance.append((first_event, member_id, at))
            if habit.name in ("steady", "occasional") and rng.random() < 0.3:
                seed.quiz_answers.extend(_answers(community_id, member_id, rng))
            if habit.name == "steady" and rng.random() < 0.05:
                at = _utc_of(TODAY - timedelta(days=rng.randint(0, 80)), 18)
                seed.redemptions.append(
                    (c + 1, community_id, member_id, 100, "fulfilled", f"r{member_id}", at, at)
                )
    _trim(seed.activity, total_rows, rng)
    return seed


def _spread(
    days: list[int], rows: int, favourite: int, rng: random.Random
) -> Iterator[tuple[int, int]]:
    """``rows`` activities over the active days, at least one a day while rows last, most
    of them in the ``favourite`` part of the day (0 night … 3 evening), at local hours."""
    for index in range(rows):
        ago = days[index] if index < len(days) else rng.choice(days)
        if rng.random() < FAVOURITE_SHARE:
            yield ago, 6 * favourite + rng.randint(0, 5)
        else:
            yield ago, rng.randint(0, 23)


def _answers(community_id: int, member_id: int, rng: random.Random) -> list[tuple[Any, ...]]:
    """Practice answers on one topic, most of them right (a topic answered well, or not)."""
    topic = rng.choice(QUIZ_TOPICS)
    answers = []
    for number in range(rng.randint(3, 12)):
        at = _utc_of(TODAY - timedelta(days=rng.randint(0, 80)), 20)
        correct = rng.random() < 0.85
        poll = f"bench:{member_id}:{number}"
        answers.append((poll, community_id, member_id, number, topic, 0, 1, correct, 0, at, True))
    return answers


def _trim(rows: list[tuple[Any, ...]], target: int, rng: random.Random) -> None:
    """Exactly ``target`` rows: drop random ones or repeat random ones at another hour."""
    while len(rows) > target:
        rows[rng.randrange(len(rows))] = rows[-1]
        rows.pop()
    while len(rows) < target:
        community_id, member_id, kind, at, day = rows[rng.randrange(len(rows))]
        rows.append((community_id, member_id, kind, at + timedelta(minutes=1), day))


def _utc_of(day: date, local_hour: int) -> datetime:
    """The naive UTC instant of a local hour of a local day (UTC+8)."""
    return datetime(day.year, day.month, day.day, local_hour) - OFFSET


# -- loading


COLUMNS = {
    "community": (
        "id, title, timezone, locale, active, bot_is_admin, welcome_enabled, "
        "announce_milestones, digest_enabled, points_rules, created_at, deactivated_at"
    ),
    "member": "id, first_name, started_bot, reachable, created_at, updated_at",
    "membership": (
        "community_id, member_id, role, joined_at, left_at, join_count, joined_via, tier"
    ),
    "activity": "community_id, member_id, kind, occurred_at, local_day",
    "points_entry": "community_id, member_id, kind, amount, reason, idempotency_key, created_at",
    "event": "id, community_id, title, starts_at",
    "attendance": "event_id, member_id, checked_in_at",
    "reward": "id, community_id, title, cost, has_codes, active, created_at",
    "redemption": (
        "reward_id, community_id, member_id, cost, status, idempotency_key, created_at, updated_at"
    ),
    "quiz_answer": (
        "poll_id, community_id, member_id, question_id, topic, position, option, correct, "
        "points, answered_at, practice"
    ),
}


def _tables(seed: Seed) -> list[tuple[str, list[tuple[Any, ...]]]]:
    return [
        ("community", seed.communities),
        ("member", seed.members),
        ("membership", seed.memberships),
        ("activity", seed.activity),
        ("points_entry", seed.points),
        ("event", [_event(row) for row in seed.events]),
        ("attendance", seed.attendance),
        ("reward", seed.rewards),
        ("redemption", seed.redemptions),
        ("quiz_answer", seed.quiz_answers),
    ]


EVENT_EXTRA = (
    "description, place, ends_at, registration_deadline, points, code, status, "
    "created_at, updated_at, tag"
)


def _event(row: tuple[Any, ...]) -> tuple[Any, ...]:
    event_id, community_id, title, starts, tag = row
    ends = starts + timedelta(hours=2)
    place, code = "Club house", f"B{event_id:06d}"
    stored = (starts, ends, starts, 0, code, "scheduled", starts, starts, tag)
    return (event_id, community_id, title, starts, "", place, *stored[1:])


def _columns(table: str) -> str:
    return COLUMNS[table] + (", " + EVENT_EXTRA if table == "event" else "")


def load_sqlite(path: Path, seed: Seed) -> None:
    """Executemany in batches of ``BATCH`` rows, all in one transaction."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    try:
        with connection:
            for table, rows in _tables(seed):
                columns = _columns(table)
                marks = ", ".join("?" for _ in columns.split(","))
                statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                for start in range(0, len(rows), BATCH):
                    connection.executemany(
                        statement, [_sqlite_row(row) for row in rows[start : start + BATCH]]
                    )
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # SQLAlchemy's SQLite formats: dates 'YYYY-MM-DD', datetimes with microseconds.
    return tuple(
        value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, datetime)
        else value.isoformat()
        if isinstance(value, date)
        else value
        for value in row
    )


async def load_postgres(engine: AsyncEngine, seed: Seed) -> None:
    """COPY every table, in one transaction."""
    async with engine.begin() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        for table, rows in _tables(seed):
            names = [name.strip() for name in _columns(table).split(",")]
            await driver.copy_records_to_table(
                table, records=[_pg_row(row) for row in rows], columns=names, schema_name=SCHEMA
            )
        await connection.execute(text("ANALYZE"))


def _pg_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        value.replace(tzinfo=None) if isinstance(value, datetime) else value for value in row
    )


# -- the run


async def run_lifecycle_benchmark(scale: float, postgres_url: str | None, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    data = build_seed(scale, rng)
    built = time.perf_counter() - started
    print(
        f"lifecycle: {len(data.communities)} communities, {len(data.memberships):,} memberships, "
        f"{len(data.activity):,} activity rows, {len(data.points):,} points entries, "
        f"{len(data.attendance):,} attendances, {len(data.redemptions):,} redemptions "
        f"(built in {built:.1f} s)"
    )
    print("  habits: " + ", ".join(f"{name} {count:,}" for name, count in data.habits.items()))
    rows = len(data.activity)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lifecycle.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await _create_schema(engine)
        await engine.dispose()
        loading = time.perf_counter()
        await asyncio.to_thread(load_sqlite, path, data)
        print(f"  SQLite loaded in {time.perf_counter() - loading:.1f} s")
        postgres = _postgres_engine(postgres_url) if postgres_url else None
        try:
            if postgres is not None:
                await _load_postgres_schema(postgres, data)
            # the timed recomputes run without the seed's millions of rows in memory, as the
            # bot's process would
            data.release()
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            try:
                await _time_recomputes("SQLite", engine, data, rows)
            finally:
                await engine.dispose()
            if postgres is not None:
                await _time_recomputes("PostgreSQL", postgres, data, rows)
        finally:
            if postgres is not None:
                async with postgres.begin() as connection:
                    await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                await postgres.dispose()


async def _load_postgres_schema(engine: AsyncEngine, data: Seed) -> None:
    """A fresh schema of its own, with the seed loaded."""
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    await _create_schema(engine)
    loading = time.perf_counter()
    await load_postgres(engine, data)
    print(f"  PostgreSQL loaded in {time.perf_counter() - loading:.1f} s")


def _postgres_engine(url: str) -> AsyncEngine:
    """An engine on a schema of its own: other users of the database are left alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"not a PostgreSQL URL: {url}")
    return create_async_engine(
        parsed.set(drivername="postgresql+asyncpg"),
        connect_args={"server_settings": {"search_path": SCHEMA}},
    )


async def _create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)


async def _time_recomputes(backend: str, engine: AsyncEngine, data: Seed, rows: int) -> None:
    uow_factory = unit_of_work_factory(engine)
    communities = [
        CommunityProfile(
            id=row[0], title=row[1], timezone=TIMEZONE, locale="en", active=True,
            bot_is_admin=True, welcome_enabled=True,
        )
        for row in data.communities
    ]  # fmt: skip
    rules = LifecycleRules()
    # The recompute keeps the member_day roll-up up to date from one day to the next; a
    # new database rolls its whole history up once (the first recompute, or the migration
    # that adds the table). That one-off is timed apart: the goal is a daily recompute.
    started = time.perf_counter()
    for community in communities:
        async with uow_factory() as uow:
            await uow.engagement.refresh_member_days(community.id)
            await uow.commit()
    print(
        f"  {backend} roll-up of the whole history into member_day (once per database): "
        f"{time.perf_counter() - started:.2f} s"
    )
    for label, day in (
        ("first day", TODAY),
        ("same day again", TODAY),
        ("next day", TODAY + timedelta(days=1)),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        results: list[Recomputed] = []
        for community in communities:
            async with uow_factory() as uow:
                results.append(await recompute(uow, community, day, rules))
                await uow.commit()
        seconds = time.perf_counter() - started
        # this process's CPU (SQLite's thread included; not PostgreSQL's server): a check on
        # a machine busy with other work, where the wall clock says less
        cpu = time.process_time() - cpu
        changes = sum(result.changes for result in results)
        print(
            f"  {backend} recompute, {label:<14} {seconds:6.2f} s = {rows / seconds:>12,.0f} "
            f"activity rows/s, {seconds / GOAL_SECONDS:.2f} x the goal ({GOAL_SECONDS:g} s); "
            f"{changes:,} stage changes; {cpu:.2f} s CPU"
        )
        if label == "first day":
            _distribution(results)
            await _by_habit(uow_factory, data.habit_of)


def _distribution(results: list[Recomputed]) -> None:
    stages: Counter[Stage] = Counter()
    segments: Counter[Segment] = Counter()
    for result in results:
        stages.update(result.stages)
        segments.update(result.segments)
    print("    stages:   " + ", ".join(f"{stage} {stages[stage]:,}" for stage in Stage))
    print("    segments: " + ", ".join(f"{seg} {segments[seg]:,}" for seg in Segment))


async def _by_habit(uow_factory: UnitOfWorkFactory, habit_of: dict[int, str]) -> None:
    """The stored stages, segments and tags against the habits the members were built with
    (read after the timing): steady members should be mature or growing and champions or
    loyal, fading ones declining or dormant, new ones new, gone ones dormant, those who
    left churned."""
    stored = MembershipStageRow
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(col(stored.member_id), col(stored.stage), col(stored.segment), col(stored.tags))
        )
        standings = [
            (habit_of[int(member)], stage, segment, tags) for member, stage, segment, tags in rows
        ]
    stages: dict[str, Counter[str]] = defaultdict(Counter)
    segments: dict[str, Counter[str]] = defaultdict(Counter)
    tags: Counter[str] = Counter()
    for built, stage, segment, member_tags in standings:
        stages[built][stage] += 1
        segments[built][segment or "-"] += 1
        tags.update(member_tags)
    print("    by habit (members: stages; top segments):")
    for habit in HABITS:
        counts = stages[habit.name]
        spread = ", ".join(f"{stage} {counts[stage]:,}" for stage in Stage if counts[stage])
        top = ", ".join(f"{name} {count:,}" for name, count in segments[habit.name].most_common(3))
        print(f"      {habit.name:<10} {sum(counts.values()):>6,}: {spread}; {top}")
    print("    tags:     " + ", ".join(f"{tag} {count:,}" for tag, count in tags.most_common(14)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply memberships and activity rows"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also on PostgreSQL (HEARTH_TEST_DATABASE_URL; implied when it is set)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the synthetic data")
    arguments = parser.parse_args()
    if arguments.scale <= 0:
        parser.error("--scale must be positive")
    url = os.environ.get("HEARTH_TEST_DATABASE_URL")
    if arguments.postgres and not url:
        parser.error("--postgres needs HEARTH_TEST_DATABASE_URL")
    asyncio.run(run_lifecycle_benchmark(arguments.scale, url, arguments.seed))


if __name__ == "__main__":
    main()
