"""The seller's flow: the action banner, the home page, the AHR against 250, the violation page,
appeals with no dead end (R4 appealed, rejected, appealed again, reinstated) and their emails."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import StoreStatus
from health.eligibility import ENGAGEMENT_WINDOW, RemovalReason
from health.emails import render_email
from health.models import (
    AppealStatus,
    CallbackStatus,
    EmailKind,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    OutboxEmail,
    Violation,
)
from health.rating import AHA_LINE, Severity, Standing, ViolationFacts, ahr_if_resolved, standing
from health.services import protection
from health.services.callbacks import mark_no_answer, request_callback
from health.services.enrollment import remove_from_aha
from tests.builders import make_seller, make_seller_user, make_staff_user, make_store_account
from tests.health.dashboard_data import add_history, open_case
from tests.health.protection_helpers import enroll, violation

pytestmark = pytest.mark.django_db
PLAN = {"root_cause": "r" * 40, "actions_taken": "a" * 40, "prevention": "p" * 40}


def page(client, name, *args) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def banner(html: str) -> str:
    start = html.index('<section class="banner')
    return html[start : html.index("</section>", start)]


# --- the AHR card ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ahr", "expected"),
    [
        (AHA_LINE, Standing.QUALIFIES),
        (AHA_LINE - 1, Standing.BELOW_AHA_LINE),
        (200, Standing.BELOW_AHA_LINE),
        (199, Standing.AT_RISK),
        (99, Standing.UNHEALTHY),
    ],
)
def test_standing_says_where_the_ahr_is_against_the_aha_line(ahr, expected):
    assert standing(ahr) == expected


def test_resolving_a_critical_violation_gives_back_the_ahr_without_it():
    today = dt.date(2026, 11, 20)
    critical = ViolationFacts("listing", Severity.CRITICAL, today)
    high = ViolationFacts("reviews", Severity.HIGH, today - dt.timedelta(days=3))
    both = [critical, high]
    assert (
        ahr_if_resolved(critical, current=0, orders_in_window=4000, violations=both, day=today)
        == 272
    )
    assert ahr_if_resolved(high, current=0, orders_in_window=4000, violations=both, day=today) == 0


def test_an_ahr_of_200_to_249_is_healthy_but_said_to_be_below_250(seller_client, store_account):
    add_history(store_account, days=30, ahr=230)
    html = page(seller_client, "health:dashboard", store_account.pk)
    assert "standing-below_aha_line" in html
    assert "20 points below 250, the AHR that AHA needs" in html


def test_an_open_critical_violation_shows_an_ahr_of_0_at_once(seller_client, store_account):
    add_history(store_account, days=30, ahr=326)
    open_case(store_account)
    html = page(seller_client, "health:dashboard", store_account.pk)
    assert '<span class="ahr-value">0</span>' in html
    assert "the last closed day was 326" in html


# --- the action banner and the home page ----------------------------------------------------


def test_an_open_case_leads_the_dashboard_with_its_deadline_and_actions(
    seller_client, store_account
):
    add_history(store_account, days=30)
    case = open_case(store_account)
    html = page(seller_client, "health:dashboard", store_account.pk)
    # Above the AHR card and everything else.
    assert html.index('class="banner') < html.index("ahr-card")
    shown = banner(html)
    assert f"AHA case #{case.pk}" in shown and "Respond by" in shown and "left" in shown
    assert reverse("health:acknowledge_case", args=[store_account.pk, case.pk]) in shown
    assert reverse("health:plan_of_action", args=[store_account.pk, case.pk]) in shown
    assert reverse("health:violation", args=[store_account.pk, case.violation_id]) in shown


def test_a_deactivated_store_leads_with_how_to_appeal_not_healthy(seller_client, store_account):
    add_history(store_account, days=30, ahr=400)
    enforcement = Enforcement.objects.create(
        store_account=store_account,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=store_account.opened_on,
        status=EnforcementStatus.DEACTIVATED,
    )
    store_account.status = StoreStatus.DEACTIVATED
    store_account.save()
    html = page(seller_client, "health:dashboard", store_account.pk)
    shown = banner(html)
    assert "This store account is deactivated" in shown
    assert reverse("health:appeal", args=[store_account.pk, enforcement.pk]) in shown
    assert html.index("Deactivated: this store account cannot sell") < html.index("Healthy")


def test_a_store_waiting_for_a_contact_says_so_first(client):
    store_account = make_store_account(seller=make_seller(), marketplace="PL")
    add_history(store_account, days=200, ahr=400)
    client.force_login(make_seller_user(seller=store_account.seller))
    shown = banner(page(client, "health:dashboard", store_account.pk))
    assert "Add an emergency contact" in shown


def test_nothing_to_do_means_no_banner(seller_client, store_account):
    add_history(store_account, days=30)
    assert 'class="banner' not in page(seller_client, "health:dashboard", store_account.pk)


def test_home_lists_urgent_stores_first_with_a_line_at_the_top(seller_client, store_account):
    calm = make_store_account(seller=store_account.seller, marketplace="DE")
    add_history(calm, days=30, ahr=300)
    urgent = make_store_account(seller=store_account.seller, marketplace="US")
    add_history(urgent, days=30, ahr=300)
    case = open_case(urgent)
    html = page(seller_client, "accounts:home")
    assert "1 store needs your action" in html
    assert html.index('data-store="US"') < html.index('data-store="DE"')
    assert f"AHA case #{case.pk}: respond by" in html
    # The open critical violation's 0, not the night's 300, and no green for it.
    assert "AHR 0" in html


# --- the violation page ---------------------------------------------------------------------


def test_the_violation_page_says_what_when_how_much_and_what_to_do(seller_client, store_account):
    add_history(store_account, days=30, ahr=300)
    detected = timezone.now() - dt.timedelta(days=2)
    first = Violation.objects.create(
        store_account=store_account,
        category="listing",
        severity="medium",
        detected_at=detected - dt.timedelta(days=30),
    )
    found = Violation.objects.create(
        store_account=store_account,
        category="listing",
        severity="high",
        repeat=True,
        detected_at=detected,
        description="The listing claims a CE mark it does not have.",
        reference="ASIN B0TEST1234",
        policy_link="https://sellercentral.example.com/help/listing-policy",
    )
    html = page(seller_client, "health:violation", store_account.pk, found.pk)
    assert "The listing claims a CE mark it does not have." in html
    assert "ASIN B0TEST1234" in html
    assert 'href="https://sellercentral.example.com/help/listing-policy"' in html
    assert "(Europe/Warsaw)" in html
    assert "16 points" in html  # high, doubled as a repeat
    assert reverse("health:violation", args=[store_account.pk, first.pk]) in html
    stops = store_account.marketplace.local_date(detected) + dt.timedelta(days=180)
    assert date_filter(stops, "DATE_FORMAT") in html
    assert "Your AHR with it resolved" in html


# --- appeals: no dead end -------------------------------------------------------------------


def test_an_r4_deactivation_is_appealed_rejected_appealed_again_and_reinstated(
    seller_client, store_account
):
    enroll(store_account)
    violation(store_account)
    protection.watch_deadlines(now=timezone.now() + ENGAGEMENT_WINDOW + dt.timedelta(minutes=1))
    store_account.refresh_from_db()
    assert store_account.status == StoreStatus.DEACTIVATED
    enforcement = Enforcement.objects.get(store_account=store_account, kind="removal")
    assert enforcement.reason == RemovalReason.R4
    url = reverse("health:appeal", args=[store_account.pk, enforcement.pk])
    assert url in banner(page(seller_client, "health:dashboard", store_account.pk))

    specialist = make_staff_user()
    seller_client.post(url, PLAN)
    protection.reject_appeal(
        enforcement=enforcement, by=specialist, note="Name the supplier you dropped."
    )
    html = page(seller_client, "health:dashboard", store_account.pk)
    assert "Name the supplier you dropped." in banner(html)
    assert "Send a new appeal" in banner(html)
    again = {**PLAN, "root_cause": "We dropped the supplier Acme after the complaint."}
    assert seller_client.post(url, again).status_code == 302
    protection.reinstate(enforcement=enforcement, by=specialist, note="Thank you.")
    store_account.refresh_from_db()
    assert store_account.status == StoreStatus.NORMAL

    appeals = list(enforcement.appeals.order_by("plan_submitted_at"))
    assert [appeal.status for appeal in appeals] == [AppealStatus.REJECTED, AppealStatus.ACCEPTED]
    history = page(seller_client, "health:appeal", store_account.pk, enforcement.pk)
    assert "Name the supplier you dropped." in history and "We dropped the supplier Acme" in history
    kinds = list(
        OutboxEmail.objects.filter(store_account=store_account)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds[-6:] == [
        EmailKind.REMOVED,
        EmailKind.DEACTIVATED,
        EmailKind.APPEAL_RECEIVED,
        EmailKind.APPEAL_REJECTED,
        EmailKind.APPEAL_RECEIVED,
        EmailKind.REINSTATED,
    ]
    rejected = OutboxEmail.objects.get(kind=EmailKind.APPEAL_REJECTED)
    _subject, body = render_email(rejected)
    assert "Name the supplier you dropped." in body and "new appeal" in body
    assert settings.SITE_URL + url in body


@pytest.mark.parametrize("reason", [RemovalReason.R5, RemovalReason.R7])
def test_r5_and_r7_deactivations_can_be_appealed(seller_client, store_account, reason):
    enroll(store_account)
    if reason == RemovalReason.R5:
        case = open_case(store_account)
        specialist = make_staff_user()
        protection.mark_engaged(case=case, by=specialist, how="specialist")
        protection.close_case(case=case, resolved=False, by=specialist, note="Not fixed.")
    else:
        remove_from_aha(store_account=store_account, reason=reason, note="Fraud.")
    enforcement = Enforcement.objects.get(store_account=store_account, kind="removal")
    assert enforcement.reason == reason and enforcement.status == EnforcementStatus.DEACTIVATED
    url = reverse("health:appeal", args=[store_account.pk, enforcement.pk])
    assert seller_client.post(url, PLAN).status_code == 302
    enforcement.refresh_from_db()
    assert enforcement.status == EnforcementStatus.APPEALED


def test_a_call_with_no_answer_is_emailed_with_a_link(store_account):
    user = make_seller_user(seller=store_account.seller)
    callback = request_callback(seller=store_account.seller, phone=None, topic="", by=user)
    mark_no_answer(callback=callback, by=make_staff_user())
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.NO_ANSWER
    email = OutboxEmail.objects.get(kind=EmailKind.CALLBACK_NO_ANSWER)
    _subject, body = render_email(email)
    assert "nobody answered" in body
    assert settings.SITE_URL + reverse("accounts:home") in body


def test_every_store_email_links_to_its_dashboard(store_account):
    enroll(store_account)
    violation(store_account)
    email = OutboxEmail.objects.get(kind=EmailKind.CASE_OPENED)
    _subject, body = render_email(email)
    link = settings.SITE_URL + reverse("health:dashboard", args=[store_account.pk])
    assert link in body


def test_the_home_page_reads_the_same_number_of_queries_for_1_or_5_stores(client):
    seller = make_seller(phone="+48512345678")
    client.force_login(make_seller_user(seller=seller))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("accounts:home")).status_code == 200
        return len(captured)

    first = make_store_account(seller=seller, marketplace="PL")
    open_case(first)
    one = queries()
    for code in ("DE", "US", "UK", "FR"):
        store = make_store_account(seller=seller, marketplace=code)
        add_history(store, days=10)
        open_case(store)
    assert queries() == one
