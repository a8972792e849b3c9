"""The dashboard page cached under a fingerprint of its rows: served again only while nothing
it shows has changed, with each request's own CSRF token and path, and never to another seller."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import EmergencyContact, Marketplace, StoreAccount, StoreStatus
from health.models import (
    AHACase,
    CallbackRequest,
    CallbackStatus,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
    Violation,
    ViolationScope,
)
from health.views.page_cache import (
    CSRF_PLACEHOLDER,
    PATH_PLACEHOLDER,
    seconds_until_countdowns_change,
)
from tests.builders import PHONE, make_seller, make_seller_user, make_store_account
from tests.client import Client
from tests.health.dashboard_data import add_history, add_violations, open_case, yesterday

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the page cache reads its fingerprint from PostgreSQL only")


@pytest.fixture
def store_account():
    store_account = make_store_account(seller=make_seller(phone=PHONE), marketplace="PL")
    add_history(store_account, days=30)
    add_violations(store_account, 3)
    open_case(store_account, contacted=False)
    return store_account


def dashboard(client, store_account, query: str = "") -> str:
    response = client.get(reverse("health:dashboard", args=[store_account.pk]) + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert CSRF_PLACEHOLDER not in html and PATH_PLACEHOLDER not in html
    return html


def without_tokens(html: str) -> str:
    return re.sub(r"(csrfmiddlewaretoken\" value=\"|X-CSRFToken\": \")[^\"]+", r"\1", html)


def test_an_unchanged_page_is_served_again_without_building_it(seller_client, store_account):
    first = dashboard(seller_client, store_account)
    with CaptureQueriesContext(connection) as queries:
        again = dashboard(seller_client, store_account)
    # The user, the fingerprint and, unless sessions come from the cache, the session: none
    # of the page's own queries.
    assert len(queries) <= 3
    assert not any("health_ahacase" in query["sql"] for query in queries)
    assert without_tokens(again) == without_tokens(first)


def _contact(store_account):
    EmergencyContact.objects.filter(seller=store_account.seller).update(phone="+48601234567")
    return "+48 601 234 567"


def _store_status(store_account):
    StoreAccount.objects.filter(pk=store_account.pk).update(status=StoreStatus.AT_RISK)
    return "At risk</span>"


def _day_closed(store_account):
    HealthState.objects.filter(store_account=store_account).update(
        ahr=512, last_closed_day=yesterday(store_account) + dt.timedelta(days=1)
    )
    # The fixture's open case is about a critical violation: the AHR shown is 0 until it is
    # resolved, and the closed day's own AHR is named beside it.
    return "the last closed day was 512"


def _removal(store_account):
    EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.REMOVED,
        reason="R1",
        day=yesterday(store_account),
    )
    return "Lost access to AHA"


def _enforcement(store_account):
    Enforcement.objects.create(
        store_account=store_account,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=store_account.opened_on,
        status=EnforcementStatus.DEACTIVATED,
    )
    return "Appeal with a plan of action"


def _case_engaged(store_account):
    AHACase.objects.filter(store_account=store_account).update(engaged_at=timezone.now())
    return "You have engaged"


def _violation_resolved(store_account):
    Violation.objects.filter(store_account=store_account, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    return "Resolved "


def _account_wide_violation_elsewhere(store_account):
    other = make_store_account(seller=store_account.seller, marketplace="DE")
    [violation] = add_violations(other, 1)
    Violation.objects.filter(pk=violation.pk).update(scope=ViolationScope.ACCOUNT_WIDE, repeat=True)
    return "repeat, counts double"


def _callback_finished(store_account):
    CallbackRequest.objects.create(
        seller=store_account.seller,
        phone="+48512345678",
        topic="Finished topic",
        status=CallbackStatus.COMPLETED,
        finished_at=timezone.now(),
    )
    return "Finished topic"


def _marketplace_renamed(store_account):
    Marketplace.objects.filter(code="PL").update(name="Polska")
    return "Account Health in Polska"


def _another_store(store_account):
    make_store_account(seller=store_account.seller, marketplace="DE")
    return "DE</span>"


@pytest.mark.parametrize(
    "change",
    [
        _contact,
        _store_status,
        _day_closed,
        _removal,
        _enforcement,
        _case_engaged,
        _violation_resolved,
        _account_wide_violation_elsewhere,
        _callback_finished,
        _marketplace_renamed,
        _another_store,
    ],
)
def test_every_change_the_page_shows_appears_at_once(seller_client, store_account, change):
    dashboard(seller_client, store_account)
    before = dashboard(seller_client, store_account)  # served from the cache
    shown = change(store_account)
    assert shown not in before
    assert shown in dashboard(seller_client, store_account)


def test_each_request_gets_its_own_csrf_token_and_return_path(store_account):
    browsers = []
    for _ in range(2):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(make_seller_user(seller=store_account.seller))
        browsers.append(browser)
    first = dashboard(browsers[0], store_account)
    second = dashboard(browsers[1], store_account, "?period=180&from=email")
    assert f'name="next" value="{reverse("health:dashboard", args=[store_account.pk])}"' in first
    assert 'name="next" value="/stores/' in second and "period=180&amp;from=email" in second
    url = reverse("health:request_callback", args=[store_account.pk])
    for browser, html in ((browsers[1], second), (browsers[0], first)):
        token = TOKEN.search(html).group(1)
        response = browser.post(url, {"phone": "", "topic": "", "csrfmiddlewaretoken": token})
        assert response.status_code == 302  # accepted, not refused by the CSRF check


def test_another_seller_gets_404_while_the_owners_page_is_cached(seller_client, store_account):
    dashboard(seller_client, store_account)
    other = Client()
    other.force_login(make_seller_user(seller=make_seller()))
    url = reverse("health:dashboard", args=[store_account.pk])
    assert other.get(url).status_code == 404


def test_an_open_request_shows_its_place_in_line_as_the_queue_moves(seller_client, store_account):
    other_seller = make_seller(phone=PHONE)
    open_case(make_store_account(seller=other_seller), contacted=False)  # as urgent as ours
    ahead = CallbackRequest.objects.create(seller=other_seller, phone="+48512345678")
    CallbackRequest.objects.create(seller=store_account.seller, phone="+48512345678")
    assert "You are number 2 in line." in dashboard(seller_client, store_account)
    CallbackRequest.objects.filter(pk=ahead.pk).update(status=CallbackStatus.CANCELLED)
    assert "You are number 1 in line." in dashboard(seller_client, store_account)


def test_a_message_is_shown_once_though_the_page_is_cached(seller_client, store_account):
    callback = CallbackRequest.objects.create(seller=store_account.seller, phone="+48512345678")
    url = reverse("health:cancel_callback", args=[store_account.pk, callback.pk])
    seller_client.post(url)
    assert "Your callback request is cancelled." in dashboard(seller_client, store_account)
    assert "Your callback request is cancelled." not in dashboard(seller_client, store_account)


def test_a_countdown_page_is_kept_only_until_its_next_minute(store_account):
    now = timezone.now()
    counting = AHACase(status="open", deadline_at=now + dt.timedelta(hours=5, seconds=20.5))
    engaged = AHACase(status="open", deadline_at=now + dt.timedelta(seconds=7), engaged_at=now)
    assert 19 < seconds_until_countdowns_change([counting, engaged]) <= 20.5
    assert seconds_until_countdowns_change([engaged]) > 3600
