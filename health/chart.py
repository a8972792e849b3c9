"""The AHR trend as one server-rendered SVG: a handful of paths, whatever the number of days.

Rendering one element per day costs milliseconds per page; one path string costs microseconds
and weighs a few KB, and the chart is complete without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from health.rating import AHA_LINE, AT_RISK_FROM, HEALTHY_FROM, MAX_AHR, MIN_AHR

WIDTH = 720
HEIGHT = 220
PAD_LEFT = 40
PAD_RIGHT = 8
PAD_TOP = 8
PAD_BOTTOM = 22
# The y axis goes to at least this, so that the 250 line and the bands are always in view.
MIN_TOP = 400
TOP_STEP = 100


@dataclass(frozen=True, slots=True)
class Gridline:
    value: int
    y: float
    kind: str


@dataclass(frozen=True, slots=True)
class BandArea:
    name: str
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class DayNote:
    """What moved the AHR on one charted day, and the strip of the plot that stands for it."""

    day: dt.date
    x: float
    width: float
    text: str


@dataclass(frozen=True, slots=True)
class TrendChart:
    """Everything the template needs to draw the trend and describe it in words."""

    first_day: dt.date
    last_day: dt.date
    days: int
    line: str
    below_marks: str
    gridlines: tuple[Gridline, ...]
    bands: tuple[BandArea, ...]
    now: int | None
    minimum: int | None
    maximum: int | None
    days_below: int
    days_recorded: int
    # The forecast drawn after the last day (a dashed continuation of the line), and the notes
    # of the days whose change is explained.
    forecast_line: str = ""
    forecast_days: int = 0
    forecast_last_day: dt.date | None = None
    last_x: float = WIDTH - PAD_RIGHT
    notes: tuple[DayNote, ...] = ()
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT
    plot_top: int = PAD_TOP
    plot_height: int = HEIGHT - PAD_TOP - PAD_BOTTOM
    plot_bottom: int = HEIGHT - PAD_BOTTOM
    plot_width: int = WIDTH - PAD_LEFT - PAD_RIGHT

    @property
    def empty(self) -> bool:
        return self.days_recorded == 0


def build_trend(
    ratings: Iterable[tuple[dt.date, int]],
    *,
    last_day: dt.date,
    days: int,
    forecast: Iterable[tuple[dt.date, int]] = (),
    notes: Mapping[dt.date, str] | None = None,
) -> TrendChart:
    """The chart of the `days` days ending at `last_day`; days without a record leave a gap.
    A `forecast` of the days after `last_day` widens the chart and continues the line dashed;
    `notes` say what moved the AHR on some of the charted days."""
    first_day = last_day - dt.timedelta(days=days - 1)
    points = sorted((day, ahr) for day, ahr in ratings if first_day <= day <= last_day)
    ahead = sorted((day, ahr) for day, ahr in forecast if day > last_day)
    values = [ahr for _day, ahr in points]
    top = _axis_top(max(values + [ahr for _day, ahr in ahead], default=MIN_AHR))
    span = days + len(ahead)
    x_step = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(span - 1, 1)

    def x(day: dt.date) -> float:
        return PAD_LEFT + (day - first_day).days * x_step

    def y(ahr: int) -> float:
        return PAD_TOP + (top - min(ahr, top)) * (HEIGHT - PAD_TOP - PAD_BOTTOM) / (top - MIN_AHR)

    return TrendChart(
        first_day=first_day,
        last_day=last_day,
        days=days,
        line=_line_path(points, x, y),
        below_marks=_below_path(points, x, mark_width=max(x_step, 1.0)),
        gridlines=tuple(
            Gridline(value, y(value), kind)
            for value, kind in (
                (AT_RISK_FROM, "band"),
                (HEALTHY_FROM, "band"),
                (AHA_LINE, "aha"),
                (top, "top"),
            )
        ),
        bands=tuple(
            BandArea(name, y(upper), y(lower) - y(upper))
            for name, upper, lower in (
                ("healthy", top, HEALTHY_FROM),
                ("at_risk", HEALTHY_FROM, AT_RISK_FROM),
                ("unhealthy", AT_RISK_FROM, MIN_AHR),
            )
        ),
        now=values[-1] if points and points[-1][0] == last_day else None,
        minimum=min(values, default=None),
        maximum=max(values, default=None),
        days_below=sum(1 for value in values if value < AHA_LINE),
        days_recorded=len(values),
        # From the last recorded day on, so that the dashed line continues the solid one.
        forecast_line=_line_path(points[-1:] + ahead if ahead else [], x, y),
        forecast_days=len(ahead),
        forecast_last_day=ahead[-1][0] if ahead else None,
        last_x=x(last_day),
        notes=tuple(
            DayNote(day, x(day) - x_step / 2, x_step, text)
            for day, text in sorted((notes or {}).items())
            if first_day <= day <= last_day
        ),
    )


def _axis_top(highest: int) -> int:
    rounded = -(-highest // TOP_STEP) * TOP_STEP
    return min(max(MIN_TOP, rounded), MAX_AHR)


def _line_path(points, x, y) -> str:
    """One path; a missing day starts a new segment instead of joining across the gap."""
    parts: list[str] = []
    previous: dt.date | None = None
    for day, ahr in points:
        command = "L" if previous is not None and (day - previous).days == 1 else "M"
        parts.append(f"{command}{x(day):.1f} {y(ahr):.1f}")
        previous = day
    return "".join(parts)


def _below_path(points, x, *, mark_width: float) -> str:
    """A strip under the plot, one rectangle per day below the AHA line, as a single path."""
    top = HEIGHT - PAD_BOTTOM + 3
    height = 6
    return "".join(
        f"M{x(day) - mark_width / 2:.1f} {top}h{mark_width:.1f}v{height}h{-mark_width:.1f}z"
        for day, ahr in points
        if ahr < AHA_LINE
    )
