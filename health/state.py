"""Reads of a store account's eligibility state, shared by the day close, the dashboard and the
admin. They turn stored rows into the plain facts the pure rules in health/eligibility.py take."""

from __future__ import annotations

import datetime as dt
import functools

from accounts.models import EmergencyContact, StoreAccount, StoreStatus
from accounts.phones import is_dialable_text
from health.eligibility import AccountFacts, Eligibility, RatingWindow, evaluate_eligibility
from health.models import HealthState
from health.rating import WINDOW_DAYS

# One bit per day of the window, stored little-endian: bit i is the day `i` days before the last
# closed day.
MASK_BYTES = (WINDOW_DAYS + 7) // 8


def mask_to_bytes(mask: int) -> bytes:
    """The stored form of a RatingWindow below mask."""
    return mask.to_bytes(MASK_BYTES, "little")


def mask_from_bytes(stored: bytes | memoryview | None) -> int:
    """The below mask from its stored form (PostgreSQL hands back a memoryview)."""
    return int.from_bytes(stored or b"", "little")


def rating_window(state: HealthState) -> RatingWindow:
    """The rolling window of recorded AHRs kept in a store account's state."""
    return stored_window(state.last_closed_day, state.days_on_record, state.below_mask)


def stored_window(
    last_closed_day: dt.date | None, days_on_record: int, below_mask: bytes | memoryview | None
) -> RatingWindow:
    """The rolling window from its stored columns (rating_window, for a row read as values)."""
    return RatingWindow(
        last_day=last_closed_day,
        days_on_record=days_on_record,
        below_mask=mask_from_bytes(below_mask),
    )


def account_facts(
    store_account: StoreAccount, state: HealthState, *, has_valid_contact: bool
) -> AccountFacts:
    """The facts about a store account that eligibility depends on (E1, E2, E5, E6)."""
    return AccountFacts(
        professional=store_account.is_professional,
        has_valid_contact=has_valid_contact,
        deactivated=store_account.status == StoreStatus.DEACTIVATED,
        aha_available_from=store_account.marketplace.aha_available_from,
        barred=state.barred,
    )


@functools.lru_cache(maxsize=65536)
def phone_is_valid(stored: str) -> bool:
    """E2 for a stored E.164 number, as EmergencyContact.is_valid judges it; cached because a
    day close checks every seller's number and parsing one costs more than the rest of its work."""
    return is_dialable_text(stored)


def seller_has_valid_contact(seller_id: int) -> bool:
    """Whether the seller has a valid emergency contact (E2)."""
    contact = EmergencyContact.objects.filter(seller_id=seller_id).first()
    return contact is not None and contact.is_valid


def evaluation_day(store_account: StoreAccount, state: HealthState) -> dt.date:
    """The day eligibility is judged on: the last closed day, or for an account never closed,
    the day before its marketplace's today (the latest day that could have closed)."""
    if state.last_closed_day is not None:
        return state.last_closed_day
    yesterday = store_account.marketplace.local_date() - dt.timedelta(days=1)
    return max(yesterday, store_account.opened_on - dt.timedelta(days=1))


def explain_eligibility(store_account: StoreAccount) -> Eligibility:
    """Eligibility with its reasons and progress figures, as of the last closed day."""
    state = HealthState.objects.filter(store_account=store_account).first() or HealthState(
        store_account=store_account
    )
    facts = account_facts(
        store_account,
        state,
        has_valid_contact=seller_has_valid_contact(store_account.seller_id),
    )
    return evaluate_eligibility(rating_window(state), facts, evaluation_day(store_account, state))
