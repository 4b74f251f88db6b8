"""The command line describes what is really there."""

from __future__ import annotations

from typer.testing import CliRunner

from hearth.__main__ import app


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "simulate", "migrate", "bench"):
        assert command in result.output


def test_bench_help_lists_the_ingest_benchmark() -> None:
    result = CliRunner().invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    assert "ingest" in result.output


def test_an_unknown_time_zone_is_one_clear_error() -> None:
    result = CliRunner().invoke(app, ["simulate", "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "unknown IANA time zone" in result.output
