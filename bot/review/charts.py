"""Server-rendered SVG bar charts: no JavaScript, no CDN, readable by screen readers.

Each chart is an inline <svg role="img"> with a <title> and a <desc> that states the numbers in
words; the page also shows the same numbers as a table. Colours come from CSS classes in
review.css (the Content-Security-Policy forbids inline styles), and every bar carries its value as
text so no information depends on colour alone.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple
from xml.sax.saxutils import escape

from markupsafe import Markup

WIDTH, HEIGHT = 720, 280
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 12, 16, 48


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    css_class: str


def _attr(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _scale(value: int) -> Tuple[int, int]:
    """A round axis maximum and gridline step: at most 5 steps of 1, 2 or 5 times a power of 10."""
    if value <= 5:
        return max(value, 1), 1
    magnitude = 10 ** int(math.floor(math.log10(value / 5)))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * 5 >= value)
    return int(math.ceil(value / step) * step), step


def _axis(top: int, step: int, plot_height: float) -> List[str]:
    parts = []
    for tick in range(0, top + 1, step):
        y = MARGIN_TOP + plot_height - plot_height * tick / top
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    return parts


def _svg(
    chart_id: str, title: str, description: str, body: List[str], legend: Sequence[Series]
) -> Markup:
    legend_parts = []
    x = MARGIN_LEFT
    for series in legend:
        legend_parts.append(
            f'<rect class="{_attr(series.css_class)}" x="{x}" y="{HEIGHT - 16}" width="12" height="12"/>'
            f'<text class="legend" x="{x + 16}" y="{HEIGHT - 6}">{escape(series.label)}</text>'
        )
        x += 24 + 8 * len(series.label)
    return Markup(
        f'<svg class="chart" id="{_attr(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{_attr(chart_id)}-desc">{escape(description)}</desc>'
        + "".join(body)
        + ("".join(legend_parts) if len(legend) > 1 else "")
        + "</svg>"
    )


def grouped_bars(
    chart_id: str,
    title: str,
    groups: Sequence[Tuple[str, Sequence[int]]],
    series: Sequence[Series],
) -> Markup:
    """One cluster of bars per group (e.g. per topic), one bar per series (e.g. per band)."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top, step = _scale(max([v for _, values in groups for v in values] + [0]))
    body = _axis(top, step, plot_h)
    group_w = plot_w / max(len(groups), 1)
    bar_w = min(40.0, (group_w - 16) / max(len(series), 1))
    sentences = []
    for g, (label, values) in enumerate(groups):
        x0 = MARGIN_LEFT + g * group_w + (group_w - bar_w * len(series)) / 2
        for s, (serie, value) in enumerate(zip(series, values)):
            h = plot_h * value / top
            x = x0 + s * bar_w
            y = MARGIN_TOP + plot_h - h
            body.append(
                f'<rect class="bar {_attr(serie.css_class)}" x="{x + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" '
                f'height="{h:.1f}"><title>{escape(label)}, {escape(serie.label)}: {value}</title></rect>'
                f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{value}</text>'
            )
        body.append(
            f'<text class="label" x="{MARGIN_LEFT + g * group_w + group_w / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        sentences.append(f"{label}: " + ", ".join(f"{s.label} {v}" for s, v in zip(series, values)))
    return _svg(
        chart_id, title, "; ".join(sentences) + "." if sentences else "No data.", body, series
    )


def _week_label(week: dt.date) -> str:
    return f"{week.day} {week.strftime('%b')}"


def weekly_bars(
    chart_id: str,
    title: str,
    weeks: Sequence[Tuple[dt.date, Sequence[int]]],
    series: Sequence[Series],
) -> Markup:
    """One stacked bar per week (Monday dates), segments per series."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top, step = _scale(max([sum(values) for _, values in weeks] + [0]))
    body = _axis(top, step, plot_h)
    slot = plot_w / max(len(weeks), 1)
    bar_w = max(2.0, min(36.0, slot - 4))
    label_every = max(1, math.ceil(len(weeks) / 12))
    sentences = []
    for i, (week, values) in enumerate(weeks):
        x = MARGIN_LEFT + i * slot + (slot - bar_w) / 2
        y = float(MARGIN_TOP + plot_h)
        for serie, value in zip(series, values):
            if value <= 0:
                continue
            h = plot_h * value / top
            y -= h
            body.append(
                f'<rect class="bar {_attr(serie.css_class)}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                f"<title>Week of {escape(_week_label(week))}, {escape(serie.label)}: {value}</title></rect>"
            )
        total = sum(values)
        if total and bar_w >= 14:
            body.append(
                f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{total}</text>'
            )
        if i % label_every == 0:
            body.append(
                f'<text class="label" x="{x + bar_w / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" '
                f'text-anchor="middle">{escape(_week_label(week))}</text>'
            )
        if total:
            sentences.append(f"week of {_week_label(week)}: {total}")
    total_all = sum(sum(values) for _, values in weeks)
    description = (
        f"{total_all} in {len(weeks)} weeks"
        + (": " + "; ".join(sentences) if sentences else "")
        + "."
    )
    return _svg(chart_id, title, description, body, series)
