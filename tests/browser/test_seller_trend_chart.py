"""The trend chart in real Chromium at desktop and phone width: every day reachable by keyboard
and pointer with its date, AHR and what moved it, its labels readable on a phone, its dates in
the page's language, its violation marks and its data table, and without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import formats, translation

from accounts.models import Language
from health.chart import WIDTH
from health.models import ViolationCategory
from tests.browser.test_seller_dashboard import DESKTOP, PHONE, sign_in
from tests.builders import make_seller_user
from tests.health.test_forecast_properties import day, steady_account

DETECTED = 150
EXPLAINED = "Listing policy violations: the violation detected on"
# The rendered size of each axis label: its font size in the SVG's units, scaled as the SVG is.
LABEL_SIZES = f"""() => {{
  const svg = document.querySelector('.trend-svg');
  const scale = svg.getBoundingClientRect().width / {WIDTH};
  return [...svg.querySelectorAll('.axis-label')]
    .filter((label) => getComputedStyle(label).display !== 'none')
    .map((label) => ({{
      text: label.textContent,
      size: parseFloat(getComputedStyle(label).fontSize) * scale,
      height: label.getBoundingClientRect().height,
    }}));
}}"""


@pytest.fixture
def below_the_line():
    """180 days closed, flat, then below 250 since day 150 (an open listing violation)."""
    account = steady_account(180, [(DETECTED, ViolationCategory.LISTING)])
    return account, make_seller_user(seller=account.seller)


def open_dashboard(browser, live_server, account, user, viewport, **options):
    page = browser.new_context(viewport=viewport, **options).new_page()
    sign_in(page, live_server.url, user.username)
    page.goto(live_server.url + reverse("health:dashboard", args=[account.pk]))
    return page


def focused_label(page) -> str:
    return page.evaluate("document.activeElement.getAttribute('aria-label') || ''")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_seller_tabs_to_the_chart_and_reads_each_day(
    live_server, browser, below_the_line, viewport
):
    from playwright.sync_api import expect

    account, user = below_the_line
    page = open_dashboard(browser, live_server, account, user, viewport)
    note = page.locator(".trend-note")
    expect(page.locator(".trend-help")).to_be_visible()
    assert page.locator(".days rect").count() == 180

    # One tab stop after the period switch: the last day, named with its date and value.
    page.locator(".period-switch a").last.focus()
    page.keyboard.press("Tab")
    label = focused_label(page)
    assert label.startswith(f"{day(180, 179):%B} {day(180, 179).day}, {day(180, 179).year}: AHR ")
    assert label.endswith("no change"), label
    expect(note).to_have_text(label)
    stroke = page.evaluate("getComputedStyle(document.activeElement).stroke")
    assert stroke not in ("", "none"), "the focused day is visibly marked"

    # The arrow keys go day by day; the day the violation counted says what moved the AHR.
    for _ in range(179 - DETECTED):
        page.keyboard.press("ArrowLeft")
    assert focused_label(page).startswith(f"{day(180, DETECTED):%B} {day(180, DETECTED).day},")
    expect(note).to_contain_text(EXPLAINED)
    page.keyboard.press("Home")
    assert focused_label(page).startswith(f"{day(180, 0):%B} {day(180, 0).day},")
    # Tab leaves the chart: its days are one stop, not 180.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.days') === null")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_seller_points_at_a_day_and_reads_what_moved_it(
    live_server, browser, below_the_line, viewport
):
    from playwright.sync_api import expect

    account, user = below_the_line
    page = open_dashboard(browser, live_server, account, user, viewport)
    note = page.locator(".trend-note")
    days = page.locator(".days rect")
    if viewport is DESKTOP:
        days.nth(DETECTED).hover()
        expect(note).to_contain_text(EXPLAINED)
    # On a phone a day is under a pixel wide (180 days and the forecast's 180 in 300 px): the
    # pointer reads the day under it, this one or a neighbour.
    days.nth(10).hover(force=True)
    names = [f"{day(180, n):%B} {day(180, n).day}, {day(180, n).year}: AHR " for n in (9, 10, 11)]
    expect(note).to_contain_text(re.compile("|".join(names)))
    # The violation's detection is marked on the chart, and the legend says what the mark is.
    assert page.locator("path.detected-marks").get_attribute("d").startswith("M")
    expect(page.locator(".legend").first).to_contain_text("a violation detected")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_axis_labels_read_at_least_12_px_on_a_phone(live_server, browser, below_the_line):
    account, user = below_the_line
    for viewport in (PHONE, DESKTOP):
        page = open_dashboard(browser, live_server, account, user, viewport)
        labels = page.evaluate(LABEL_SIZES)
        assert len(labels) >= 4, labels
        for label in labels:
            assert label["size"] >= 12, (viewport, label)
            assert label["height"] >= 12, (viewport, label)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_axis_dates_are_in_the_pages_language(live_server, browser, below_the_line):
    account, user = below_the_line
    user.language = Language.POLISH
    user.save()
    page = open_dashboard(browser, live_server, account, user, PHONE)
    first = page.locator(".axis-x").first.text_content()
    with translation.override("pl"):
        # With the year when the chart and its forecast span two.
        assert first in {
            formats.date_format(day(180, 0), "MONTH_DAY_FORMAT"),
            formats.date_format(day(180, 0), "DATE_FORMAT"),
        }
    assert re.fullmatch(r"\d{1,2} [a-ząćęłńóśźż]+( \d{4})?", first), first
    assert "/" not in page.locator(".axis-x").last.text_content()
    # The days' names follow the page's language too.
    page.locator(".period-switch a").last.focus()
    page.keyboard.press("Tab")
    assert re.match(r"\d{1,2} [a-ząćęłńóśźż]+ \d{4}: AHR ", focused_label(page))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_javascript_the_table_gives_every_day(live_server, browser, below_the_line):
    from playwright.sync_api import expect

    account, user = below_the_line
    page = open_dashboard(browser, live_server, account, user, PHONE, java_script_enabled=False)
    assert page.locator(".days rect").count() == 0
    expect(page.locator(".trend-help")).to_be_hidden()
    page.locator(".trend-data summary").click()
    table = page.locator(".trend-table")
    expect(table).to_be_visible()
    assert table.locator("tbody tr:has(td)").count() == 180
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
