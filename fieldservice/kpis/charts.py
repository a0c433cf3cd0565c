"""Small line charts drawn on the server as inline SVG: no script, no chart library.

A chart is accessible on its own (`role="img"` named by its `<title>`, described by its
`<desc>`, which states the latest value and the range); the page adds a visually hidden
table of the same numbers for screen readers, and each point carries a `<title>` tooltip.
A month without data is a gap in the line, never a zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 360, 190
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 22, 38
TICKS = 4
# Nice steps for an axis read from the data, times a power of ten.
NICE = tuple(Decimal(n) for n in ("1", "1.5", "2", "2.5", "3", "4", "5", "6", "8", "10"))


@dataclass(frozen=True)
class Point:
    month: dt.date
    value: Decimal | None


def nice_top(largest: Decimal, bottom: Decimal) -> Decimal:
    """The smallest 'nice' axis top at or above `largest` (at least bottom + 1)."""
    span = max(largest - bottom, Decimal(1))
    step = span / TICKS
    magnitude = Decimal(10) ** (step.adjusted())
    for nice in NICE:
        if nice * magnitude >= step:
            return bottom + nice * magnitude * TICKS
    return bottom + 10 * magnitude * TICKS  # pragma: no cover - NICE ends at 10


def _fmt(value: Decimal) -> str:
    normalized = value.normalize()
    return f"{normalized:f}" if normalized == normalized.to_integral() else f"{value:f}"


def month_label(month: dt.date) -> str:
    return date_format(month, "M")


def line_chart(
    *,
    chart_id: str,
    title: str,
    unit: str,
    points: Sequence[Point],
    axis_min: Decimal,
    axis_max: Decimal | None,
    note_id: str = "",
) -> SafeString:
    values = [p.value for p in points if p.value is not None]
    bottom = min([axis_min, *values])
    top = axis_max if axis_max is not None and all(v <= axis_max for v in values) else None
    if top is None:
        top = nice_top(max([bottom + 1, *values]), bottom)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step_x = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + i * step_x, 1)

    def y(value: Decimal) -> float:
        return round(TOP + plot_h * float((top - value) / (top - bottom)), 1)

    grid = []
    for tick in range(TICKS + 1):
        value = bottom + (top - bottom) * tick / TICKS
        grid.append((y(value), _fmt(value)))
    gridlines = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="tick" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
        ((LEFT, WIDTH - RIGHT, gy, gy, LEFT - 6, gy, label) for gy, label in grid),
    )
    labels = format_html_join(
        "",
        '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>{}',
        (
            (
                x(i),
                HEIGHT - BOTTOM + 16,
                month_label(p.month),
                format_html(
                    '<text class="tick year" x="{}" y="{}" text-anchor="middle">{}</text>',
                    x(i),
                    HEIGHT - BOTTOM + 30,
                    p.month.year,
                )
                if _shows_year(i, points)
                else "",
            )
            for i, p in enumerate(points)
        ),
    )
    # The line, broken where a month has no value.
    path, pen_down = [], False
    for i, p in enumerate(points):
        if p.value is None:
            pen_down = False
            continue
        path.append(f"{'L' if pen_down else 'M'}{x(i)},{y(p.value)}")
        pen_down = True
    dots = format_html_join(
        "",
        '<circle class="dot" cx="{}" cy="{}" r="3.5"><title>{}: {} {}</title></circle>',
        (
            (x(i), y(p.value), date_format(p.month, "YEAR_MONTH_FORMAT"), _fmt(p.value), unit)
            for i, p in enumerate(points)
            if p.value is not None
        ),
    )
    description = _describe(title=title, unit=unit, points=points)
    return format_html(
        '<svg class="kpi-chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-title {id}-desc"'
        ' {describedby} xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        '<g aria-hidden="true">{grid}'
        '<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{base}"/>'
        '<line class="axis" x1="{left}" x2="{right}" y1="{base}" y2="{base}"/>'
        '<text class="unit" x="{unit_x}" y="{unit_y}">{unit}</text>'
        "{labels}"
        '<path class="line" d="{path}" fill="none"/>{dots}</g></svg>',
        w=WIDTH,
        h=HEIGHT,
        id=chart_id,
        describedby=format_html('aria-describedby="{}"', note_id) if note_id else "",
        title=title,
        desc=description,
        grid=gridlines,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        base=HEIGHT - BOTTOM,
        unit_x=LEFT + 4,
        unit_y=TOP - 8,
        unit=unit,
        labels=labels,
        path=" ".join(path),
        dots=dots,
    )


def _shows_year(i: int, points: Sequence[Point]) -> bool:
    """Under January, and under the first month unless January is right next to it."""
    if points[i].month.month == 1:
        return True
    return i == 0 and not (len(points) > 1 and points[1].month.month == 1)


def _describe(*, title: str, unit: str, points: Sequence[Point]) -> str:
    known = [p for p in points if p.value is not None]
    if not points:
        return _("No months.")
    first, last = points[0].month, points[-1].month
    span = _("%(title)s by month, %(first)s to %(last)s.") % {
        "title": title,
        "first": date_format(first, "YEAR_MONTH_FORMAT"),
        "last": date_format(last, "YEAR_MONTH_FORMAT"),
    }
    if not known:
        return f"{span} {_('No data in these months.')}"
    latest = known[-1]
    assert latest.value is not None
    low = min(p.value for p in known if p.value is not None)
    high = max(p.value for p in known if p.value is not None)
    detail = _("Latest %(month)s: %(value)s %(unit)s; lowest %(low)s, highest %(high)s.") % {
        "month": date_format(latest.month, "YEAR_MONTH_FORMAT"),
        "value": _fmt(latest.value),
        "unit": unit,
        "low": _fmt(low),
        "high": _fmt(high),
    }
    return f"{span} {detail}"
