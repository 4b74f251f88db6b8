"""The chart operators look at first: daily active members, with joins and leaves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen: render straight to a file

from matplotlib import pyplot

from hearth.services.reports import Overview


def daily_active_chart(overview: Overview, path: Path, *, title: str) -> Path:
    """Draw daily active members (bars) with joined and left (lines) to a PNG at ``path``."""
    days = [figures.day for figures in overview.days]
    figure, axes = pyplot.subplots(figsize=(10, 4.5), dpi=120)
    try:
        axes.bar(days, [f.active for f in overview.days], color="#e07a3f", label="active members")
        axes.plot(
            days,
            [f.joined for f in overview.days],
            color="#2a9d8f",
            marker="o",
            markersize=3,
            label="joined",
        )
        axes.plot(
            days,
            [f.left for f in overview.days],
            color="#6c757d",
            marker="x",
            markersize=3,
            label="left",
        )
        axes.set_title(title)
        axes.set_ylabel("members")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper right")
        figure.autofmt_xdate()
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        pyplot.close(figure)
    return path
