"""The outlook in real Chromium: a seller not yet enrolled sees the day it would qualify,
resolves a violation in the what-if and sees that day move earlier, in place with htmx and
without JavaScript, at desktop and phone width. The screenshots of the outlook card are kept in
screenshots/ (what-if-*.png)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from health.models import Violation, ViolationCategory
from tests.browser.test_seller_dashboard import DESKTOP, PHONE, sign_in
from tests.builders import make_seller_user
from tests.health.test_forecast_properties import steady_account

SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"


@pytest.fixture
def below_the_line():
    """180 days closed, below 250 since day 150 (an open listing violation): not enrolled."""
    account = steady_account(180, [(150, ViolationCategory.LISTING)])
    return account, make_seller_user(seller=account.seller)


def qualifying_day(locator) -> dt.date:
    return dt.date.fromisoformat(locator.get_attribute("data-day"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "1280"), (PHONE, "390")])
def test_a_seller_resolves_a_violation_in_the_what_if_and_qualifies_earlier(
    live_server, browser, below_the_line, viewport, name
):
    from playwright.sync_api import expect

    account, user = below_the_line
    (violation,) = Violation.objects.filter(store_account=account)
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, live_server.url, user.username)
    page.goto(live_server.url + reverse("health:dashboard", args=[account.pk]))

    # The chart continues the trend with the forecast, and reads the day under focus.
    expect(page.locator("svg.trend-svg path.forecast-line")).to_have_count(1)
    page.locator(".days rect").nth(150).focus()
    expect(page.locator(".trend-note")).to_contain_text(
        "Listing policy violations: the violation detected on"
    )
    outlook = page.locator("#outlook")
    now = outlook.locator(".qualifying-day")
    expect(now).to_contain_text("You would qualify for AHA at the close of")
    before = qualifying_day(now)
    outlook.get_by_label("Listing policy violations: detected on").check()
    outlook.get_by_role("button", name="Show what would change").click()

    answer = page.locator("#what-if-answer")
    expect(answer).to_contain_text("days earlier than now.")
    after = qualifying_day(answer.locator(".qualifying-day"))
    assert after < before
    expect(answer).to_contain_text(f"{(before - after).days} days earlier than now.")
    # Answered in place: the address names the what-if (back and reload work), nothing saved.
    assert "whatif=1" in page.url and f"resolve={violation.pk}" in page.url
    expect(page.locator(f"input[name=resolve][value='{violation.pk}']")).to_be_checked()
    violation.refresh_from_db()
    assert violation.resolved_at is None
    # The trend card swapped in with the what-if's forecast has its days too.
    expect(page.locator(".days rect")).to_have_count(180)
    page.locator(".days rect").nth(150).focus()
    expect(page.locator(".trend-note")).to_contain_text(
        "Listing policy violations: the violation detected on"
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    outlook.screenshot(path=str(SCREENSHOTS / f"what-if-{name}.png"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_what_if_works_as_a_plain_form_without_javascript(live_server, browser, below_the_line):
    from playwright.sync_api import expect

    account, user = below_the_line
    page = browser.new_context(viewport=PHONE, java_script_enabled=False).new_page()
    sign_in(page, live_server.url, user.username)
    page.goto(live_server.url + reverse("health:dashboard", args=[account.pk]))
    before = qualifying_day(page.locator("#outlook .qualifying-day"))
    page.locator("#outlook input[name=resolve]").check()
    page.locator("#outlook input[name=orders]").fill("20")
    page.get_by_role("button", name="Show what would change").click()
    answer = page.locator("#what-if-answer")
    expect(answer).to_contain_text("20.0 orders a day")
    assert qualifying_day(answer.locator(".qualifying-day")) < before
