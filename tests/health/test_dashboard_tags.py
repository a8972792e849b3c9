"""The dashboard's day-by-day lists written in Python read exactly as the template loops they
replace: the same markup, numbers, dates and escaping, in English and Polish."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from health.chart import build_trend
from health.templatetags.trend import moved_list, trend_table_body
from health.views.outlook_text import DayText, ItemText

# The loops as the templates had them.
TABLE_LOOP = Template(
    '{% for month in chart.table %}<tbody><tr><th colspan="3" scope="rowgroup">'
    '{{ month.month|date:"YEAR_MONTH_FORMAT" }}{% for row in month.days %}<tr><th>'
    '{{ row.day.day }}<td>{{ row.ahr|default_if_none:"\u2013" }}<td>{{ row.change_text }}'
    "{% endfor %}</tbody>{% endfor %}"
)
MOVED_LOOP = Template(
    '{% load i18n humanize %}{% spaceless %}<ol class="moved-list">{% for day in days %}\n'
    "<li id=\"moved-{{ day.day|date:'Y-m-d' }}\"><p><time datetime=\"{{ day.day|date:'Y-m-d' }}\">"
    '{{ day.day|date:"DATE_FORMAT" }}</time>: {% blocktranslate with before=day.before|intcomma'
    " after=day.after|intcomma %}{{ before }} to {{ after }}{% endblocktranslate %}</p>\n"
    "  <ul>{% for item in day.items %}<li>{{ item.text }} <b{% if item.points > 0 %}"
    ' class="up"{% elif item.points < 0 %} class="down"{% endif %}>{{ item.points_text }}'
    "</b></li>{% endfor %}</ul></li>\n{% endfor %}</ol>{% endspaceless %}"
)
LAST = dt.date(2026, 2, 10)


@pytest.mark.parametrize("language", ["en", "pl"])
def test_the_table_body_is_the_template_loops(language: str) -> None:
    ratings = {LAST - dt.timedelta(days=n): (1000, 999, 250, 0)[n % 4] for n in range(400)}
    del ratings[LAST - dt.timedelta(days=20)]
    chart = build_trend(ratings.items(), last_day=LAST, days=365)
    with translation.override(language):
        assert trend_table_body(chart.table) == TABLE_LOOP.render(Context({"chart": chart}))


@pytest.mark.parametrize("language", ["en", "pl"])
def test_what_moved_is_the_template_loops(language: str) -> None:
    days = [
        DayText(LAST, 990, 1000, (ItemText("<Orders> & more", 10, "+10", "+10 points"),)),
        DayText(
            LAST - dt.timedelta(days=3),
            1200,
            640,
            (
                ItemText("A violation", -560, "\u2212560", "\u2212560"),
                ItemText("Same", 0, "0", "0"),
            ),
        ),
        DayText(LAST - dt.timedelta(days=5), 300, 300, ()),
    ]
    with translation.override(language):
        assert moved_list(days) == MOVED_LOOP.render(Context({"days": days}))
    assert "&lt;Orders&gt; &amp; more" in moved_list(days)
