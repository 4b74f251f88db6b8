"""The chart operators look at first: daily active members, with joins and leaves."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from hearth.services.reports import Overview


def daily_active_chart(overview: Overview, path: Path, *, title: str) -> Path:
    """Draw daily active members (bars) with joined and left (lines) to a PNG at ``path``."""
    # A bare Figure renders without pyplot's global state or a display backend.
    figure = Figure(figsize=(10, 4.5), dpi=120)
    axes = figure.subplots()
    days = list(range(len(overview.days)))
    axes.bar(days, [f.active for f in overview.days], color="#e07a3f", label="active members")
    axes.plot(days, [f.joined for f in overview.days], "o-", color="#2a9d8f", ms=3, label="joined")
    axes.plot(days, [f.left for f in overview.days], "x-", color="#6c757d", ms=3, label="left")
    axes.set_title(title)
    axes.set_ylabel("members")
    axes.grid(axis="y", alpha=0.3)
    tallest = max([f.active for f in overview.days] or [1])
    axes.set_ylim(0, tallest * 1.25 + 1)  # headroom for the legend above the bars
    axes.legend(loc="upper center", ncol=3, frameon=False)
    step = max(1, len(days) // 15)
    axes.set_xticks(days[::step], labels=[f.day.strftime("%m-%d") for f in overview.days[::step]])
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
