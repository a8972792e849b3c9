"""The history of a store account, newest first, each event at the time it happened and with
the state of that time (a case's opening says what opened it, not its present status); and the
seller-wide history (callbacks and emails about no one store), shown once on its own page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import StoreAccount
from health.eligibility import ENGAGEMENT_WINDOW
from health.models import (
    AHACase,
    Appeal,
    CallbackRequest,
    ContactAttempt,
    EmailStatus,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    EnrollmentEvent,
    OutboxEmail,
    Violation,
)
from health.rating import AT_RISK_FROM
from health.views.common import seller_store_accounts, seller_view

PER_PAGE = 25
FIGURES = {
    "engagement_hours": ENGAGEMENT_WINDOW // dt.timedelta(hours=1),
    "at_risk_from": AT_RISK_FROM,
}
# The newest rows read of each source: a history longer than this shows its latest part.
MAX_ROWS_PER_SOURCE = 1000


@dataclass(frozen=True, slots=True)
class Entry:
    """One event: when, what (a kind the template words) and the row it is about."""

    at: dt.datetime
    kind: str
    item: object
    extra: dict[str, object] = field(default_factory=dict)


@seller_view("GET")
def timeline(
    request: HttpRequest, store_account: StoreAccount, *, store_accounts: list[StoreAccount]
) -> HttpResponse:
    """The timeline of one store account, paginated."""
    entries = sorted(_store_entries(store_account), key=_newest_first)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "store_account": store_account,
        "store_accounts": store_accounts,
        "entries": page.object_list,
        "page": page,
        "zone": store_account.marketplace.time_zone,
        **FIGURES,
    }
    return render(request, "health/timeline.html", context)


@login_required
def seller_timeline(request: HttpRequest) -> HttpResponse:
    """What happened to the seller as a whole: callback requests and seller-wide emails."""
    store_accounts = seller_store_accounts(request)
    seller_id = request.user.seller_id
    entries = sorted(_seller_entries(seller_id), key=_newest_first)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    # The seller's times are shown in the zone of its first store (the one it sees first).
    zone = store_accounts[0].marketplace.time_zone if store_accounts else "UTC"
    context = {
        "store_accounts": store_accounts,
        "entries": page.object_list,
        "page": page,
        "zone": zone,
        **FIGURES,
    }
    return render(request, "health/seller_timeline.html", context)


def _newest_first(entry: Entry) -> tuple[float, str]:
    return -entry.at.timestamp(), entry.kind


def _latest(queryset, stamp: str) -> Iterable:
    return queryset.order_by(f"-{stamp}")[:MAX_ROWS_PER_SOURCE]


def _store_entries(store_account: StoreAccount) -> Iterator[Entry]:
    for event in _latest(EnrollmentEvent.objects.filter(store_account=store_account), "at"):
        yield Entry(event.at, f"enrollment_{event.kind}", event)
    violations = Violation.objects.affecting(store_account).filter(
        detected_at__lte=dt.datetime.now(dt.UTC)
    )
    for violation in _latest(violations, "detected_at"):
        yield Entry(violation.detected_at, "violation_detected", violation)
        if violation.resolved_at:
            yield Entry(violation.resolved_at, "violation_resolved", violation)
    cases = AHACase.objects.filter(store_account=store_account).select_related("violation")
    for case in _latest(cases, "opened_at"):
        yield from _case_entries(case)
    attempts = ContactAttempt.objects.filter(case__store_account=store_account)
    for attempt in _latest(attempts, "at"):
        yield Entry(attempt.at, "contact_attempt", attempt)
    enforcements = Enforcement.objects.filter(store_account=store_account)
    for enforcement in _latest(enforcements, "opened_at"):
        yield from _enforcement_entries(enforcement)
    appeals = Appeal.objects.filter(enforcement__store_account=store_account)
    for appeal in _latest(appeals, "plan_submitted_at"):
        yield Entry(appeal.plan_submitted_at, "appeal_sent", appeal)
        if appeal.decided_at:
            yield Entry(appeal.decided_at, f"appeal_{appeal.status}", appeal)
    # Callbacks about one of this store's cases are part of its history; the others are the
    # seller's and appear once, on the seller-wide timeline.
    callbacks = CallbackRequest.objects.filter(case__store_account=store_account)
    for callback in _latest(callbacks, "created_at"):
        yield from _callback_entries(callback)
    emails = OutboxEmail.objects.filter(store_account=store_account, status=EmailStatus.SENT)
    for email in _latest(emails, "sent_at"):
        yield Entry(email.sent_at, "email", email)


def _seller_entries(seller_id: int) -> Iterator[Entry]:
    callbacks = CallbackRequest.objects.filter(seller_id=seller_id, case__isnull=True)
    for callback in _latest(callbacks, "created_at"):
        yield from _callback_entries(callback)
    emails = OutboxEmail.objects.filter(
        seller_id=seller_id, store_account__isnull=True, status=EmailStatus.SENT
    )
    for email in _latest(emails, "sent_at"):
        yield Entry(email.sent_at, "email", email)


def _case_entries(case: AHACase) -> Iterator[Entry]:
    yield Entry(case.opened_at, "case_opened", case)
    if case.first_contacted_at:
        yield Entry(case.first_contacted_at, "case_contacted", case)
    if case.engaged_at:
        yield Entry(case.engaged_at, "case_engaged", case)
    if case.plan_submitted_at:
        yield Entry(case.plan_submitted_at, "case_plan", case)
    if case.closed_at:
        yield Entry(case.closed_at, f"case_{case.status}", case)


def _enforcement_entries(enforcement: Enforcement) -> Iterator[Entry]:
    if enforcement.kind == EnforcementKind.LOW_AHR_WARNING:
        yield Entry(enforcement.opened_at, "warning_issued", enforcement)
        # A warning's first decision is cleared or deactivated; later ones are appeals'.
        if enforcement.status == EnforcementStatus.CLEARED:
            yield Entry(enforcement.decided_at, "warning_cleared", enforcement)
        elif enforcement.status != EnforcementStatus.WARNING and enforcement.deadline_at:
            yield Entry(enforcement.deadline_at, "deactivated", enforcement)
    else:
        yield Entry(enforcement.opened_at, "deactivated", enforcement)
    if enforcement.status == EnforcementStatus.REINSTATED and enforcement.decided_at:
        yield Entry(enforcement.decided_at, "reinstated", enforcement)


def _callback_entries(callback: CallbackRequest) -> Iterator[Entry]:
    yield Entry(callback.created_at, "callback_requested", callback)
    if callback.claimed_at:
        yield Entry(callback.claimed_at, "callback_claimed", callback)
    if callback.finished_at:
        yield Entry(callback.finished_at, f"callback_{callback.status}", callback)
