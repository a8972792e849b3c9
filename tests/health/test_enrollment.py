"""Enrollment outside the night: saving a contact, R4-R7 removals, bars and lifting them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import EmergencyContact, StoreAccount, StoreStatus
from health.eligibility import Criterion, RemovalReason
from health.models import (
    EligibilityStatus,
    EmailKind,
    EnrollmentEvent,
    EnrollmentEventKind,
    OutboxEmail,
)
from health.rating import WINDOW_DAYS
from health.services.enrollment import lift_bar, remove_from_aha, save_emergency_contact
from tests.builders import make_seller, make_staff_user, make_store_account
from tests.health.test_day_close import (
    PHONE,
    close,
    close_days,
    day,
    enrolled_account,
    events,
    pro_account,
    state_of,
    steady_orders,
)

pytestmark = pytest.mark.django_db


def waiting_account() -> StoreAccount:
    account = pro_account(contact=False)
    steady_orders(account)
    close_days(account, 0, WINDOW_DAYS - 1)
    assert state_of(account).status == EligibilityStatus.WAITING_FOR_CONTACT
    return account


def test_saving_a_contact_enrolls_every_waiting_store_account_of_the_seller_at_once() -> None:
    account = waiting_account()
    germany = pro_account(seller=account.seller, marketplace="DE")
    steady_orders(germany)
    close_days(germany, 0, WINDOW_DAYS - 1)
    not_ready = pro_account(seller=account.seller, marketplace="FR")
    user = make_staff_user()

    contact, enrolled = save_emergency_contact(
        seller=account.seller, phone=PHONE, by=user, region="PL"
    )

    assert contact.is_valid
    assert {a.pk for a in enrolled} == {account.pk, germany.pk}
    state = state_of(account)
    assert (state.enrolled, state.status) == (True, EligibilityStatus.ENROLLED)
    event = EnrollmentEvent.objects.get(store_account=account)
    assert (event.kind, event.by) == (EnrollmentEventKind.ENROLLED, user)
    assert OutboxEmail.objects.filter(kind=EmailKind.ENROLLED).count() == 2
    assert not EnrollmentEvent.objects.filter(store_account=not_ready).exists()


def test_an_invalid_contact_enrolls_nothing_and_saves_nothing() -> None:
    account = waiting_account()

    with pytest.raises(ValidationError):
        save_emergency_contact(seller=account.seller, phone="+48 12", by=None, region="PL")

    assert not EmergencyContact.objects.filter(seller=account.seller).exists()
    assert not state_of(account).enrolled


def test_the_next_close_keeps_an_account_enrolled_by_its_contact() -> None:
    account = waiting_account()
    save_emergency_contact(seller=account.seller, phone=PHONE, by=None, region="PL")

    close(account, day(WINDOW_DAYS))

    assert state_of(account).enrolled
    assert len(events(account)) == 1


@pytest.mark.parametrize("reason", [RemovalReason.R6, RemovalReason.R7])
def test_r6_and_r7_bar_re_enrollment_until_a_specialist_lifts_the_bar(
    reason: RemovalReason,
) -> None:
    account = enrolled_account()
    specialist = make_staff_user()

    event = remove_from_aha(
        store_account=account, reason=reason, by=specialist, note="Found in review", day=day(180)
    )

    assert (event.kind, event.reason, event.by) == (EnrollmentEventKind.REMOVED, reason, specialist)
    assert [kind for kind, _r, _d in events(account)] == ["enrolled", "removed", "barred"]
    state = state_of(account)
    assert (state.enrolled, state.barred) == (False, True)
    assert Criterion.E6 in state.failing
    assert OutboxEmail.objects.get(kind=EmailKind.REMOVED).context["reason"] == reason
    account.refresh_from_db()
    deactivated = account.status == StoreStatus.DEACTIVATED
    assert deactivated is reason.deactivates

    close_days(account, 180, 185)
    assert not state_of(account).enrolled

    with pytest.raises(ValidationError):
        lift_bar(store_account=account, by=specialist, reason="  ")
    StoreAccount.objects.filter(pk=account.pk).update(status=StoreStatus.NORMAL)
    lifted = lift_bar(store_account=account, by=specialist, reason="Documents checked")
    assert (lifted.kind, lifted.note) == (EnrollmentEventKind.BAR_LIFTED, "Documents checked")
    close(account, day(186))

    assert state_of(account).enrolled
    assert events(account)[-1] == (EnrollmentEventKind.ENROLLED, "", day(186))


def test_r6_bars_an_account_that_is_not_enrolled() -> None:
    account = pro_account()
    specialist = make_staff_user()

    event = remove_from_aha(store_account=account, reason=RemovalReason.R6, by=specialist)

    assert (event.kind, event.reason) == (EnrollmentEventKind.BARRED, "R6")
    assert state_of(account).barred
    assert not OutboxEmail.objects.exists()


@pytest.mark.parametrize("reason", [RemovalReason.R4, RemovalReason.R5])
def test_r4_and_r5_remove_and_deactivate_an_enrolled_account(reason: RemovalReason) -> None:
    account = enrolled_account()

    event = remove_from_aha(store_account=account, reason=reason, note="Case #1", day=day(180))

    assert (event.kind, event.reason, event.note) == (
        EnrollmentEventKind.REMOVED,
        reason,
        "Case #1",
    )
    account.refresh_from_db()
    assert account.status == StoreStatus.DEACTIVATED
    state = state_of(account)
    assert (state.enrolled, state.barred) == (False, False)
    assert Criterion.E5 in state.failing


def test_r4_is_a_no_op_for_an_account_that_is_not_enrolled() -> None:
    account = pro_account()

    assert remove_from_aha(store_account=account, reason=RemovalReason.R4) is None

    account.refresh_from_db()
    assert account.status == StoreStatus.NORMAL
    assert not EnrollmentEvent.objects.exists()


def test_lifting_a_bar_needs_a_barred_account() -> None:
    account = make_store_account(seller=make_seller(phone=PHONE))

    with pytest.raises(ValidationError):
        lift_bar(store_account=account, by=None, reason="No reason to bar")
