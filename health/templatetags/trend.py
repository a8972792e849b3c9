"""The dashboard's day-by-day lists, written in Python: the trend card's data table (180 to
365 rows) and "What moved your AHR" (a row a changed day). Through the template engine they
cost several milliseconds each on every cache miss, here a fraction of one. The markup is what
the templates wrote (trend-notes.js reads both)."""

from __future__ import annotations

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from health.chart import TableMonth
from health.views.outlook_text import DayText

register = template.Library()

# What a day without a record shows for its AHR.
NO_RECORD = "\u2013"


@register.simple_tag
def trend_table_body(months: tuple[TableMonth, ...]) -> SafeString:
    """One <tbody> a month: its name, then a row a day (the day of the month, its AHR and its
    change). Only numbers and the month's localized name, which alone needs escaping."""
    parts = []
    for month in months:
        name = escape(date_format(month.month, "YEAR_MONTH_FORMAT"))
        parts.append(f'<tbody><tr><th colspan="3" scope="rowgroup">{name}')
        parts.extend(
            f"<tr><th>{row.day.day}<td>{NO_RECORD if row.ahr is None else _number(row.ahr)}"
            f"<td>{row.change_text}"
            for row in month.days
        )
        parts.append("</tbody>")
    return mark_safe("".join(parts))  # noqa: S308


@register.simple_tag
def moved_list(days: list[DayText]) -> SafeString:
    """Each changed day, its AHR before and after, and what moved it, item by item."""
    parts = ['<ol class="moved-list">']
    for day in days:
        iso = day.day.isoformat()
        moved = gettext("%(before)s to %(after)s") % {
            "before": _number(day.before, grouped=True),
            "after": _number(day.after, grouped=True),
        }
        parts.append(
            f'<li id="moved-{iso}"><p><time datetime="{iso}">'
            f"{escape(date_format(day.day, 'DATE_FORMAT'))}</time>: {escape(moved)}</p><ul>"
        )
        parts.extend(
            f"<li>{escape(item.text)} <b{_direction(item.points)}>"
            f"{escape(item.points_text)}</b></li>"
            for item in day.items
        )
        parts.append("</ul></li>")
    parts.append("</ol>")
    return mark_safe("".join(parts))  # noqa: S308


def _direction(points: int) -> str:
    return ' class="up"' if points > 0 else ' class="down"' if points < 0 else ""


def _number(value: int, *, grouped: bool = False) -> str:
    """A number as the template wrote it: localized, or grouped in every locale (humanize's
    intcomma). Below 1,000 both are its digits, and formatting hundreds of cells one by one is
    what these tags save."""
    if -1000 < value < 1000:
        return str(value)
    return intcomma(value) if grouped else number_format(value)
