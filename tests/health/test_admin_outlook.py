"""Specialists see the seller's explanation and forecast on the store account page."""

import pytest
from django.utils import formats

from health.models import ViolationCategory
from health.outlook import store_outlook
from tests.health.test_admin import change_url, client_for, make_specialist
from tests.health.test_forecast_properties import day, steady_account

pytestmark = pytest.mark.django_db


def test_the_store_account_page_shows_what_moved_and_the_qualifying_day() -> None:
    account = steady_account(180, [(160, ViolationCategory.LISTING)])
    page = client_for(make_specialist()).get(change_url(account)).content.decode()
    block = page.split('id="outlook"', 1)[1].split('id="enrollment-history"', 1)[0]
    detected = formats.date_format(day(180, 160), "DATE_FORMAT")
    assert (
        f"Listing policy violations: the violation detected on {detected} started to count" in block
    )
    assert "\u22124 points" in block
    outlook = store_outlook(account, has_valid_contact=True)
    assert f"First qualifying day: {outlook.forecast.qualifying_day:%Y-%m-%d}" in block
    assert "At tonight&#x27;s close" in block or "At tonight's close" in block


def test_an_enrolled_store_shows_its_days_below_and_its_r1_day() -> None:
    account = steady_account(194, [(190, ViolationCategory.LISTING)])
    page = client_for(make_specialist()).get(change_url(account)).content.decode()
    block = page.split('id="outlook"', 1)[1].split('id="enrollment-history"', 1)[0]
    assert "Days below 250 in a row now: 4" in block
    assert f"R1 removes it at the close of {day(194, 200):%Y-%m-%d} if that goes on" in block
