"""Rules §5: deactivation-level events, protection, standard enforcement and appeals."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus
from health.eligibility import ENGAGEMENT_WINDOW, STANDARD_WARNING_PERIOD
from health.models import (
    AHACase,
    CaseTrigger,
    EmailKind,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    OutboxEmail,
)
from health.rating import AT_RISK_FROM
from health.services.protection import (
    appeal_enforcement,
    handle_low_ratings,
    reinstate,
    reject_appeal,
    resolve_violation,
    watch_deadlines,
)
from tests.builders import make_seller, make_seller_user, make_staff_user, make_store_account
from tests.health.protection_helpers import enroll, set_ahr, violation

pytestmark = pytest.mark.django_db

PLAN = {"root_cause": "Bad supplier", "actions_taken": "Changed it", "prevention": "Audits"}


def status_of(store_account: StoreAccount) -> str:
    store_account.refresh_from_db()
    return store_account.status


def emails(kind: str) -> list[OutboxEmail]:
    return list(OutboxEmail.objects.filter(kind=kind).order_by("pk"))


def test_unprotected_deactivation_level_violation_deactivates_at_once():
    store = make_store_account()
    found = violation(store)
    assert status_of(store) == StoreStatus.DEACTIVATED
    enforcement = Enforcement.objects.get(store_account=store)
    assert (enforcement.kind, enforcement.status, enforcement.violation) == (
        EnforcementKind.DEACTIVATION,
        EnforcementStatus.DEACTIVATED,
        found,
    )
    assert [e.key for e in emails(EmailKind.DEACTIVATED)] == [
        f"deactivated:enforcement:{enforcement.pk}"
    ]
    assert not AHACase.objects.exists()


def test_a_critical_violation_is_always_deactivation_level():
    store = make_store_account()
    found = violation(store, severity="critical", deactivation_level=False)
    assert found.deactivation_level
    assert status_of(store) == StoreStatus.DEACTIVATED


def test_an_ordinary_violation_only_counts_against_the_ahr():
    store = make_store_account()
    violation(store, deactivation_level=False)
    assert status_of(store) == StoreStatus.NORMAL
    assert not Enforcement.objects.exists() and not AHACase.objects.exists()


def test_repeat_means_same_category_within_180_days_before():
    store = make_store_account()
    now = timezone.now()
    kwargs = {"deactivation_level": False}
    violation(store, detected_at=now - dt.timedelta(days=200), **kwargs)
    assert not violation(store, detected_at=now - dt.timedelta(days=10), **kwargs).repeat
    assert violation(store, detected_at=now, **kwargs).repeat
    assert not violation(store, category="reviews", detected_at=now, **kwargs).repeat


WARSAW = ZoneInfo("Europe/Warsaw")


def local_time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=WARSAW)


@pytest.mark.parametrize(
    ("days_before", "repeat"), [(0, False), (1, True), (179, True), (180, True), (181, False)]
)
def test_repeat_is_judged_in_the_marketplaces_local_days(days_before: int, repeat: bool):
    # The earlier one late on its local day, the later one just after local midnight: the time
    # between them is almost a day shorter than the local days (same day: both after midnight).
    store = make_store_account(marketplace="PL")
    day = dt.date(2026, 6, 15)
    earlier_day = day - dt.timedelta(days=days_before)
    earlier_at = local_time(earlier_day, 23, 50) if days_before else local_time(day, 0, 5)
    violation(store, deactivation_level=False, detected_at=earlier_at)
    later = violation(store, deactivation_level=False, detected_at=local_time(day, 0, 10))
    assert later.repeat is repeat


def test_two_on_the_same_local_day_are_both_single():
    store = make_store_account(marketplace="PL")
    day = dt.date(2026, 6, 15)
    first = violation(store, deactivation_level=False, detected_at=local_time(day, 0, 10))
    second = violation(store, deactivation_level=False, detected_at=local_time(day, 23, 50))
    first.refresh_from_db()
    assert (first.repeat, second.repeat) == (False, False)


def test_a_violation_recorded_late_makes_the_later_one_a_repeat():
    store = make_store_account(marketplace="PL")
    day = dt.date(2026, 6, 15)
    later = violation(store, deactivation_level=False, detected_at=local_time(day, 12))
    unrelated = violation(
        store, category="reviews", deactivation_level=False, detected_at=local_time(day, 12)
    )
    earlier = violation(
        store, deactivation_level=False, detected_at=local_time(day - dt.timedelta(180), 12)
    )
    later.refresh_from_db()
    unrelated.refresh_from_db()
    assert (later.repeat, unrelated.repeat, earlier.repeat) == (True, False, False)


def test_an_account_wide_violation_elsewhere_counts_as_earlier_for_repeat():
    seller = make_seller()
    pl, de = make_store_account(seller=seller), make_store_account(seller=seller, marketplace="DE")
    now = timezone.now()
    violation(de, scope="account", deactivation_level=False, detected_at=now - dt.timedelta(1))
    assert violation(pl, deactivation_level=False, detected_at=now).repeat


def test_protected_store_account_gets_an_aha_case_instead_of_deactivation():
    store = make_store_account()
    enroll(store)
    found = violation(store, severity="critical")
    assert status_of(store) == StoreStatus.NORMAL
    case = AHACase.objects.get(store_account=store)
    assert (case.trigger, case.violation, case.status) == (CaseTrigger.VIOLATION, found, "open")
    assert case.deadline_at - case.first_contacted_at == ENGAGEMENT_WINDOW
    email = OutboxEmail.objects.get(key=f"case_opened:{case.pk}")
    assert email.context["deadline_at"] == case.deadline_at.isoformat()
    assert case.contact_attempts.filter(channel="email").count() == 1
    assert not Enforcement.objects.exists()


def test_account_wide_violation_is_protected_by_any_enrolled_store_account():
    seller = make_seller()
    pl = make_store_account(seller=seller)
    de = make_store_account(seller=seller, marketplace="DE")
    enroll(de)
    # It arose in PL, where the seller is not enrolled.
    violation(pl, scope="account")
    assert status_of(pl) == StoreStatus.NORMAL and status_of(de) == StoreStatus.NORMAL
    assert list(AHACase.objects.values_list("store_account_id", flat=True)) == [de.pk]
    assert not Enforcement.objects.exists()


def test_account_wide_violation_without_protection_deactivates_every_store_account():
    seller = make_seller()
    stores = [make_store_account(seller=seller, marketplace=code) for code in ("PL", "DE", "FR")]
    violation(stores[0], scope="account")
    assert {status_of(store) for store in stores} == {StoreStatus.DEACTIVATED}
    assert len(emails(EmailKind.DEACTIVATED)) == 3


def test_resolving_a_violation_keeps_the_moment_and_refuses_a_second_time():
    specialist = make_staff_user()
    found = violation(make_store_account(), deactivation_level=False)
    resolved = resolve_violation(violation=found, by=specialist)
    assert resolved.resolved_at is not None and resolved.resolved_by == specialist
    with pytest.raises(ValidationError):
        resolve_violation(violation=found, by=specialist)


def test_violation_input_is_checked():
    store = make_store_account()
    with pytest.raises(ValidationError):
        violation(store, category="made_up")
    with pytest.raises(ValidationError):
        violation(store, detected_at=timezone.now() + dt.timedelta(hours=1))
    assert not store.violations.exists()


# Low AHR at the close of a day ------------------------------------------------------------------


def test_low_ahr_on_a_protected_store_account_opens_one_case_per_run():
    store = make_store_account()
    enroll(store, ahr=50)
    day = dt.date(2026, 11, 25)
    args = {"marketplace_code": "PL", "day": day, "store_account_ids": [store.pk]}
    assert handle_low_ratings(**args) == {"low_ahr_cases": 1, "low_ahr_warnings": 0}
    assert handle_low_ratings(**args) == {"low_ahr_cases": 0, "low_ahr_warnings": 0}
    # The next night, while the case is still open, opens nothing new either.
    handle_low_ratings(**{**args, "day": day + dt.timedelta(days=1)})
    case = AHACase.objects.get(store_account=store)
    assert (case.trigger, case.trigger_day) == (CaseTrigger.LOW_AHR, day)
    assert case.deadline_at == case.first_contacted_at + ENGAGEMENT_WINDOW
    assert [e.key for e in emails(EmailKind.CASE_OPENED)] == [f"case_opened:{case.pk}"]
    assert status_of(store) == StoreStatus.NORMAL


def test_low_ahr_without_protection_sends_a_three_day_warning_once():
    store = make_store_account()
    set_ahr(store, 40)
    args = {"marketplace_code": "PL", "day": dt.date(2026, 11, 25), "store_account_ids": [store.pk]}
    before = timezone.now()
    assert handle_low_ratings(**args) == {"low_ahr_cases": 0, "low_ahr_warnings": 1}
    assert handle_low_ratings(**args)["low_ahr_warnings"] == 0
    warning = Enforcement.objects.get(store_account=store)
    assert (warning.kind, warning.status) == (
        EnforcementKind.LOW_AHR_WARNING,
        EnforcementStatus.WARNING,
    )
    assert before + STANDARD_WARNING_PERIOD <= warning.deadline_at
    assert warning.deadline_at <= timezone.now() + STANDARD_WARNING_PERIOD
    assert len(emails(EmailKind.LOW_AHR_WARNING)) == 1
    assert status_of(store) == StoreStatus.NORMAL


def test_low_ahr_in_another_marketplace_is_ignored():
    store = make_store_account(marketplace="DE")
    handle_low_ratings(
        marketplace_code="PL", day=dt.date(2026, 11, 25), store_account_ids=[store.pk]
    )
    assert not Enforcement.objects.exists()


def warned_store(ahr_at_deadline: int) -> tuple[StoreAccount, Enforcement]:
    store = make_store_account()
    set_ahr(store, 40)
    day = dt.date(2026, 11, 25)
    handle_low_ratings(marketplace_code="PL", day=day, store_account_ids=[store.pk])
    set_ahr(store, ahr_at_deadline)
    return store, Enforcement.objects.get(store_account=store)


def test_warning_deactivates_when_the_ahr_is_still_below_100_at_the_deadline():
    store, warning = warned_store(AT_RISK_FROM - 1)
    watch_deadlines(now=warning.deadline_at - dt.timedelta(minutes=1))
    assert status_of(store) == StoreStatus.NORMAL
    counts = watch_deadlines(now=warning.deadline_at)
    assert counts["warnings_deactivated"] == 1
    warning.refresh_from_db()
    assert warning.status == EnforcementStatus.DEACTIVATED
    assert status_of(store) == StoreStatus.DEACTIVATED
    assert watch_deadlines(now=warning.deadline_at)["warnings_deactivated"] == 0
    assert len(emails(EmailKind.DEACTIVATED)) == 1


def test_warning_clears_when_the_ahr_recovered_by_the_deadline():
    store, warning = warned_store(AT_RISK_FROM)
    assert watch_deadlines(now=warning.deadline_at)["warnings_cleared"] == 1
    warning.refresh_from_db()
    assert warning.status == EnforcementStatus.CLEARED
    assert status_of(store) == StoreStatus.NORMAL
    assert not emails(EmailKind.DEACTIVATED)


# Appeals --------------------------------------------------------------------------------------


def deactivated_store() -> tuple[StoreAccount, Enforcement]:
    store = make_store_account()
    violation(store)
    return store, Enforcement.objects.get(store_account=store)


def test_appeal_then_reinstate_brings_the_store_account_back_to_normal():
    store, enforcement = deactivated_store()
    seller_user = make_seller_user(seller=store.seller)
    appeal_enforcement(enforcement=enforcement, **PLAN, by=seller_user)
    enforcement.refresh_from_db()
    assert enforcement.status == EnforcementStatus.APPEALED
    assert enforcement.plan_submitted_at is not None
    reinstate(enforcement=enforcement, by=make_staff_user(), note="Plan accepted")
    enforcement.refresh_from_db()
    assert enforcement.status == EnforcementStatus.REINSTATED
    assert status_of(store) == StoreStatus.NORMAL
    assert [e.key for e in emails(EmailKind.REINSTATED)] == [
        f"reinstated:enforcement:{enforcement.pk}"
    ]


def test_rejected_appeal_keeps_the_store_account_deactivated_and_needs_a_reason():
    store, enforcement = deactivated_store()
    appeal_enforcement(enforcement=enforcement, **PLAN, by=None)
    with pytest.raises(ValidationError):
        reject_appeal(enforcement=enforcement, by=make_staff_user(), note="  ")
    reject_appeal(enforcement=enforcement, by=make_staff_user(), note="Plan too vague")
    enforcement.refresh_from_db()
    assert enforcement.status == EnforcementStatus.REJECTED
    assert status_of(store) == StoreStatus.DEACTIVATED


@pytest.mark.parametrize("missing", ["root_cause", "actions_taken", "prevention"])
def test_an_appeal_needs_every_part_of_the_plan(missing: str):
    _store, enforcement = deactivated_store()
    with pytest.raises(ValidationError):
        appeal_enforcement(enforcement=enforcement, **{**PLAN, missing: ""}, by=None)
    enforcement.refresh_from_db()
    assert enforcement.status == EnforcementStatus.DEACTIVATED


def test_an_oversized_plan_is_refused():
    _store, enforcement = deactivated_store()
    with pytest.raises(ValidationError):
        appeal_enforcement(enforcement=enforcement, **{**PLAN, "prevention": "x" * 5000}, by=None)


def test_a_running_warning_cannot_be_appealed_or_reinstated():
    _store, warning = warned_store(40)
    with pytest.raises(ValidationError):
        appeal_enforcement(enforcement=warning, **PLAN, by=None)
    with pytest.raises(ValidationError):
        reinstate(enforcement=warning, by=make_staff_user(), note="")
