"""What needs doing on a store account, most urgent first: the dashboard's action banner and each
store's line on the home page come from here, from rows the pages read anyway.

The order (a decision): an AHA case waiting for the seller (the 72-hour clock decides the store's
protection), a specialist calling right now, a deactivation with an appeal to make, a low-AHR
warning running, an emergency contact missing for enrollment, then what only needs watching (a
request waiting in the callback queue, an engaged case, an appeal under review).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from health.models import (
    AHACase,
    CallbackRequest,
    CallbackStatus,
    Enforcement,
    EnforcementStatus,
)


class Urgency(IntEnum):
    """What needs doing, in the order it is shown (lower first)."""

    CASE = 1
    CALL_UNDER_WAY = 2
    APPEAL_TO_MAKE = 3
    WARNING = 4
    CONTACT_MISSING = 5
    CALLBACK_QUEUED = 6
    CASE_ENGAGED = 7
    APPEAL_UNDER_REVIEW = 8

    @property
    def needs_action(self) -> bool:
        """Whether the seller must do something (the rest is shown to be watched)."""
        return self <= Urgency.CONTACT_MISSING


@dataclass(frozen=True, slots=True)
class Urgent:
    """The most urgent item of a store account: what it is and the row it is about."""

    urgency: Urgency
    case: AHACase | None = None
    enforcement: Enforcement | None = None
    callback: CallbackRequest | None = None

    @property
    def kind(self) -> str:
        return self.urgency.name.lower()

    @property
    def needs_action(self) -> bool:
        return self.urgency.needs_action


def most_urgent(
    *,
    cases: list[AHACase],
    enforcements: list[Enforcement],
    aha_kind: str,
    callback: CallbackRequest | None,
) -> Urgent | None:
    """The one item the banner shows, or None when nothing needs doing or watching."""
    items = [
        *_case_items(cases),
        *_enforcement_items(enforcements),
        *_callback_items(callback),
    ]
    if aha_kind == "waiting":
        items.append(Urgent(Urgency.CONTACT_MISSING))
    return min(items, key=_order, default=None)


def _order(item: Urgent) -> tuple[int, float]:
    # Among items of one kind, the nearest deadline first.
    subject = item.case or item.enforcement
    deadline = subject.deadline_at if subject is not None else None
    return item.urgency, deadline.timestamp() if deadline else float("inf")


def _case_items(cases: list[AHACase]) -> list[Urgent]:
    return [
        Urgent(Urgency.CASE_ENGAGED if case.engaged_at else Urgency.CASE, case=case)
        for case in cases
        if case.is_open
    ]


def _enforcement_items(enforcements: list[Enforcement]) -> list[Urgent]:
    urgency_of = {
        EnforcementStatus.DEACTIVATED: Urgency.APPEAL_TO_MAKE,
        EnforcementStatus.REJECTED: Urgency.APPEAL_TO_MAKE,
        EnforcementStatus.WARNING: Urgency.WARNING,
        EnforcementStatus.APPEALED: Urgency.APPEAL_UNDER_REVIEW,
    }
    return [
        Urgent(urgency_of[enforcement.status], enforcement=enforcement)
        for enforcement in enforcements
        if enforcement.status in urgency_of
    ]


def _callback_items(callback: CallbackRequest | None) -> list[Urgent]:
    if callback is None:
        return []
    if callback.status == CallbackStatus.CLAIMED:
        return [Urgent(Urgency.CALL_UNDER_WAY, callback=callback)]
    if callback.status == CallbackStatus.QUEUED:
        return [Urgent(Urgency.CALLBACK_QUEUED, callback=callback)]
    return []
