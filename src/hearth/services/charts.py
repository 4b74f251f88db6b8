"""The charts operators read in the weekly digest and /cohorts, as PNG bytes.

Drawn on a bare matplotlib ``Figure`` (the Agg canvas: no pyplot global state, no
display). Every label comes from the caller already translated. Chinese labels need a
font with CJK glyphs: the first installed of a few common ones is put before DejaVu Sans,
so that matplotlib falls back per glyph; without any, the labels show empty boxes and the
chart is still drawn.
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hearth.domain.cohorts import RetentionTable
from hearth.domain.lifecycle import Stage

# Fonts with CJK glyphs that systems commonly have, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
BASE_FAMILY = "DejaVu Sans"  # ships with matplotlib

ACCENT = "#e07a3f"
# The lifecycle stages from the most engaged to the least: the stack's order, bottom up.
STACK_ORDER = (
    Stage.MATURE,
    Stage.GROWING,
    Stage.NEW,
    Stage.DECLINING,
    Stage.DORMANT,
    Stage.CHURNED,
)
STAGE_COLOURS = {
    Stage.MATURE: "#2a9d8f",
    Stage.GROWING: "#8ab17d",
    Stage.NEW: "#e9c46a",
    Stage.DECLINING: "#f4a261",
    Stage.DORMANT: "#e76f51",
    Stage.CHURNED: "#adb5bd",
}


@dataclass(frozen=True, slots=True)
class ChartText:
    """A chart's translated words."""

    title: str
    x_label: str = ""
    y_label: str = ""
    note: str = ""  # a footnote under the chart


@functools.cache
def font_families() -> tuple[str, ...]:
    """The sans-serif families to draw with: installed CJK fonts first, then DejaVu Sans."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return (*(name for name in CJK_FAMILIES if name in installed), BASE_FAMILY)


@contextlib.contextmanager
def _drawing() -> Iterator[None]:
    """Draw with the fallback fonts; glyphs no installed font has become boxes, quietly.

    (matplotlib reads these settings when it creates and when it draws text, so the whole
    chart is made and saved inside; charts are drawn synchronously, one at a time.)
    """
    fonts = matplotlib.rc_context(
        {"font.family": "sans-serif", "font.sans-serif": list(font_families())}
    )
    with fonts, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        yield


def _png(figure: Figure, text: ChartText) -> bytes:
    if text.note:
        figure.text(0.01, 0.01, text.note, fontsize=8, color="#6c757d")
    figure.tight_layout(rect=(0, 0.04 if text.note else 0, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _day_ticks(axes: Axes, days: Sequence[date]) -> None:
    """At most about 10 day labels along the x axis; whole members up the y axis."""
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    positions = list(range(len(days)))
    step = max(1, len(days) // 10)
    axes.set_xticks(
        positions[::step], labels=[day.strftime("%m-%d") for day in days[::step]], rotation=45
    )


def daily_active_png(days: Sequence[date], active: Sequence[int], text: ChartText) -> bytes:
    """A line of the members active on each local day."""
    if len(days) != len(active):
        raise ValueError("one count per day is needed")
    with _drawing():
        figure = Figure(figsize=(8, 4), dpi=110)
        axes = figure.subplots()
        axes.plot(range(len(days)), list(active), "o-", color=ACCENT, ms=3, lw=1.5)
        axes.fill_between(range(len(days)), list(active), color=ACCENT, alpha=0.15)
        axes.set_ylim(0, max([*active, 1]) * 1.15)
        axes.grid(axis="y", alpha=0.3)
        axes.set_title(text.title)
        axes.set_xlabel(text.x_label)
        axes.set_ylabel(text.y_label)
        _day_ticks(axes, days)
        return _png(figure, text)


def stage_stack_png(
    days: Sequence[date],
    counts: Mapping[date, Mapping[Stage, int]],
    names: Mapping[Stage, str],
    text: ChartText,
) -> bytes:
    """Members per lifecycle stage on each local day, stacked from the most engaged up."""
    stages = [stage for stage in STACK_ORDER if any(counts.get(d, {}).get(stage) for d in days)]
    with _drawing():
        figure = Figure(figsize=(8, 4), dpi=110)
        axes = figure.subplots()
        if stages:
            axes.stackplot(
                range(len(days)),
                *([counts.get(day, {}).get(stage, 0) for day in days] for stage in stages),
                labels=[names.get(stage, stage.value) for stage in stages],
                colors=[STAGE_COLOURS[stage] for stage in stages],
                alpha=0.9,
            )
            axes.legend(loc="upper left", fontsize=8, ncol=min(len(stages), 3), frameon=False)
        tallest = max([sum(counts.get(day, {}).values()) for day in days] or [0])
        axes.set_ylim(0, max(tallest, 1) * 1.3)  # headroom for the legend
        axes.set_xlim(0, max(len(days) - 1, 1))
        axes.grid(axis="y", alpha=0.3)
        axes.set_title(text.title)
        axes.set_xlabel(text.x_label)
        axes.set_ylabel(text.y_label)
        _day_ticks(axes, days)
        return _png(figure, text)


def retention_heatmap_png(table: RetentionTable, text: ChartText) -> bytes:
    """Join cohorts (rows, oldest on top) × weeks since joining (columns): the share of each
    cohort active that week, as colour and percentage; weeks not over yet stay blank.
    Cohorts below the table's minimum size are marked with ``*`` after their size."""
    shares = np.array(
        [[np.nan if share is None else share for share in row.shares] for row in table.rows],
        dtype=float,
    ).reshape(len(table.rows), table.weeks)
    with _drawing():
        figure = Figure(figsize=(1.6 + 0.7 * max(table.weeks, 4), 1.4 + 0.45 * len(table.rows)))
        figure.set_dpi(110)
        axes = figure.subplots()
        image = axes.imshow(
            np.ma.masked_invalid(shares), cmap="YlGnBu", vmin=0, vmax=1, aspect="auto"
        )
        for (row, column), share in np.ndenumerate(shares):
            if not np.isnan(share):
                colour = "white" if share > 0.55 else "#212529"
                axes.text(column, row, f"{share:.0%}", ha="center", va="center", color=colour)
        axes.set_xticks(range(table.weeks), labels=[str(week) for week in range(table.weeks)])
        axes.set_yticks(
            range(len(table.rows)),
            labels=[
                f"{row.start:%m-%d} · {row.members}{'*' if row.small else ''}" for row in table.rows
            ],
        )
        axes.tick_params(length=0)
        axes.set_title(text.title)
        axes.set_xlabel(text.x_label)
        axes.set_ylabel(text.y_label)
        figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02, format="{x:.0%}")
        return _png(figure, text)
