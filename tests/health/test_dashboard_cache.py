"""The dashboard under load: the trend chart is cached until a day closes, while cases,
callbacks and violations are always read fresh; the query count stays pinned."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from health.models import (
    CallbackRequest,
    DailyRating,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
)
from health.outlook import store_outlook
from health.rating import WINDOW_DAYS
from health.views.dashboard import trend_cache_key
from tests.builders import PHONE, make_seller, make_store_account
from tests.health.dashboard_data import add_history, add_violations, open_case, yesterday

pytestmark = pytest.mark.django_db

QUEUED_LINE = "You are number {} in line."


def dashboard(client, store_account) -> str:
    response = client.get(reverse("health:dashboard", args=[store_account.pk]))
    assert response.status_code == 200
    return response.content.decode()


def queue_callback(store_account) -> CallbackRequest:
    return CallbackRequest.objects.create(
        seller=store_account.seller, phone="+48512345678", topic="Help"
    )


def test_chart_is_served_from_the_cache_until_the_next_day_closes(seller_client, store_account):
    add_history(store_account, days=30)
    assert "of 30 days recorded" in dashboard(seller_client, store_account)
    last = yesterday(store_account)
    # A rating written without a day closing (the day close never does this) is not seen yet:
    # the chart only changes when a day closes.
    DailyRating.objects.create(
        store_account=store_account, day=last - dt.timedelta(days=100), ahr=300
    )
    assert "of 30 days recorded" in dashboard(seller_client, store_account)
    closed = last + dt.timedelta(days=1)
    DailyRating.objects.create(store_account=store_account, day=closed, ahr=310)
    HealthState.objects.filter(store_account=store_account).update(last_closed_day=closed, ahr=310)
    assert "of 32 days recorded" in dashboard(seller_client, store_account)


def test_a_language_switch_draws_the_chart_in_the_new_language(seller_client, store_account):
    add_history(store_account, days=30)
    assert f"AHR over the last {WINDOW_DAYS} days" in dashboard(seller_client, store_account)
    seller_client.post(reverse("health:set_language"), {"language": "pl", "next": "/"})
    html = dashboard(seller_client, store_account)
    assert f"AHR w ostatnich {WINDOW_DAYS} dniach" in html
    assert f"AHR over the last {WINDOW_DAYS} days" not in html


def test_each_period_has_its_own_chart(seller_client, store_account):
    add_history(store_account, days=400)
    url = reverse("health:dashboard", args=[store_account.pk])
    assert f"of {WINDOW_DAYS} days recorded" in dashboard(seller_client, store_account)
    assert "of 365 days recorded" in seller_client.get(url + "?period=year").content.decode()


def test_cases_callbacks_and_violations_show_at_once_while_the_chart_is_cached(
    seller_client, store_account
):
    add_history(store_account, days=30)
    first = dashboard(seller_client, store_account)
    assert "Waiting for a specialist" not in first
    case = open_case(store_account)
    add_violations(store_account, 1)
    queue_callback(store_account)
    html = dashboard(seller_client, store_account)
    assert f'id="case-{case.pk}"' in html
    assert "\u22122 points" in html
    assert QUEUED_LINE.format(1) in html


def test_a_queued_request_shows_its_place_in_line(client, seller_client, store_account):
    earlier = make_store_account(seller=make_seller(phone=PHONE), marketplace="PL")
    queue_callback(earlier)
    queue_callback(store_account)
    assert QUEUED_LINE.format(2) in dashboard(seller_client, store_account)


def test_a_removed_store_account_with_a_queued_request_stays_within_the_query_budget(
    seller_client, store_account, django_assert_max_num_queries
):
    add_history(store_account, days=400, below_every=3)
    add_violations(store_account, 50)
    open_case(store_account)
    make_store_account(seller=store_account.seller, marketplace="DE")
    EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.REMOVED,
        reason="R1",
        day=yesterday(store_account),
    )
    queue_callback(store_account)
    dashboard(seller_client, store_account)
    # Chart cached: the session, the user, the page's fingerprint (with the latest callback),
    # the store accounts (with the last loss), cases, violations, enforcement, and the
    # callback's place in the queue.
    with django_assert_max_num_queries(8):
        html = dashboard(seller_client, store_account)
    assert "Lost access to AHA" in html
    assert QUEUED_LINE.format(1) in html


def test_a_cached_chart_saves_the_ratings_query(seller_client, store_account):
    add_history(store_account, days=400, below_every=3)
    open_case(store_account)
    with CaptureQueriesContext(connection) as cold:
        dashboard(seller_client, store_account)
    # A new violation: the page is built again, its chart comes from the cache.
    add_violations(store_account, 1)
    with CaptureQueriesContext(connection) as warm:
        assert "\u22122 points" in dashboard(seller_client, store_account)
    assert len(warm) == len(cold) - 1 <= 7
    assert not any("health_dailyrating" in query["sql"] for query in warm)


def test_the_page_serves_when_the_cache_is_unreachable(seller_client, store_account, settings):
    add_history(store_account, days=30)
    settings.CACHES = {
        "default": {
            "BACKEND": "aha_site.cache.RedisCache",
            # Nothing listens on port 1: every cache call fails at once.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    assert "of 30 days recorded" in dashboard(seller_client, store_account)


def test_the_chart_is_shared_through_redis(seller_client, store_account, settings, redis_url):
    add_history(store_account, days=30)
    settings.CACHES = {
        "default": {
            "BACKEND": "aha_site.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"aha-cache-test-{store_account.pk}",
        }
    }
    # The chart carries the forecast, which the key names by a digest.
    outlook = store_outlook(store_account, has_valid_contact=True)
    key = trend_cache_key(store_account.pk, yesterday(store_account), period="180", outlook=outlook)
    try:
        dashboard(seller_client, store_account)
        assert "of 30 days recorded" in cache.get(key)
    finally:
        cache.delete(key)


def test_a_violation_resolved_is_marked_on_the_cached_chart_at_once(seller_client, store_account):
    add_history(store_account, days=30)
    # Detected 5 days ago (the chart ends yesterday, so today's detections are not on it).
    violation = add_violations(store_account, 6)[5]
    before = dashboard(seller_client, store_account)
    assert '<path class="detected-marks" d="M' in before
    assert '<path class="resolved-marks" d=""' in before
    # The marks are part of the trend's cache key: the chart cached a moment ago is not served.
    violation.resolved_at = violation.detected_at + dt.timedelta(hours=2)
    violation.save(update_fields=["resolved_at"])
    after = dashboard(seller_client, store_account)
    assert '<path class="resolved-marks" d="M' in after
