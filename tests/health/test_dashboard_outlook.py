"""The dashboard's outlook: "What moved your AHR", the forecast and the what-if, on histories
closed through the real day close."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, translation

from health.models import Violation, ViolationCategory
from health.outlook import store_outlook
from health.rating import WINDOW_DAYS
from tests.builders import make_seller_user
from tests.health.dashboard_data import add_violations
from tests.health.test_forecast_properties import day, steady_account

pytestmark = pytest.mark.django_db


def url(account, **query) -> str:
    base = reverse("health:dashboard", args=[account.pk])
    if not query:
        return base
    pairs = [
        (k, v)
        for k, values in query.items()
        for v in (values if isinstance(values, list) else [values])
    ]
    return base + "?" + "&".join(f"{k}={v}" for k, v in pairs)


def signed_in(client, account):
    client.force_login(make_seller_user(seller=account.seller))
    return client


def long_date(on: dt.date) -> str:
    return formats.date_format(on, "DATE_FORMAT")


@pytest.fixture
def below_since_150(client):
    """Not enrolled: 180 days closed at 15 orders a day, below 250 since day 150 (an open
    medium listing violation)."""
    account = steady_account(180, [(150, ViolationCategory.LISTING)])
    return account, signed_in(client, account)


def test_what_moved_names_the_violation_by_category_and_detection_day_with_its_points(
    below_since_150,
):
    account, client = below_since_150
    html = client.get(url(account)).content.decode()
    moved = html.split('id="moved-heading"', 1)[1].split('id="forecast-heading"', 1)[0]
    # Day 150 is the first of the last 30 closed days; nothing has changed since.
    assert moved.count('<li id="moved-') == 1
    assert f'id="moved-{day(180, 150).isoformat()}"' in moved
    account = steady_account(20, [(5, ViolationCategory.REVIEWS)])
    html = signed_in(client, account).get(url(account)).content.decode()
    moved = html.split('id="moved-heading"', 1)[1].split('id="forecast-heading"', 1)[0]
    detected = day(20, 5)
    assert f'id="moved-{detected.isoformat()}"' in moved
    assert (
        f"Customer product reviews policy violations: the violation detected on"
        f" {long_date(detected)} started to count"
    ) in moved
    assert "\u22124 points" in moved
    # Days without a change are left out: only days with a change have an entry.
    outlook = store_outlook(account, has_valid_contact=True)
    assert moved.count('<li id="moved-') == len(outlook.changes) < 20


def test_what_moved_in_polish(client):
    account = steady_account(20, [(5, ViolationCategory.REVIEWS)])
    signed_in(client, account).post(reverse("health:set_language"), {"language": "pl", "next": "/"})
    html = client.get(url(account)).content.decode()
    assert "Co zmieniło Twój AHR" in html
    assert "zaczęło się liczyć" in html
    assert "\u22124 punkty" in html
    with translation.override("pl"):
        assert formats.date_format(day(20, 5), "DATE_FORMAT") in html


def test_the_forecast_says_when_a_store_not_enrolled_would_qualify(below_since_150):
    account, client = below_since_150
    html = client.get(url(account)).content.decode()
    outlook = store_outlook(account, has_valid_contact=True)
    assert "If orders go on at 15.0 a day (your mean of the last 28 days)" in html
    assert (
        f"You would qualify for AHA at the close of <strong>"
        f"{long_date(outlook.forecast.qualifying_day)}</strong>"
    ) in html


def test_a_what_if_as_a_plain_form_moves_the_qualifying_day_and_saves_nothing(below_since_150):
    account, client = below_since_150
    (violation,) = Violation.objects.filter(store_account=account)
    before = store_outlook(account, has_valid_contact=True).forecast.qualifying_day
    response = client.get(url(account, whatif=1, resolve=violation.pk, orders=""))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    answer = html.split('id="what-if-answer"', 1)[1].split("<form", 1)[0]
    after = day(180, 150 + 20 + WINDOW_DAYS - 1)
    assert (
        f"You would qualify for AHA at the close of <strong>{long_date(after)}</strong>" in answer
    )
    assert f"{(before - after).days} days earlier than now." in answer
    assert "At tonight&#x27;s close" in answer or "At tonight's close" in answer
    assert f'value="{violation.pk}" checked' in html
    violation.refresh_from_db()
    assert violation.resolved_at is None


def test_another_daily_order_rate_changes_the_forecast(below_since_150):
    account, client = below_since_150
    html = client.get(url(account, whatif=1, orders="60")).content.decode()
    answer = html.split('id="what-if-answer"', 1)[1].split("<form", 1)[0]
    assert "60.0 orders a day" in answer
    # 60 a day fill the window far beyond 2,700: +4 points per 200 more orders.
    assert "<dd>" in answer


def test_a_what_if_with_htmx_answers_in_place_with_the_chart_out_of_band(below_since_150):
    account, client = below_since_150
    (violation,) = Violation.objects.filter(store_account=account)
    response = client.get(
        url(account, whatif=1, resolve=violation.pk), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="outlook"')
    assert '<div id="trend" hx-swap-oob="true">' in html
    assert "days earlier than now." in html


@pytest.mark.parametrize(
    "query",
    [
        {"whatif": 1, "orders": "-3"},
        {"whatif": 1, "orders": "many"},
        {"whatif": 1, "orders": "1e9"},
        {"whatif": 1, "resolve": "999999"},
        {"whatif": 1, "resolve": "x"},
        {"whatif": 1},
    ],
)
def test_bad_what_if_input_gets_a_clear_message_and_changes_nothing(below_since_150, query):
    account, client = below_since_150
    response = client.get(url(account, **query))
    html = response.content.decode()
    assert response.status_code == 200
    answer = html.split('id="what-if-answer"', 1)[1].split("<form", 1)[0]
    assert "message-error" in answer
    assert "days earlier than now." not in answer
    assert Violation.objects.filter(store_account=account, resolved_at__isnull=True).count() == 1


def test_another_sellers_violation_cannot_be_resolved_in_a_what_if(below_since_150, client):
    account, seller_client = below_since_150
    other = steady_account(20, [(5, ViolationCategory.LISTING)])
    (foreign,) = Violation.objects.filter(store_account=other)
    html = seller_client.get(url(account, whatif=1, resolve=foreign.pk)).content.decode()
    assert "message-error" in html.split('id="what-if-answer"', 1)[1].split("<form", 1)[0]


def test_the_query_count_is_the_same_constant_with_and_without_a_what_if(
    below_since_150, django_assert_max_num_queries
):
    account, client = below_since_150
    add_violations(account, 20)
    (violation, *_) = Violation.objects.filter(store_account=account, resolved_at__isnull=True)
    counts = []
    for query in ({}, {"whatif": 1, "resolve": violation.pk, "orders": "25"}):
        cache.clear()
        with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as queries:
            assert client.get(url(account, period="year", **query)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_what_if_is_never_stored_as_the_page_nor_served_from_it(below_since_150):
    account, client = below_since_150
    (violation,) = Violation.objects.filter(store_account=account)
    plain = client.get(url(account)).content.decode()
    asked = client.get(url(account, whatif=1, resolve=violation.pk)).content.decode()
    assert "days earlier than now." in asked
    again = client.get(url(account)).content.decode()
    assert "days earlier than now." not in plain + again
    # The page served again from the cache is the plain one.
    assert "checked" not in again.split('id="what-if-heading"', 1)[1]
