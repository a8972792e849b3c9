"""Reads for upstream systems: a store account's health, and the feed of changes."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q

from accounts.models import StoreAccount
from api.errors import BadRow, InvalidInput
from health.models import (
    AHACase,
    DailyRating,
    Enforcement,
    EnrollmentEvent,
    HealthState,
    StatusChange,
)
from health.rating import band
from health.state import explain_eligibility

EVENTS_PAGE_SIZE = 500


def store_account_health(account: StoreAccount) -> dict[str, Any]:
    """The AHR of the last closed day with its band, the status, the AHA state with reasons and
    progress figures, and the open AHA cases with their deadlines."""
    state = HealthState.objects.filter(store_account=account).first()
    rating = (
        DailyRating.objects.filter(store_account_id=account.pk, day=state.last_closed_day).first()
        if state and state.last_closed_day
        else None
    )
    eligibility = explain_eligibility(account)
    cases = AHACase.objects.open().filter(store_account=account).order_by("deadline_at", "id")
    return {
        "store_account": account.external_id,
        "marketplace": account.marketplace_id,
        "status": account.status,
        "last_closed_day": state.last_closed_day if state else None,
        "ahr": rating.ahr if rating else None,
        "band": band(rating.ahr).value if rating else None,
        "aha": {
            "enrolled": bool(state and state.enrolled),
            "enrolled_since": state.enrolled_since if state else None,
            "barred": bool(state and state.barred),
            "status": state.status if state else "new",
            "eligible": eligibility.eligible,
            "waiting_for_contact": eligibility.waiting_for_contact,
            "failing": [criterion.value for criterion in eligibility.failing],
            "days_on_record": eligibility.days_on_record,
            "days_required": eligibility.days_required,
            "days_below": eligibility.days_below,
            "days_below_allowed": eligibility.days_below_allowed,
            "first_qualifying_day": eligibility.first_qualifying_day,
        },
        "open_cases": [
            {
                "id": case.pk,
                "trigger": case.trigger,
                "status": case.status,
                "opened_at": case.opened_at,
                "deadline_at": case.deadline_at,
                "violation": case.violation.external_id if case.violation_id else None,
            }
            for case in cases.select_related("violation")
        ],
    }


@dataclass(frozen=True, slots=True)
class Cursor:
    at: dt.datetime
    kind: str
    id: int

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.kind}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at, kind, pk = raw.split("|")
            parsed = dt.datetime.fromisoformat(at)
            if parsed.tzinfo is None:
                raise ValueError("naive")
            return cls(parsed, kind, int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidInput(
                "Invalid cursor.",
                [BadRow(None, "after", "Pass back a cursor exactly as a previous page gave it.")],
            ) from None


# Each kind of change: its queryset, the instant it happened, and what an event tells.
def _sources() -> list[tuple[str, Any, str]]:
    return [
        ("enrollment", EnrollmentEvent.objects.all(), "at"),
        ("case_opened", AHACase.objects.all(), "opened_at"),
        ("case_closed", AHACase.objects.filter(closed_at__isnull=False), "closed_at"),
        ("enforcement_opened", Enforcement.objects.all(), "opened_at"),
        ("enforcement_decided", Enforcement.objects.filter(decided_at__isnull=False), "decided_at"),
        ("status", StatusChange.objects.all(), "at"),
    ]


def events_after(cursor: str | None, *, limit: int = EVENTS_PAGE_SIZE) -> tuple[list[dict], str]:
    """The next page of changes in order (instant, kind, id), and the cursor to ask from next.

    Decision: events are read from the rows the services already write (enrollment history,
    cases, enforcement) and from the status changes the day close and the enforcement services
    record beside the status itself."""
    after = Cursor.decode(cursor) if cursor else None
    rows = []
    for kind, queryset, column in _sources():
        q = queryset.annotate(event_at=F(column))
        if after is not None:
            q = q.filter(_after(kind, after))
        page = q.select_related("store_account").order_by("event_at", "id")[:limit]
        rows.extend(_row(kind, obj) for obj in page)
    rows.sort(key=lambda r: (r["at"], r["kind"], r["id"]))
    page = rows[:limit]
    if not page:
        return [], cursor or ""
    last = page[-1]
    return page, Cursor(last["at"], last["kind"], last["id"]).encode()


def _after(kind: str, after: Cursor) -> Q:
    """Rows of one kind that come after the cursor in (instant, kind, id) order."""
    later = Q(event_at__gt=after.at)
    if kind > after.kind:
        return later | Q(event_at=after.at)
    if kind == after.kind:
        return later | Q(event_at=after.at, id__gt=after.id)
    return later


def _row(kind: str, obj: Any) -> dict[str, Any]:
    account = obj.store_account
    base = {
        "kind": kind,
        "id": obj.pk,
        "at": obj.event_at,
        "store_account": account.external_id,
        "marketplace": account.marketplace_id,
    }
    if kind == "enrollment":
        base |= {"change": obj.kind, "reason": obj.reason, "day": obj.day}
    elif kind == "status":
        base |= {
            "change": obj.status,
            "reason": obj.cause,
            "day": obj.day,
            "previous_status": obj.previous,
        }
    elif kind.startswith("case"):
        base |= {"change": obj.status, "reason": obj.trigger, "day": obj.trigger_day}
    else:
        base |= {"change": obj.status, "reason": obj.kind, "day": obj.trigger_day}
    return base
