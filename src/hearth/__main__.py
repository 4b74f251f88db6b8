"""The ``hearth`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from pydantic import ValidationError

from hearth.config import Settings
from hearth.domain.delivery import OutboxCounts, OutboxStatus
from hearth.services.export import ExportFormat, ExportKind

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

    from hearth.domain.lifecycle import LifecycleRules
    from hearth.services.conversions import ImportReport as ConversionReport
    from hearth.services.draws import Verification
    from hearth.services.engagement_recompute import Recomputed
    from hearth.services.quizzes import ImportReport
    from hearth.storage.unit_of_work import SqlUnitOfWork, UnitOfWorkFactory

app = typer.Typer(
    help="Hearth: a community-operations Telegram bot (check-ins, points, engagement, nudges).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Reproducible benchmarks that print ratios against a baseline.")
app.add_typer(bench_app, name="bench")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"HEARTH_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        _fail(f"invalid configuration: {problems}")


def _database_url(given: str | None) -> str:
    """The database a one-shot command works on: the one given, else the configured one."""
    return given or _settings().database_url


def _database_option(purpose: str) -> object:
    """``--database-url``: the database to ``purpose``, HEARTH_DATABASE_URL unless given."""
    return typer.Option(help=f"Database to {purpose} (default: HEARTH_DATABASE_URL).")


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def run(
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Webhook worker processes sharing the port, the database and Redis "
            "(needs HEARTH_WEBHOOK_URL; use PostgreSQL and HEARTH_REDIS_URL for more than one).",
        ),
    ] = 1,
    worker: Annotated[
        bool, typer.Option("--worker", hidden=True, help="Run as one worker of a supervisor.")
    ] = False,
) -> None:
    """Run the bot: long polling, or a webhook server when HEARTH_WEBHOOK_URL is set."""
    from hearth.bot.app import build_hearth
    from hearth.bot.runner import run_polling, run_webhook, supervise, worker_command
    from hearth.storage.migrate import upgrade_database

    settings = _settings()
    if settings.bot_token is None:
        _fail(
            "HEARTH_BOT_TOKEN is not set. Get a token from @BotFather and export it "
            "(or put it in .env); to try Hearth without one, run `hearth simulate`."
        )
    if workers > 1 and not settings.webhook_url:
        _fail(
            "--workers needs webhook mode: Telegram gives updates to one long-polling "
            "process only. Set HEARTH_WEBHOOK_URL (see docs/deploy.md)."
        )
    if workers > 1 and settings.database_url.startswith("sqlite"):
        _fail(
            "--workers needs PostgreSQL: one SQLite file cannot be shared by several "
            "processes. Set HEARTH_DATABASE_URL=postgresql+asyncpg://… (see docs/deploy.md)."
        )
    _logging(settings.log_level)
    if not worker:
        upgrade_database(settings.database_url)
    if workers > 1:
        if not settings.redis_url:
            logging.getLogger("hearth").warning(
                "several workers without HEARTH_REDIS_URL: each keeps its own 30 msg/s "
                "budget and dialog state; set HEARTH_REDIS_URL to share them"
            )
        raise typer.Exit(supervise(workers, worker_command()))
    hearth = build_hearth(settings)
    runner = run_webhook if settings.webhook_url else run_polling
    asyncio.run(runner(hearth))


@app.command()
def simulate(
    members: Annotated[
        int, typer.Option(min=1, max=20_000, help="Members in the community.")
    ] = 200,
    days: Annotated[int, typer.Option(min=1, max=1000, help="Simulated days.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same run.")] = 7,
    database_url: Annotated[
        str | None, typer.Option(help="Database to fill (default: a fresh SQLite file in --out).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the database and the chart.")] = Path(
        "hearth-simulation"
    ),
    timezone: Annotated[str, typer.Option(help="The community's IANA time zone.")] = "UTC",
    today: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Pretend today is this day (the run ends the day before); with the same seed, "
            "the same run on any day. Default: today.",
        ),
    ] = None,
) -> None:
    """Run the real bot against a local Bot API stand-in with a synthetic community.

    Needs no token and no network. Prints the operator's report and the path of a chart.
    """
    from hearth.simulate.report import print_report
    from hearth.simulate.runner import SimulationOptions, simulate

    _settings(default_timezone=timezone)  # validates the time zone with the usual message
    _logging("WARNING")
    options = SimulationOptions(
        members=members,
        days=days,
        seed=seed,
        database_url=database_url,
        out=out,
        timezone=timezone,
        today=today.date() if today is not None else None,
    )
    typer.echo(f"Simulating {members} members over {days} days (seed {seed})…")
    result = asyncio.run(simulate(options, progress=typer.echo))
    print_report(result, typer.echo)


@app.command()
def migrate(
    database_url: Annotated[str | None, _database_option("upgrade")] = None,
) -> None:
    """Upgrade the database schema to the newest version; existing data is kept."""
    from hearth.storage.migrate import head_revision, upgrade_database

    url = _database_url(database_url)
    upgrade_database(url)
    typer.echo(f"Database is at revision {head_revision()} (the newest).")


@app.command()
def outbox(
    community: Annotated[
        int | None, typer.Option(help="Only this community's messages (its chat id).")
    ] = None,
    database_url: Annotated[str | None, _database_option("read")] = None,
) -> None:
    """Messages the bot queued on its own initiative: waiting, sent, failed and why."""
    url = _database_url(database_url)
    counts = asyncio.run(_outbox_counts(url, community))
    scope = f"community {community}" if community is not None else "all communities"
    typer.echo(f"Outbox ({scope}): {counts.total} messages")
    for status in OutboxStatus:
        typer.echo(f"  {status.value:<12} {counts[status]:>8}")
    if counts.oldest_queued is not None:
        typer.echo(f"  oldest waiting since {counts.oldest_queued:%Y-%m-%d %H:%M} UTC")
    for kind, error, count in counts.recent_errors:
        typer.echo(f"  {count:>6} × {kind}: {error}")


@contextlib.asynccontextmanager
async def _units_of_work(database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    """Units of work on their own engine, disposed of afterwards (for one-shot commands)."""
    from hearth.storage.engine import create_engine, unit_of_work_factory

    engine = create_engine(database_url)
    try:
        yield unit_of_work_factory(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _unit_of_work(database_url: str) -> AsyncIterator[SqlUnitOfWork]:
    """One unit of work on its own engine, disposed of afterwards."""
    async with _units_of_work(database_url) as units, units() as uow:
        yield uow


async def _outbox_counts(database_url: str, community: int | None) -> OutboxCounts:
    from hearth.services.delivery import outbox_summary

    async with _unit_of_work(database_url) as uow:
        return await outbox_summary(uow, community)


@app.command()
def recompute(
    community: Annotated[
        int | None, typer.Option(help="Only this community (its chat id); default: all active.")
    ] = None,
    database_url: Annotated[str | None, _database_option("update")] = None,
) -> None:
    """Recompute lifecycle stages, RFM segments and tags now (the bot does it nightly)."""
    settings = _settings()
    url = _database_url(database_url)
    started = time.perf_counter()
    done = asyncio.run(_recompute(url, community, settings.lifecycle))
    seconds = time.perf_counter() - started
    if community is not None and not done:
        _fail(f"community {community} is not known here; add the bot to the group first")
    communities = "community" if len(done) == 1 else "communities"
    typer.echo(f"Recomputed {len(done)} {communities} in {seconds:.2f} s.")
    for each in done:
        typer.echo(
            f"Community {each.community_id}, as of {each.day}: {each.members} members, "
            f"{each.changes} stage changes"
        )
        typer.echo("  stages:   " + _counted(each.stages.items()))
        typer.echo("  segments: " + _counted(each.segments.items()))


async def _recompute(
    database_url: str, community: int | None, rules: LifecycleRules
) -> list[Recomputed]:
    from hearth.services.engagement_recompute import recompute_now

    async with _units_of_work(database_url) as units:
        return await recompute_now(units, datetime.now(UTC), rules, community_id=community)


def _counted(counts: Iterable[tuple[str, int]]) -> str:
    """``name count`` pairs, most first; "none" when there are none."""
    ranked = sorted(counts, key=lambda pair: (-pair[1], pair[0]))
    return ", ".join(f"{name} {count}" for name, count in ranked) or "none"


@app.command("import-quiz")
def import_quiz(
    file: Annotated[Path, typer.Argument(help="Questions as .yaml/.yml, .csv or .json.")],
    community: Annotated[int, typer.Option(help="The community's Telegram chat id.")],
    database_url: Annotated[str | None, _database_option("write")] = None,
) -> None:
    """Add questions to a community's quiz bank; every rejected row is listed with its reason."""
    from hearth.services.quiz_files import UnreadableFile, format_of, read_records

    file_format = format_of(file.name)
    if file_format is None:
        _fail("the file must end in .yaml, .yml, .csv or .json")
    if not file.is_file():
        _fail(f"no such file: {file}")
    try:
        records = read_records(file.read_bytes(), file_format)
    except UnreadableFile as problem:
        _fail(f"could not read {file.name}: {problem.reason}")
    url = _database_url(database_url)
    report = asyncio.run(_import_questions(url, community, records))
    if report is None:
        _fail(f"community {community} is not known here; add the bot to the group first")
    typer.echo(f"{report.added} questions added, {len(report.plan.rejected)} rows rejected.")
    for rejection in report.plan.rejected:
        detail = f" ({rejection.detail})" if rejection.detail else ""
        typer.echo(f"  row {rejection.row}: {rejection.problem.value.replace('_', ' ')}{detail}")


async def _import_questions(
    database_url: str, community: int, records: list[Mapping[str, object]]
) -> ImportReport | None:
    from hearth.services.quizzes import import_questions

    async with _unit_of_work(database_url) as uow:
        if await uow.communities.get(community) is None:
            return None
        report = await import_questions(uow, community, records, now=datetime.now(UTC), actor=None)
        await uow.commit()
        return report


@app.command("import-conversions")
def import_conversions(
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV (UTF-8, comma or semicolon) with a header: telegram_id or phone, "
            "date (YYYY-MM-DD), kind (service, purchase, trade_in), amount, ref."
        ),
    ],
    community: Annotated[int, typer.Option(help="The community's Telegram chat id.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and match every row; write nothing.")
    ] = False,
    database_url: Annotated[str | None, _database_option("write")] = None,
) -> None:
    """Import the business's service visits, purchases and trade-ins; all or nothing.

    Exit code 1 when any row is malformed (then nothing is imported), 0 otherwise.
    Importing the same file again adds nothing.
    """
    from hearth.domain.conversion_files import UnreadableConversionFile
    from hearth.handlers import conversions_texts

    if not file.is_file():
        _fail(f"no such file: {file}")
    from hearth.i18n import build_i18n

    i18n = build_i18n(_settings().default_locale)  # members' notices; the report in English
    try:
        report = asyncio.run(
            _import_conversions(
                _database_url(database_url), community, file.read_bytes(), file.name, dry_run, i18n
            )
        )
    except UnreadableConversionFile as unreadable:
        with i18n.context(), i18n.use_locale("en"):
            _fail(conversions_texts.unreadable(unreadable), code=1)
    if report is None:
        _fail(f"community {community} is not known here; add the bot to the group first")
    title, found = report
    with i18n.context(), i18n.use_locale("en"):
        typer.echo(_plain(conversions_texts.report(found, title)))
    if found.rejected:
        raise typer.Exit(1)


def _plain(text: str) -> str:
    """A text written for Telegram's HTML, for a terminal."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", text))


async def _import_conversions(
    database_url: str,
    community_id: int,
    content: bytes,
    file_name: str,
    dry_run: bool,
    i18n: I18n,
) -> tuple[str, ConversionReport] | None:
    from hearth.bot.clock import SystemClock
    from hearth.bot.conversion_notices import OutboxConversionNotices
    from hearth.bot.notifier import OutboxWriter
    from hearth.services.conversions import import_conversions

    clock = SystemClock()
    notices = OutboxConversionNotices(OutboxWriter(i18n, clock))
    async with _unit_of_work(database_url) as uow:
        community = await uow.communities.get(community_id)
        if community is None:
            return None
        report = await import_conversions(
            uow,
            community,
            content,
            now=clock.now(),
            actor=None,
            notices=notices,
            dry_run=dry_run,
            file_name=file_name,
        )
        if not dry_run:
            await uow.commit()
        return community.title, report


@app.command("export")
def export_data(
    community: Annotated[int, typer.Option(help="The community's Telegram chat id.")],
    what: Annotated[ExportKind, typer.Option(help="What to export.")],
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="CSV (UTF-8, opens in Excel) or XLSX.")
    ] = ExportFormat.CSV,
    out: Annotated[
        Path | None, typer.Option(help="File to write (default: a dated name in this folder).")
    ] = None,
    with_phones: Annotated[
        bool,
        typer.Option(
            "--with-phones",
            help="Add the phone numbers members shared (members and conversions only; "
            "recorded in the audit log). Without it no export holds any phone number.",
        ),
    ] = False,
    database_url: Annotated[str | None, _database_option("read")] = None,
) -> None:
    """Export one community's members, activity, points ledger, events or conversions."""
    from hearth.services.export import PHONE_KINDS

    if with_phones and what not in PHONE_KINDS:
        _fail("--with-phones goes with --what members or --what conversions")
    url = _database_url(database_url)
    written = asyncio.run(_export(url, community, what, file_format, out, with_phones))
    if written is None:
        _fail(f"community {community} is not known here; add the bot to the group first")
    path, rows = written
    typer.echo(f"{rows} {'row' if rows == 1 else 'rows'} written to {path}")


async def _export(
    database_url: str,
    community_id: int,
    what: ExportKind,
    file_format: ExportFormat,
    out: Path | None,
    with_phones: bool = False,
) -> tuple[Path, int] | None:
    from hearth.domain.calendar import local_day
    from hearth.services import export
    from hearth.services.conversions import COMMAND_LINE_ACTOR

    async with _unit_of_work(database_url) as uow:
        community = await uow.communities.get(community_id)
        if community is None:
            return None
        today = local_day(datetime.now(UTC), community.timezone)
        path = out or Path(export.file_name(community, what, file_format, today))
        with path.open("wb") as sink:
            rows = await export.write(
                uow, community, what, file_format, sink, today=today, with_phones=with_phones
            )
        if with_phones:
            await export.audit_phones(
                uow,
                community,
                what,
                rows,
                actor_id=COMMAND_LINE_ACTOR,
                via="command line",
                now=datetime.now(UTC),
            )
            await uow.commit()
        return path, rows


@app.command("draw-verify")
def draw_verify(
    draw: Annotated[int, typer.Argument(help="The draw's number (as in /draw N).")],
    database_url: Annotated[str | None, _database_option("read")] = None,
) -> None:
    """Draw a closed lucky draw again from its recorded seed and check the winners match."""
    from hearth.domain.draws import UnknownDraw

    try:
        check = asyncio.run(_verify_draw(_database_url(database_url), draw))
    except UnknownDraw:
        _fail(f"draw {draw} does not exist or has not been drawn yet")
    typer.echo(f"Draw {draw}: seed {check.draw.seed}, {check.entrants} entrants")
    typer.echo(f"  recorded winners: {' '.join(map(str, check.recorded)) or 'none'}")
    typer.echo(f"  drawn again:      {' '.join(map(str, check.redrawn)) or 'none'}")
    if not check.matches:
        _fail("the winners drawn again differ from the recorded ones", code=1)
    typer.echo("The same winners: the result is reproduced.")


async def _verify_draw(database_url: str, draw_id: int) -> Verification:
    from hearth.services.draws import verify

    async with _unit_of_work(database_url) as uow:
        return await verify(uow.draws, draw_id)


@bench_app.command("ingest")
def bench_ingest(
    updates: Annotated[int, typer.Option(min=100, help="Group messages to feed.")] = 20_000,
    members: Annotated[int, typer.Option(min=1, help="Distinct members sending them.")] = 1_000,
) -> None:
    """Full dispatcher + SQLite storage vs a bare aiogram dispatcher; prints the ratio."""
    from hearth.simulate.bench import run_ingest_benchmark

    asyncio.run(run_ingest_benchmark(updates=updates, members=members, echo=typer.echo))


@bench_app.command("checkin")
def bench_checkin(
    rate: Annotated[
        float, typer.Option(min=0.1, help="Check-ins offered per second (open loop).")
    ] = 200.0,
    seconds: Annotated[float, typer.Option(min=0.1, help="How long the load lasts.")] = 30.0,
    members: Annotated[
        int | None, typer.Option(min=1, help="Distinct members (default: one per check-in).")
    ] = None,
) -> None:
    """/checkin latency (p50/p90/p99) of the full stack on SQLite vs a bare aiogram dispatcher."""
    from hearth.simulate.bench_checkin import run_checkin_benchmark

    asyncio.run(run_checkin_benchmark(rate=rate, seconds=seconds, members=members, echo=typer.echo))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
