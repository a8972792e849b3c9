import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SellingPlan
from health.eligibility import REQUIRED_DAYS_ON_RECORD
from health.models import (
    CallbackRequest,
    CallbackStatus,
    CaseStatus,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
)
from health.views.html import without_indentation
from tests.builders import PHONE, make_seller, make_seller_user, make_store_account
from tests.client import Client
from tests.health.dashboard_data import add_history, add_violations, open_case, yesterday

pytestmark = pytest.mark.django_db


def dashboard_url(store_account, **query) -> str:
    url = reverse("health:dashboard", args=[store_account.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_dashboard_shows_ahr_band_in_words_and_the_trend_as_one_path(seller_client, store_account):
    add_history(store_account, days=200, ahr=300, below_every=30)
    response = seller_client.get(dashboard_url(store_account))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Healthy" in html
    assert html.count('class="trend-line"') == 1
    assert html.count('class="below-marks"') == 1
    assert '<title id="trend-title">AHR over the last 180 days</title>' in html
    assert "days below 250 of 180 days recorded" in html


def test_year_view_reads_a_year_of_ratings(seller_client, store_account):
    add_history(store_account, days=400)
    html = seller_client.get(dashboard_url(store_account, period="year")).content.decode()
    assert "AHR over the last 365 days" in html
    assert "of 365 days recorded" in html


def test_chart_numbers_are_not_localized_in_polish(seller_client, store_account):
    add_history(store_account, days=30)
    seller_client.post(reverse("health:set_language"), {"language": "pl", "next": "/"})
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'y="' in svg
    assert not any("," in chunk.split('"')[0] for chunk in svg.split(' y="')[1:])
    assert "Wskaźnik zdrowia konta (AHR)" in html


def test_not_eligible_card_lists_criteria_and_progress(seller_client, store_account):
    add_history(store_account, days=40, below_every=10)
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert "Not eligible for AHA yet." in html
    assert "An AHR on record for each of the last 180 days" in html
    assert f"40 of {REQUIRED_DAYS_ON_RECORD}" in html
    assert "4 of 10 allowed" in html
    expected = yesterday(store_account) + dt.timedelta(days=REQUIRED_DAYS_ON_RECORD - 40)
    assert expected.strftime("%Y") in html


def test_waiting_for_contact_card_links_to_the_contact_page(client):
    store_account = make_store_account(seller=make_seller(), marketplace="PL")
    add_history(store_account, days=REQUIRED_DAYS_ON_RECORD)
    client.force_login(make_seller_user(seller=store_account.seller))
    html = client.get(dashboard_url(store_account)).content.decode()
    assert "waiting for an emergency contact phone number" in html
    assert reverse("health:emergency_contact", args=[store_account.pk]) in html


def test_enrolled_card_says_since_when(seller_client, store_account):
    add_history(store_account, days=REQUIRED_DAYS_ON_RECORD)
    HealthState.objects.filter(store_account=store_account).update(
        enrolled=True, enrolled_since=dt.date(2026, 3, 2)
    )
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert "Protected" in html
    assert "Enrolled in AHA since" in html


def test_removed_card_gives_reason_and_how_to_regain(seller_client, store_account):
    add_history(store_account, days=REQUIRED_DAYS_ON_RECORD, below_every=2)
    EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.REMOVED,
        reason="R1",
        day=yesterday(store_account),
    )
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert "Lost access to AHA" in html
    assert "AHR below 250 for more than 10 consecutive days" in html
    assert "comes back by itself" in html


def test_barred_card_says_a_specialist_must_lift_it(seller_client, store_account):
    add_history(store_account, days=10)
    HealthState.objects.filter(store_account=store_account).update(barred=True)
    EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.BARRED,
        reason="R7",
        day=yesterday(store_account),
    )
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert "Barred" in html
    assert "until an account health specialist lifts the bar" in html


def test_violations_show_severity_points_and_critical_zeroes(seller_client, store_account):
    add_violations(store_account, 3)
    case = open_case(store_account)
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert all(f"\u2212{points} points" in html for points in (2, 4, 8))
    assert "sets AHR to 0" in html
    assert f'id="case-{case.pk}"' in html


def test_open_case_deadline_is_in_marketplace_time_with_zone_named(seller_client, store_account):
    case = open_case(store_account)
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert "Europe/Warsaw" in html
    assert f'data-deadline="{int(case.deadline_at.timestamp())}"' in html
    assert "left" in html


def test_store_switcher_lists_every_store_of_the_seller(seller_client, store_account):
    other = make_store_account(seller=store_account.seller, marketplace="DE")
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert reverse("health:dashboard", args=[other.pk]) in html
    assert 'aria-current="page"' in html


def test_individual_only_seller_sees_why_call_me_now_is_not_offered(client):
    store_account = make_store_account(plan=SellingPlan.INDIVIDUAL)
    client.force_login(make_seller_user(seller=store_account.seller))
    html = client.get(dashboard_url(store_account)).content.decode()
    assert "Call me now is for sellers with a Professional selling plan" in html
    assert reverse("health:request_callback", args=[store_account.pk]) not in html


def test_page_is_complete_without_htmx_and_the_fragment_alone_with_it(seller_client, store_account):
    full = seller_client.get(dashboard_url(store_account))
    assert b"<html" in full.content and b'id="callback-status"' in full.content
    status_url = reverse("health:callback_status", args=[store_account.pk])
    fragment = seller_client.get(status_url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert fragment.content.decode().lstrip().startswith('<section id="callback-status"')
    plain = seller_client.get(status_url)
    assert plain.status_code == 302


@pytest.mark.parametrize(("days", "violations"), [(1, 0), (400, 50), (1, 50), (400, 0)])
def test_dashboard_query_count_is_constant(
    seller_client, store_account, django_assert_max_num_queries, days, violations
):
    add_history(store_account, days=days, below_every=3)
    add_violations(store_account, violations)
    open_case(store_account)
    make_store_account(seller=store_account.seller, marketplace="DE")
    with django_assert_max_num_queries(8):
        response = seller_client.get(dashboard_url(store_account, period="year"))
    assert response.status_code == 200


def test_dashboard_page_weight_stays_under_budget(seller_client, store_account):
    add_history(store_account, days=400, below_every=3)
    add_violations(store_account, 50)
    open_case(store_account)
    html = seller_client.get(dashboard_url(store_account, period="year")).content.decode()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert "css/site.css" in assets and "js/countdown.js" in assets
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "no third-party hosts"
    size = len(html.encode()) + sum(
        Path(finders.find(asset)).stat().st_size for asset in set(assets)
    )
    assert size <= 120 * 1024


def test_anonymous_user_is_sent_to_login(client, store_account):
    response = client.get(dashboard_url(store_account))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- cases, appeals, timeline, language ------------------------------------------------------


def test_acknowledging_a_case_engages_it(seller_client, store_account):
    case = open_case(store_account)
    url = reverse("health:acknowledge_case", args=[store_account.pk, case.pk])
    response = seller_client.post(url, follow=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.ENGAGED
    assert "The case is acknowledged" in response.content.decode()
    again = seller_client.post(url, follow=True)
    assert again.status_code == 200


def test_plan_of_action_is_saved_and_hostile_text_shown_escaped(seller_client, store_account):
    case = open_case(store_account)
    url = reverse("health:plan_of_action", args=[store_account.pk, case.pk])
    hostile = "<script>alert('x')</script> the supplier sent wrong goods"
    plan = {"root_cause": hostile, "actions_taken": "a" * 40, "prevention": "p" * 40}
    response = seller_client.post(url, plan, follow=True)
    assert "Your plan of action is sent" in response.content.decode()
    case.refresh_from_db()
    assert case.root_cause == hostile and case.status == CaseStatus.ENGAGED
    html = seller_client.get(url).content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("root_cause", "", "This field is required."),
        ("root_cause", "too short", "at least 20 characters"),
        ("prevention", "x" * 4001, "at most 4000 characters"),
    ],
)
def test_plan_of_action_limits_give_clear_errors(
    seller_client, store_account, field, value, message
):
    case = open_case(store_account)
    url = reverse("health:plan_of_action", args=[store_account.pk, case.pk])
    plan = {"root_cause": "r" * 40, "actions_taken": "a" * 40, "prevention": "p" * 40}
    response = seller_client.post(url, {**plan, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and not case.plan_submitted_at


def test_appeal_of_a_deactivation(seller_client, store_account):
    enforcement = Enforcement.objects.create(
        store_account=store_account,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=store_account.opened_on,
        status=EnforcementStatus.DEACTIVATED,
    )
    dashboard = seller_client.get(dashboard_url(store_account)).content.decode()
    url = reverse("health:appeal", args=[store_account.pk, enforcement.pk])
    assert url in dashboard
    plan = {"root_cause": "r" * 40, "actions_taken": "a" * 40, "prevention": "p" * 40}
    response = seller_client.post(url, plan, follow=True)
    assert "Your appeal is sent" in response.content.decode()
    enforcement.refresh_from_db()
    assert enforcement.status == EnforcementStatus.APPEALED
    assert seller_client.post(url, plan).status_code == 200  # no second appeal
    assert "waiting for a specialist" in seller_client.get(url).content.decode()


def test_timeline_lists_events_newest_first_and_paginates(seller_client, store_account):
    EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.ENROLLED,
        day=yesterday(store_account),
        at=timezone.now() - dt.timedelta(days=3),
    )
    open_case(store_account)
    CallbackRequest.objects.bulk_create(
        CallbackRequest(
            seller=store_account.seller,
            phone="+48512345678",
            topic=f"topic {n}",
            status=CallbackStatus.CANCELLED,
            created_at=timezone.now() - dt.timedelta(hours=n + 1),
        )
        for n in range(30)
    )
    url = reverse("health:timeline", args=[store_account.pk])
    first = seller_client.get(url).content.decode()
    assert "AHA case #" in first and "Enrolled in AHA" in first
    # The seller's callbacks are about no one store: once, on the seller-wide timeline.
    assert "topic 0" not in first
    seller_wide = reverse("health:seller_timeline")
    calls = seller_client.get(seller_wide).content.decode()
    assert calls.index("topic 0") < calls.index("topic 1")
    assert "Page 1 of 2" in calls
    second = seller_client.get(seller_wide + "?page=2").content.decode()
    assert "topic 29" in second


def test_language_choice_is_stored_on_the_user_and_used_at_next_sign_in(client, store_account):
    user = make_seller_user(seller=store_account.seller)
    client.force_login(user)
    client.post(reverse("health:set_language"), {"language": "pl", "next": "/"})
    user.refresh_from_db()
    assert user.language == "pl"
    fresh = Client()  # a new device: no language cookie
    fresh.force_login(user)
    response = fresh.get(dashboard_url(store_account))
    assert response.headers["Content-Language"] == "pl"
    assert '<html lang="pl">' in response.content.decode()


def test_dashboard_query_count_is_the_same_for_short_and_long_histories(client):
    counts = []
    for days, violations in [(1, 0), (400, 50)]:
        store_account = make_store_account(seller=make_seller(phone=PHONE))
        add_history(store_account, days=days, below_every=3)
        add_violations(store_account, violations)
        open_case(store_account)
        client.force_login(make_seller_user(seller=store_account.seller))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(dashboard_url(store_account, period="year")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8


def test_the_dashboard_is_sent_without_template_indentation(seller_client, store_account):
    html = seller_client.get(dashboard_url(store_account)).content.decode()
    assert "Account Health" in html
    assert not re.search(r"\n[ \t]+<", html)


def test_preformatted_text_keeps_its_spaces():
    assert without_indentation("<p>\n    a</p>") == "<p>\na</p>"
    assert without_indentation("<pre>\n    a</pre>") == "<pre>\n    a</pre>"
