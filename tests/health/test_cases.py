"""Rules §5: the AHA case: outreach, the 72-hour clock, engagement, reminders, closing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus
from health.eligibility import ENGAGEMENT_REMINDERS, ENGAGEMENT_WINDOW
from health.models import (
    AHACase,
    CaseStatus,
    EmailKind,
    EngagementKind,
    EnrollmentEvent,
    HealthState,
    OutboxEmail,
)
from health.services.protection import (
    acknowledge_case,
    close_case,
    mark_engaged,
    record_contact_attempt,
    submit_plan_of_action,
    watch_deadlines,
)
from tests.builders import make_seller, make_seller_user, make_staff_user, make_store_account
from tests.health.protection_helpers import enroll, violation

pytestmark = pytest.mark.django_db

PLAN = {"root_cause": "Bad supplier", "actions_taken": "Changed it", "prevention": "Audits"}
DAY_BEFORE, HOURS_BEFORE = sorted(ENGAGEMENT_REMINDERS, reverse=True)


def open_case(store: StoreAccount | None = None) -> AHACase:
    store = store or make_store_account()
    enroll(store)
    violation(store)
    return AHACase.objects.get(store_account=store)


def reminder_keys() -> list[str]:
    return list(
        OutboxEmail.objects.filter(kind=EmailKind.CASE_REMINDER)
        .order_by("pk")
        .values_list("key", flat=True)
    )


def status_of(store: StoreAccount) -> str:
    store.refresh_from_db()
    return store.status


def test_acknowledging_is_engagement():
    case = open_case()
    acknowledge_case(case=case, by=make_seller_user(seller=case.store_account.seller))
    case.refresh_from_db()
    assert (case.status, case.engagement) == (CaseStatus.ENGAGED, EngagementKind.ACKNOWLEDGED)
    assert case.engaged_at is not None


def test_a_plan_of_action_needs_all_three_parts_and_engages():
    case = open_case()
    user = make_seller_user(seller=case.store_account.seller)
    with pytest.raises(ValidationError):
        submit_plan_of_action(case=case, **{**PLAN, "prevention": " "}, by=user)
    case.refresh_from_db()
    assert (case.status, case.root_cause) == (CaseStatus.OPEN, "")
    submit_plan_of_action(case=case, **PLAN, by=user)
    case.refresh_from_db()
    assert (case.status, case.engagement, case.root_cause) == (
        CaseStatus.ENGAGED,
        EngagementKind.PLAN,
        "Bad supplier",
    )


def test_a_completed_callback_engages_once():
    case = open_case()
    specialist = make_staff_user()
    mark_engaged(case=case, by=specialist, how=EngagementKind.CALLBACK)
    mark_engaged(case=case, by=specialist, how=EngagementKind.SPECIALIST)
    case.refresh_from_db()
    assert case.engagement == EngagementKind.CALLBACK


def test_reminders_go_24_and_4_hours_before_the_deadline_exactly_once():
    case = open_case()
    deadline = case.deadline_at
    watch_deadlines(now=deadline - DAY_BEFORE - dt.timedelta(minutes=1))
    assert reminder_keys() == []
    for _ in range(2):
        watch_deadlines(now=deadline - DAY_BEFORE)
        watch_deadlines(now=deadline - DAY_BEFORE + dt.timedelta(hours=1))
    assert reminder_keys() == [f"case_reminder:{case.pk}:24h"]
    for _ in range(2):
        watch_deadlines(now=deadline - HOURS_BEFORE)
    assert reminder_keys() == [f"case_reminder:{case.pk}:24h", f"case_reminder:{case.pk}:4h"]
    email = OutboxEmail.objects.get(key=f"case_reminder:{case.pk}:4h")
    assert email.context["deadline_at"] == deadline.isoformat()


def test_no_reminder_once_the_seller_engaged():
    case = open_case()
    acknowledge_case(case=case, by=make_seller_user(seller=case.store_account.seller))
    watch_deadlines(now=case.deadline_at - HOURS_BEFORE)
    assert reminder_keys() == []


def test_missed_deadline_loses_aha_for_r4_and_deactivates():
    case = open_case()
    store = case.store_account
    assert watch_deadlines(now=case.deadline_at - dt.timedelta(seconds=1))["missed"] == 0
    assert watch_deadlines(now=case.deadline_at)["missed"] == 1
    assert watch_deadlines(now=case.deadline_at)["missed"] == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.MISSED
    assert status_of(store) == StoreStatus.DEACTIVATED
    assert not HealthState.objects.get(store_account=store).enrolled
    removal = EnrollmentEvent.objects.get(store_account=store, kind="removed")
    assert removal.reason == "R4"
    assert OutboxEmail.objects.filter(kind=EmailKind.REMOVED, store_account=store).count() == 1


def test_engaging_after_the_deadline_is_refused():
    case = open_case()
    AHACase.objects.filter(pk=case.pk).update(deadline_at=timezone.now())
    with pytest.raises(ValidationError):
        acknowledge_case(case=case, by=make_seller_user(seller=case.store_account.seller))


def engaged_case() -> AHACase:
    case = open_case()
    acknowledge_case(case=case, by=make_seller_user(seller=case.store_account.seller))
    return case


def test_closing_resolved_resolves_the_violation_and_emails():
    case = engaged_case()
    close_case(case=case, resolved=True, by=make_staff_user(), note="")
    case.refresh_from_db()
    case.violation.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.violation.resolved_at is not None
    assert status_of(case.store_account) == StoreStatus.NORMAL
    email = OutboxEmail.objects.get(key=f"case_closed:{case.pk}")
    assert email.context["resolved"] is True


def test_closing_unresolved_needs_a_note_and_removes_for_r5():
    case = engaged_case()
    specialist = make_staff_user()
    with pytest.raises(ValidationError):
        close_case(case=case, resolved=False, by=specialist, note="")
    case.refresh_from_db()
    assert case.status == CaseStatus.ENGAGED
    close_case(case=case, resolved=False, by=specialist, note="Listings still infringing")
    case.refresh_from_db()
    assert case.status == CaseStatus.UNRESOLVED
    assert status_of(case.store_account) == StoreStatus.DEACTIVATED
    assert EnrollmentEvent.objects.get(store_account=case.store_account, kind="removed").reason == (
        "R5"
    )


def test_a_case_the_seller_has_not_engaged_with_cannot_be_closed():
    case = open_case()
    with pytest.raises(ValidationError):
        close_case(case=case, resolved=True, by=make_staff_user(), note="")


def test_a_closed_case_accepts_nothing_more():
    case = engaged_case()
    close_case(case=case, resolved=True, by=make_staff_user(), note="")
    user = make_seller_user(seller=case.store_account.seller)
    with pytest.raises(ValidationError):
        acknowledge_case(case=case, by=user)
    with pytest.raises(ValidationError):
        submit_plan_of_action(case=case, **PLAN, by=user)
    with pytest.raises(ValidationError):
        record_contact_attempt(
            case=case, channel="phone", outcome="reached", note="", by=make_staff_user()
        )


def test_an_earlier_successful_phone_contact_starts_the_clock():
    store = make_store_account()
    enroll(store)
    detected = timezone.now() - dt.timedelta(hours=2)
    violation(store, detected_at=detected)
    case = AHACase.objects.get(store_account=store)
    called = detected + dt.timedelta(minutes=30)
    record_contact_attempt(
        case=case, channel="phone", outcome="no_answer", note="", by=make_staff_user(), at=called
    )
    case.refresh_from_db()
    assert case.first_contacted_at > called  # no answer does not start the clock
    record_contact_attempt(
        case=case, channel="phone", outcome="reached", note="Spoke", by=make_staff_user(), at=called
    )
    case.refresh_from_db()
    assert (case.first_contacted_at, case.deadline_at) == (called, called + ENGAGEMENT_WINDOW)


def test_a_later_phone_contact_does_not_move_the_clock():
    case = open_case()
    deadline = case.deadline_at
    record_contact_attempt(
        case=case, channel="phone", outcome="reached", note="", by=make_staff_user()
    )
    case.refresh_from_db()
    assert case.deadline_at == deadline


def test_a_contact_in_the_future_is_refused():
    case = open_case()
    with pytest.raises(ValidationError):
        record_contact_attempt(
            case=case,
            channel="phone",
            outcome="reached",
            note="",
            by=make_staff_user(),
            at=timezone.now() + dt.timedelta(hours=1),
        )


def test_account_wide_case_missed_then_deactivates_the_unprotected_store_accounts():
    seller = make_seller()
    pl = make_store_account(seller=seller)
    de = make_store_account(seller=seller, marketplace="DE")
    enroll(de)
    violation(pl, scope="account")
    case = AHACase.objects.get(store_account=de)
    assert status_of(pl) == StoreStatus.NORMAL
    watch_deadlines(now=case.deadline_at)
    assert status_of(de) == StoreStatus.DEACTIVATED
    assert status_of(pl) == StoreStatus.DEACTIVATED


def test_resolving_one_account_wide_case_closes_its_siblings():
    seller = make_seller()
    pl = make_store_account(seller=seller)
    de = make_store_account(seller=seller, marketplace="DE")
    enroll(pl)
    enroll(de)
    violation(pl, scope="account")
    first, second = AHACase.objects.order_by("store_account_id")
    acknowledge_case(case=first, by=make_seller_user(seller=seller))
    close_case(case=first, resolved=True, by=make_staff_user(), note="")
    second.refresh_from_db()
    assert second.status == CaseStatus.RESOLVED
    assert {status_of(pl), status_of(de)} == {StoreStatus.NORMAL}


def test_the_case_email_shows_the_deadline_in_the_sellers_language_and_local_time(mailoutbox):
    from health.services.outbox import send_email

    seller = make_seller(language="pl")
    case = open_case(make_store_account(seller=seller))
    send_email(email_id=OutboxEmail.objects.get(key=f"case_opened:{case.pk}").pk)
    body = mailoutbox[0].body
    assert "(Europe/Warsaw)" in body
    local = case.deadline_at.astimezone(case.store_account.marketplace.zone)
    assert f"{local:%H:%M} (Europe/Warsaw)" in body
    assert "Twój termin" in body
