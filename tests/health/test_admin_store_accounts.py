"""The store account page: chart, eligibility, history, and the specialist actions on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import StoreStatus
from health.eligibility import RemovalReason
from health.models import (
    AHACase,
    AuditEntry,
    DailyRating,
    EmailKind,
    Enforcement,
    EnforcementStatus,
    EnrollmentEvent,
    HealthState,
    OutboxEmail,
    Violation,
)
from health.services import enrollment, protection
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.test_admin import (
    act_url,
    change_url,
    client_for,
    enroll,
    make_specialist,
    messages_of,
    post_action,
)

pytestmark = pytest.mark.django_db


def violation_form(**overrides: object) -> dict[str, object]:
    detected = (timezone.now() - dt.timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    return {
        "category": "authenticity",
        "severity": "critical",
        "scope": "store",
        "detected_at": detected,
        "description": "Counterfeit report",
        **overrides,
    }


def test_store_account_page_shows_chart_eligibility_history_and_activity() -> None:
    account = enroll(make_store_account(seller=make_seller(phone="+48512345678")))
    HealthState.objects.filter(store_account=account).update(
        last_closed_day=dt.date(2025, 6, 30), days_on_record=3
    )
    DailyRating.objects.bulk_create(
        DailyRating(store_account=account, day=dt.date(2025, 6, 30) - dt.timedelta(days=i), ahr=300)
        for i in range(3)
    )
    specialist = make_specialist()
    client = client_for(specialist)
    post_action(client, act_url(account, "remove_r6"), {"reason": "Licence revoked"})
    page = client.get(change_url(account)).content.decode()
    assert "<svg" in page and 'd="M' in page
    assert "Days with an AHR on record: 3 of 180" in page
    assert "Not barred from AHA" in page  # E6 fails once barred
    assert "Licence revoked" in page  # enrollment history and activity
    assert 'id="activity"' in page and "Removed from AHA: barred by a specialist (R6)" in page


def test_record_a_violation_on_an_unprotected_account_deactivates_it() -> None:
    account = make_store_account()
    specialist = make_specialist()
    post_action(client_for(specialist), act_url(account, "record_violation"), violation_form())
    account.refresh_from_db()
    violation = Violation.objects.get(store_account=account)
    assert account.status == StoreStatus.DEACTIVATED
    assert Enforcement.objects.filter(violation=violation, status="deactivated").exists()
    assert OutboxEmail.objects.filter(store_account=account, kind=EmailKind.DEACTIVATED).exists()
    entry = AuditEntry.objects.get(action="record_violation")
    assert (entry.actor, entry.target) == (specialist, f"violation:{violation.pk}")


def test_record_a_violation_on_an_enrolled_account_opens_a_case() -> None:
    account = enroll(make_store_account())
    post_action(
        client_for(make_specialist()), act_url(account, "record_violation"), violation_form()
    )
    account.refresh_from_db()
    assert account.status != StoreStatus.DEACTIVATED
    case = AHACase.objects.get(store_account=account)
    assert OutboxEmail.objects.filter(key=f"case_opened:{case.pk}").exists()


def test_a_violation_in_the_future_is_refused() -> None:
    account = make_store_account()
    future = (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    response = post_action(
        client_for(make_specialist()),
        act_url(account, "record_violation"),
        violation_form(detected_at=future),
        follow=True,
    )
    assert not Violation.objects.exists()
    assert any("Nothing was changed" in m for m in messages_of(response))


def test_resolve_a_violation() -> None:
    account = make_store_account()
    violation = protection.record_violation(
        store_account=account,
        category="listing",
        severity="low",
        scope="store",
        deactivation_level=False,
        detected_at=timezone.now(),
    )
    specialist = make_specialist()
    post_action(
        client_for(specialist), act_url(violation, "resolve_violation"), {"note": "Listing fixed"}
    )
    violation.refresh_from_db()
    assert violation.resolved_at is not None and violation.resolved_by == specialist
    assert AuditEntry.objects.get(action="resolve_violation").reason == "Listing fixed"


def test_remove_for_r6_needs_a_written_reason() -> None:
    account = enroll(make_store_account())
    response = post_action(
        client_for(make_specialist()), act_url(account, "remove_r6"), {"reason": ""}, follow=True
    )
    assert HealthState.objects.get(store_account=account).enrolled
    assert any("Nothing was changed" in m for m in messages_of(response))
    assert not AuditEntry.objects.exists()


def test_remove_for_r6_bars_and_is_audited() -> None:
    account = enroll(make_store_account())
    specialist = make_specialist()
    post_action(client_for(specialist), act_url(account, "remove_r6"), {"reason": "No licence"})
    state = HealthState.objects.get(store_account=account)
    account.refresh_from_db()
    assert (state.enrolled, state.barred) == (False, True)
    assert account.status != StoreStatus.DEACTIVATED
    assert OutboxEmail.objects.filter(store_account=account, kind=EmailKind.REMOVED).exists()
    entry = AuditEntry.objects.get(action="remove_r6")
    assert (entry.actor, entry.store_account, entry.reason) == (specialist, account, "No licence")


def test_remove_for_r7_deactivates_at_once() -> None:
    account = enroll(make_store_account())
    post_action(
        client_for(make_specialist()), act_url(account, "remove_r7"), {"reason": "Fraud ring"}
    )
    account.refresh_from_db()
    assert account.status == StoreStatus.DEACTIVATED
    assert HealthState.objects.get(store_account=account).barred
    assert EnrollmentEvent.objects.filter(
        store_account=account, kind="barred", reason="R7"
    ).exists()


def test_lift_a_bar_with_a_reason() -> None:
    account = enroll(make_store_account())
    enrollment.remove_from_aha(store_account=account, reason=RemovalReason.R6, note="x")
    client = client_for(make_specialist())
    response = post_action(client, act_url(account, "lift_bar"), {"reason": ""}, follow=True)
    assert HealthState.objects.get(store_account=account).barred
    assert any("Nothing was changed" in m for m in messages_of(response))
    post_action(client, act_url(account, "lift_bar"), {"reason": "Licence renewed"})
    assert not HealthState.objects.get(store_account=account).barred
    assert EnrollmentEvent.objects.filter(store_account=account, kind="bar_lifted").exists()
    assert AuditEntry.objects.get(action="lift_bar").reason == "Licence renewed"


def test_reinstate_after_an_accepted_appeal() -> None:
    account = make_store_account()
    violation = protection.record_violation(
        store_account=account,
        category="authenticity",
        severity="critical",
        scope="store",
        deactivation_level=True,
        detected_at=timezone.now(),
    )
    enforcement = Enforcement.objects.get(violation=violation)
    protection.appeal_enforcement(
        enforcement=enforcement,
        root_cause="Supplier",
        actions_taken="Changed supplier",
        prevention="Audits",
        by=make_seller_user(seller=account.seller),
    )
    specialist = make_specialist()
    post_action(client_for(specialist), act_url(account, "reinstate"), {"reason": "Plan accepted"})
    account.refresh_from_db()
    enforcement.refresh_from_db()
    assert account.status == StoreStatus.NORMAL
    assert enforcement.status == EnforcementStatus.REINSTATED
    assert OutboxEmail.objects.filter(key=f"reinstated:enforcement:{enforcement.pk}").exists()
    assert AuditEntry.objects.get(action="enforcement_reinstated").actor == specialist


def test_reinstate_is_refused_for_an_account_that_is_not_deactivated() -> None:
    account = make_store_account()
    response = client_for(make_specialist()).get(act_url(account, "reinstate"))
    assert response.status_code == 200
    response = post_action(
        client_for(make_specialist()),
        act_url(account, "reinstate"),
        {"reason": "why not"},
        follow=True,
    )
    assert any("refused" in m for m in messages_of(response))
    assert not AuditEntry.objects.exists()


def test_store_account_fields_cannot_be_edited_in_the_form() -> None:
    account = make_store_account()
    client = client_for(make_specialist())
    response = client.post(change_url(account), {"status": "DEACTIVATED", "plan": "IND"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.status == StoreStatus.NORMAL
    assert reverse("admin:accounts_storeaccount_changelist")
