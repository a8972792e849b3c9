"""The AHA case queue: ordering, local deadlines, and each action's effect, outbox and audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import StoreStatus
from health.eligibility import ENGAGEMENT_WINDOW
from health.models import (
    AHACase,
    AuditEntry,
    CaseStatus,
    ContactAttempt,
    EmailKind,
    HealthState,
    OutboxEmail,
)
from health.services import protection
from tests.health.test_admin import (
    change_url,
    changelist,
    client_for,
    make_specialist,
    messages_of,
    open_case,
    post_action,
    run_changelist_action,
)

pytestmark = pytest.mark.django_db


def engaged_case() -> AHACase:
    case = open_case()
    protection.acknowledge_case(case=case, by=None)
    case.refresh_from_db()
    return case


def audit_of(case: AHACase, action: str) -> AuditEntry:
    return AuditEntry.objects.get(target=f"case:{case.pk}", action=action)


def test_queue_is_ordered_by_deadline_and_shows_local_time_with_the_zone() -> None:
    later, sooner = open_case(), open_case(marketplace="JP")
    AHACase.objects.filter(pk=later.pk).update(deadline_at=timezone.now() + dt.timedelta(hours=50))
    AHACase.objects.filter(pk=sooner.pk).update(deadline_at=timezone.now() + dt.timedelta(hours=5))
    page = client_for(make_specialist()).get(changelist("health_ahacase")).content.decode()
    assert page.index(change_url(sooner)) < page.index(change_url(later))
    assert "(Asia/Tokyo)" in page and "(Europe/Warsaw)" in page
    assert "4 h 59 min left" in page or "5 h 0 min left" in page


def test_overdue_and_mine_filters() -> None:
    overdue, fine = open_case(), open_case()
    AHACase.objects.filter(pk=overdue.pk).update(deadline_at=timezone.now() - dt.timedelta(hours=1))
    specialist = make_specialist()
    client = client_for(specialist)
    page = client.get(changelist("health_ahacase") + "?overdue=yes").content.decode()
    assert change_url(overdue) in page and change_url(fine) not in page
    run_changelist_action(client, fine, "assign_case")
    page = client.get(changelist("health_ahacase") + "?assigned=me").content.decode()
    assert change_url(fine) in page and change_url(overdue) not in page


def test_assign_to_me_assigns_and_is_audited() -> None:
    case, specialist = open_case(), make_specialist()
    response = run_changelist_action(client_for(specialist), case, "assign_case")
    case.refresh_from_db()
    assert case.assigned_to == specialist
    assert audit_of(case, "assign_case").actor == specialist
    assert any("done" in m for m in messages_of(response))


def test_contact_attempt_form_is_shown_before_anything_changes() -> None:
    case = open_case()
    client = client_for(make_specialist())
    response = client.post(
        changelist("health_ahacase"),
        {"action": "record_contact_attempt", "_selected_action": [case.pk]},
    )
    assert response.status_code == 200
    assert b'name="channel"' in response.content
    assert ContactAttempt.objects.filter(case=case, by__isnull=False).count() == 0


def test_a_phone_contact_before_the_outreach_email_starts_the_clock() -> None:
    case = open_case()
    reached_at = timezone.now() - dt.timedelta(hours=1)
    specialist = make_specialist()
    run_changelist_action(
        client_for(specialist),
        case,
        "record_contact_attempt",
        channel="phone",
        outcome="reached",
        note="Talked to the owner",
        at=reached_at.strftime("%Y-%m-%d %H:%M:%S"),
    )
    case.refresh_from_db()
    assert case.deadline_at == reached_at.replace(microsecond=0) + ENGAGEMENT_WINDOW
    attempt = ContactAttempt.objects.get(case=case, by=specialist)
    assert (attempt.channel, attempt.outcome) == ("phone", "reached")
    assert audit_of(case, "record_contact_attempt").reason == "Talked to the owner"


def test_mark_engaged_from_the_case_page() -> None:
    case, specialist = open_case(), make_specialist()
    client = client_for(specialist)
    page = client.get(change_url(case)).content.decode()
    assert "Mark engaged" in page
    url = change_url(case).replace("change/", "act/mark_engaged/")
    post_action(client, url, {"note": "Owner will send the invoices"})
    case.refresh_from_db()
    assert case.status == CaseStatus.ENGAGED and case.engagement == "specialist"
    assert audit_of(case, "mark_engaged").actor == specialist
    # The note is kept (it used to be dropped).
    assert audit_of(case, "mark_engaged").reason == "Owner will send the invoices"
    assert "Marked the AHA case engaged" in client.get(change_url(case)).content.decode()


def test_close_resolved_resolves_the_violation_and_emails_the_seller() -> None:
    case = engaged_case()
    run_changelist_action(client_for(make_specialist()), case, "close_resolved", note="Fixed")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.violation.resolved_at is not None
    assert OutboxEmail.objects.filter(key=f"case_closed:{case.pk}").count() == 1
    assert audit_of(case, "close_case").reason == "Fixed"


def test_close_unresolved_needs_a_reason_and_changes_nothing_without_one() -> None:
    case = engaged_case()
    client = client_for(make_specialist())
    response = run_changelist_action(client, case, "close_unresolved", reason="  ")
    case.refresh_from_db()
    assert case.status == CaseStatus.ENGAGED
    assert any("Nothing was changed" in m for m in messages_of(response))
    assert b"This field is required" in response.content
    assert not AuditEntry.objects.filter(action="close_case").exists()


def test_close_unresolved_removes_aha_deactivates_and_emails() -> None:
    case = engaged_case()
    run_changelist_action(client_for(make_specialist()), case, "close_unresolved", reason="No plan")
    case.refresh_from_db()
    account = case.store_account
    account.refresh_from_db()
    assert case.status == CaseStatus.UNRESOLVED
    assert account.status == StoreStatus.DEACTIVATED
    assert not HealthState.objects.get(store_account=account).enrolled
    kinds = set(OutboxEmail.objects.filter(store_account=account).values_list("kind", flat=True))
    assert {EmailKind.CASE_CLOSED, EmailKind.REMOVED} <= kinds
    assert audit_of(case, "close_case").reason == "No plan"


def test_actions_on_a_closed_case_are_refused_with_a_message() -> None:
    case = engaged_case()
    protection.close_case(case=case, resolved=True, by=make_specialist(), note="")
    before = AuditEntry.objects.count()
    response = run_changelist_action(
        client_for(make_specialist()),
        case,
        "record_contact_attempt",
        channel="phone",
        outcome="reached",
        note="",
    )
    assert any("refused" in m for m in messages_of(response))
    assert ContactAttempt.objects.filter(case=case, by__isnull=False).count() == 0
    assert AuditEntry.objects.count() == before


def test_closing_a_case_the_seller_has_not_engaged_with_is_refused() -> None:
    case = open_case()
    response = run_changelist_action(client_for(make_specialist()), case, "close_resolved", note="")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert any("refused" in m for m in messages_of(response))
