"""AHA enrollment outside the nightly close: saving an emergency contact (which enrolls waiting
store accounts at once), removals for R4-R7, and lifting a bar (rules §3 and §4).

The email builders here are also used by the day close, so that the key and the context of
each kind of email are written in one place."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import EmergencyContact, Marketplace, Seller, StoreAccount, StoreStatus, User
from accounts.services import set_emergency_contact
from health.eligibility import Eligibility, RemovalReason, evaluate_eligibility
from health.models import (
    AHACase,
    EligibilityStatus,
    EmailKind,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
)
from health.services.outbox import EmailDraft, queue_emails
from health.state import account_facts, evaluation_day, rating_window, seller_has_valid_contact


def account_email(
    *,
    kind: str,
    store_account: StoreAccount,
    seller: Seller,
    marketplace: Marketplace,
    day: dt.date,
    reason: RemovalReason | None = None,
) -> EmailDraft:
    """An email about one store account; its key names the occurrence."""
    context = {
        "store_account_id": store_account.pk,
        "seller_name": seller.name,
        "marketplace_code": marketplace.code,
        "marketplace_name": marketplace.name,
        "day": day.isoformat(),
    }
    if reason is not None:
        context |= {"reason": reason.value, "reason_label": reason.label, "bars": reason.bars}
    return EmailDraft(
        kind=kind,
        key=f"{kind}:{store_account.pk}:{day.isoformat()}",
        seller=seller,
        store_account=store_account,
        context=context,
    )


def contact_needed_email(
    *, seller: Seller, store_account: StoreAccount, marketplace: Marketplace, day: dt.date
) -> EmailDraft:
    """An "add an emergency contact" email: one per seller and day, whatever the store."""
    email = account_email(
        kind=EmailKind.CONTACT_NEEDED,
        store_account=store_account,
        seller=seller,
        marketplace=marketplace,
        day=day,
    )
    return dataclasses.replace(
        email, key=f"{EmailKind.CONTACT_NEEDED}:{seller.pk}:{day.isoformat()}"
    )


def apply_eligibility(state: HealthState, eligibility: Eligibility) -> None:
    """Store the latest eligibility decision of a store account that is not enrolled."""
    if eligibility.waiting_for_contact:
        state.status = EligibilityStatus.WAITING_FOR_CONTACT
    else:
        state.status = EligibilityStatus.NOT_ELIGIBLE
    state.failing = ",".join(eligibility.failing)
    state.first_qualifying_day = eligibility.first_qualifying_day


def mark_enrolled(state: HealthState, day: dt.date) -> None:
    """Store an enrollment from `day` in the state (the event is written by the caller)."""
    state.enrolled = True
    state.enrolled_since = day
    state.status = EligibilityStatus.ENROLLED
    state.failing = ""
    state.first_qualifying_day = None


def _locked_state(store_account: StoreAccount) -> HealthState:
    HealthState.objects.get_or_create(store_account=store_account)
    return HealthState.objects.select_for_update().get(store_account=store_account)


def _reevaluate(state: HealthState, store_account: StoreAccount) -> None:
    """Refresh the stored decision of a store account that is not enrolled after a change."""
    facts = account_facts(
        store_account,
        state,
        has_valid_contact=seller_has_valid_contact(store_account.seller_id),
    )
    day = evaluation_day(store_account, state)
    apply_eligibility(state, evaluate_eligibility(rating_window(state), facts, day))


def enroll_store_account(
    *, store_account: StoreAccount, state: HealthState, day: dt.date, by: User | None, note: str
) -> EnrollmentEvent:
    """Enroll one store account from `day`, with its event and confirmation email."""
    mark_enrolled(state, day)
    state.save()
    event = EnrollmentEvent.objects.create(
        store_account=store_account, kind=EnrollmentEventKind.ENROLLED, day=day, by=by, note=note
    )
    queue_emails(
        [
            account_email(
                kind=EmailKind.ENROLLED,
                store_account=store_account,
                seller=store_account.seller,
                marketplace=store_account.marketplace,
                day=day,
            )
        ]
    )
    return event


@transaction.atomic
def save_emergency_contact(
    *, seller: Seller, phone: str, by: User | None, region: str | None = None
) -> tuple[EmergencyContact, list[StoreAccount]]:
    """Save the seller's emergency contact and enroll at once every store account waiting for it."""
    contact = set_emergency_contact(seller=seller, phone=phone, by=by, region=region)
    states = (
        HealthState.objects.select_for_update(of=("self",))
        .select_related("store_account__marketplace", "store_account__seller")
        .filter(store_account__seller=seller, status=EligibilityStatus.WAITING_FOR_CONTACT)
        .order_by("store_account_id")
    )
    enrolled = []
    for state in states:
        store_account = state.store_account
        facts = account_facts(store_account, state, has_valid_contact=contact.is_valid)
        # Re-check with the rules: the plan or a bar may have changed since the last close.
        eligibility = evaluate_eligibility(rating_window(state), facts, state.last_closed_day)
        if not eligibility.eligible:
            continue
        enroll_store_account(
            store_account=store_account,
            state=state,
            day=store_account.marketplace.local_date(),
            by=by,
            note=_("Emergency contact saved."),
        )
        enrolled.append(store_account)
    return contact, enrolled


@transaction.atomic
def remove_from_aha(
    *,
    store_account: StoreAccount,
    reason: RemovalReason,
    by: User | None = None,
    note: str = "",
    day: dt.date | None = None,
    case: AHACase | None = None,
) -> EnrollmentEvent | None:
    """Remove a store account from AHA for R4-R7: R6/R7 also bar it, R4/R5/R7 deactivate it
    (as an enforcement the seller can appeal)."""
    store_account = StoreAccount.objects.select_related("seller", "marketplace").get(
        pk=store_account.pk
    )
    state = _locked_state(store_account)
    day = day or store_account.marketplace.local_date()
    was_enrolled = state.enrolled
    # Decision: R4/R5 concern an enrolled account's case; for an account not enrolled they
    # change nothing. R6/R7 are specialist findings that bar (and for R7 deactivate) regardless.
    if not was_enrolled and not reason.bars:
        return None
    if not was_enrolled and state.barred and not reason.deactivates:
        return None
    removal = _record_removal(store_account, state, reason, by, note, day) if was_enrolled else None
    bar = _record_bar(store_account, state, reason, by, note, day) if reason.bars else None
    if reason.deactivates and store_account.status != StoreStatus.DEACTIVATED:
        # Imported here: protection's cases import this module.
        from health.services.protection.enforcement import deactivate_on_removal

        deactivate_on_removal(store_account, reason, day=day, case=case)
    _reevaluate(state, store_account)
    state.save()
    return removal or bar


def _record_removal(
    store_account: StoreAccount,
    state: HealthState,
    reason: RemovalReason,
    by: User | None,
    note: str,
    day: dt.date,
) -> EnrollmentEvent:
    state.enrolled = False
    state.enrolled_since = None
    queue_emails(
        [
            account_email(
                kind=EmailKind.REMOVED,
                store_account=store_account,
                seller=store_account.seller,
                marketplace=store_account.marketplace,
                day=day,
                reason=reason,
            )
        ]
    )
    return EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.REMOVED,
        reason=reason.value,
        day=day,
        by=by,
        note=note,
    )


def _record_bar(
    store_account: StoreAccount,
    state: HealthState,
    reason: RemovalReason,
    by: User | None,
    note: str,
    day: dt.date,
) -> EnrollmentEvent | None:
    if state.barred:
        return None
    state.barred = True
    return EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.BARRED,
        reason=reason.value,
        day=day,
        by=by,
        note=note,
    )


@transaction.atomic
def lift_bar(*, store_account: StoreAccount, by: User | None, reason: str) -> EnrollmentEvent:
    """Lift an R6/R7 bar with a written reason; the account re-enrolls when it meets E1-E6."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Write why the bar is lifted."), code="required")
    store_account = StoreAccount.objects.select_related("seller", "marketplace").get(
        pk=store_account.pk
    )
    state = _locked_state(store_account)
    if not state.barred:
        raise ValidationError(_("This store account is not barred from AHA."), code="not_barred")
    state.barred = False
    _reevaluate(state, store_account)
    state.save()
    return EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.BAR_LIFTED,
        day=store_account.marketplace.local_date(),
        by=by,
        note=reason,
    )
