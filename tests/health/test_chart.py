"""The trend chart's drawing: the compact paths read back to the days drawn, the violation
marks, the data table, and the axis dates in the page's language."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from health.chart import PAD_TOP, WIDTH, build_trend

LAST = dt.date(2026, 5, 6)
TOKEN = re.compile(r"[MmLlHhz]|[-+]?\d+(?:\.\d+)?")


def vertices(path: str) -> list[list[tuple[float, float]]]:
    """The segments of a path of M, m, l and h commands, each a list of its vertices."""
    segments: list[list[tuple[float, float]]] = []
    x = y = 0.0
    command = ""
    tokens = TOKEN.findall(path)
    while tokens:
        if tokens[0].isalpha():
            command = tokens.pop(0)
        if command in "Mm":
            dx, dy = float(tokens.pop(0)), float(tokens.pop(0))
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
            segments.append([(x, y)])
            command = "l" if command == "m" else "L"
        elif command == "l":
            x, y = x + float(tokens.pop(0)), y + float(tokens.pop(0))
            segments[-1].append((x, y))
        elif command == "h":
            x += float(tokens.pop(0))
            segments[-1].append((x, y))
    return segments


def days_back(*values: int | None, last: dt.date = LAST) -> list[tuple[dt.date, int]]:
    """Ratings ending at `last`, oldest first; None leaves a day without a record."""
    first = last - dt.timedelta(days=len(values) - 1)
    return [
        (first + dt.timedelta(days=n), value) for n, value in enumerate(values) if value is not None
    ]


def test_the_line_reads_back_to_each_day_and_its_ahr():
    chart = build_trend(days_back(300, 296, 296, 296, 310, 120), last_day=LAST, days=6)
    (segment,) = vertices(chart.line)
    # A run of days of the same AHR is one horizontal step: its end is the run's last day.
    assert segment == [(0, 300), (1, 296), (3, 296), (4, 310), (5, 120)]
    assert "h2" in chart.line


def test_a_day_without_a_record_breaks_the_line():
    chart = build_trend(days_back(300, 301, None, 280, 279), last_day=LAST, days=5)
    assert vertices(chart.line) == [[(0, 300), (1, 301)], [(3, 280), (4, 279)]]


def test_the_forecast_continues_from_the_last_day():
    forecast = [(LAST + dt.timedelta(days=n), 260 + n) for n in (1, 2)]
    chart = build_trend(days_back(250, 255), last_day=LAST, days=2, forecast=forecast)
    assert vertices(chart.forecast_line) == [[(1, 255), (2, 261), (3, 262)]]
    assert chart.forecast_last_day == LAST + dt.timedelta(days=2)


def test_the_below_strip_has_a_stroke_per_run_of_days_below_250():
    chart = build_trend(days_back(300, 200, 210, 300, 100, 300), last_day=LAST, days=6)
    assert vertices(chart.below_marks) == [[(1, 0), (3, 0)], [(4, 0), (5, 0)]]


def test_violation_marks_stand_on_the_days_detected_and_resolved_within_the_chart():
    chart = build_trend(
        days_back(*[300] * 10),
        last_day=LAST,
        days=10,
        detected=[LAST - dt.timedelta(days=9), LAST, LAST, LAST - dt.timedelta(days=40)],
        resolved=[LAST - dt.timedelta(days=2)],
    )
    step = chart.plot_width / 9
    (detected,) = vertices(chart.detected_marks)
    assert [x for x, _y in detected] == [chart.plot_left, round(chart.plot_left + 9 * step)]
    (resolved,) = vertices(chart.resolved_marks)
    assert [x for x, _y in resolved] == [round(chart.plot_left + 7 * step)] * 2
    assert build_trend(days_back(300), last_day=LAST, days=1).detected_marks == ""


def test_the_table_has_every_day_by_month_with_its_change():
    may_2 = dt.date(2026, 5, 2)
    chart = build_trend(days_back(300, 296, None, 280, 280, last=may_2), last_day=may_2, days=5)
    april, may = chart.table
    assert (april.month, may.month) == (dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    rows = [(row.day.day, row.ahr, row.change_text) for row in april.days + may.days]
    assert rows == [
        (28, 300, ""),
        (29, 296, "\u22124"),
        (30, None, ""),
        (1, 280, ""),
        (2, 280, "0"),
    ]


def render(chart, language: str) -> str:
    with translation.override(language):
        return render_to_string(
            "health/_trend.html", {"chart": chart, "period": "180", "aha_line": 250}
        )


def axis_dates(html: str) -> list[str]:
    return re.findall(r'class="axis-label axis-x"[^>]*>([^<]+)<', html)


def test_axis_dates_are_written_in_the_pages_language():
    chart = build_trend(days_back(*[300] * 30), last_day=LAST, days=30)
    assert axis_dates(render(chart, "en")) == ["April 7", "May 6"]
    assert axis_dates(render(chart, "pl")) == ["7 kwietnia", "6 maja"]


def test_axis_dates_name_the_year_when_the_chart_spans_two():
    chart = build_trend(days_back(*[300] * 200), last_day=LAST, days=200)
    assert axis_dates(render(chart, "en")) == ["Oct. 19, 2025", "May 6, 2026"]
    assert axis_dates(render(chart, "pl")) == ["19 października 2025", "6 maja 2026"]


def test_the_table_is_in_the_chart_card_in_the_pages_language():
    html = render(build_trend(days_back(300, 296), last_day=LAST, days=2), "pl")
    table = html.split('<table class="trend-table"', 1)[1].split("</table>", 1)[0]
    assert 'data-none="bez zmian"' in table
    assert "Zmiana" in table and "Maj 2026" in table
    assert "<tr><th>5<td>300<td><tr><th>6<td>296<td>\u22124" in table


def test_the_days_of_the_plot_are_sized_in_the_stylesheet_as_the_chart_draws_them():
    chart = build_trend(days_back(300), last_day=LAST, days=1)
    css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()
    assert f".days rect{{y:{PAD_TOP}px;height:{chart.plot_height}px;width:1px;" in css
    assert chart.width == WIDTH
