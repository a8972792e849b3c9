"""One policy violation as the seller sees it: what it is, its effect on the AHR now, what
resolving it would change, and what to do about it."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.models import StoreAccount
from health.eligibility import ENGAGEMENT_WINDOW
from health.models import AHACase, Enforcement, Violation
from health.rating import AHA_LINE, WINDOW_DAYS, ahr_if_resolved, ahr_now, expires_on, standing
from health.views.common import seller_view
from health.views.dashboard import _health_of, aha_card, facts_of, violation_row


@seller_view("GET")
def violation(
    request: HttpRequest,
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    violation_id: int,
) -> HttpResponse:
    """The page of one violation of this store account (or an account-wide one of the seller)."""
    found = get_object_or_404(Violation.objects.affecting(store_account), pk=violation_id)
    marketplace = store_account.marketplace
    today = marketplace.local_date()
    row = violation_row(found, marketplace, today)
    state = _health_of(store_account)
    context = {
        "store_account": store_account,
        "store_accounts": store_accounts,
        "row": row,
        "violation": found,
        "zone": marketplace.time_zone,
        "stops_counting_on": expires_on(row.facts.detected_on),
        "repeat_of": _repeat_of(found, store_account),
        "case": _open_case(found, store_account),
        "enforcement": _enforcement(found, store_account),
        "window_days": WINDOW_DAYS,
        "aha_line": AHA_LINE,
        "engagement_hours": ENGAGEMENT_WINDOW // dt.timedelta(hours=1),
        **_what_resolving_changes(store_account, state, found, row, today),
    }
    return render(request, "health/violation.html", context)


def _what_resolving_changes(store_account, state, found, row, today) -> dict[str, object]:
    """The AHR now and with this violation resolved today, and the first day that could
    qualify for AHA either way (from the same rule functions the nightly job uses)."""
    if state.ahr is None:
        return {"ahr_now": None}
    others = Violation.objects.affecting(store_account).filter(
        detected_at__gte=found.detected_at - dt.timedelta(days=WINDOW_DAYS + 1)
    )
    facts = [
        row.facts if other.pk == found.pk else facts_of(other, store_account.marketplace)
        for other in others
    ]
    if found.pk not in {other.pk for other in others}:
        facts.append(row.facts)
    current = ahr_now(state.ahr, facts, today)
    resolved = ahr_if_resolved(
        row.facts,
        current=current,
        orders_in_window=state.orders_in_window,
        violations=facts,
        day=today,
    )
    card = aha_card(store_account, state)
    return {
        "ahr_now": current,
        "ahr_resolved": resolved,
        "standing_now": standing(current).value,
        "standing_resolved": standing(resolved).value,
        "enrolled": card.kind == "enrolled",
        "first_qualifying_day": card.eligibility.first_qualifying_day,
    }


def _repeat_of(found: Violation, store_account: StoreAccount) -> Violation | None:
    """The earlier violation of its category, still within its own 180 days, that makes this
    one a repeat (rating.is_repeat's reading of the rule)."""
    if not found.repeat:
        return None
    return (
        Violation.objects.affecting(store_account)
        .filter(
            category=found.category,
            detected_at__lt=found.detected_at,
            detected_at__gt=found.detected_at - dt.timedelta(days=WINDOW_DAYS),
        )
        .exclude(pk=found.pk)
        .order_by("-detected_at")
        .first()
    )


def _open_case(found: Violation, store_account: StoreAccount) -> AHACase | None:
    return AHACase.objects.filter(store_account=store_account, violation=found).first()


def _enforcement(found: Violation, store_account: StoreAccount) -> Enforcement | None:
    return Enforcement.objects.filter(store_account=store_account, violation=found).first()
