"""Violations from upstream policy-enforcement systems, keyed by their external ids.

Recording goes through health.services.protection.record_violation, the service the admin uses,
so its consequences (rules §5: an AHA case or standard enforcement) apply at once. A violation
detected on a day already closed counts from the next close on; its repeat status is judged by
its real detection day (rules §10), as record_violation judges every violation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Seller, StoreAccount
from api.errors import BadRow, Conflict, InvalidInput, NotFound
from api.models import ApiClient
from api.services.audit import record_api_write
from health.models import Severity, Violation, ViolationCategory, ViolationScope
from health.services.protection import record_violation, resolve_violation


@dataclass(frozen=True, slots=True)
class ViolationInput:
    external_id: str
    store_account: str | None
    seller: str | None
    category: str
    severity: str
    deactivation_level: bool
    detected_at: dt.datetime
    description: str = ""
    reference: str = ""
    policy_link: str = ""


# The content compared when the same external id comes again.
_CONTENT = ("category", "severity", "description", "reference", "policy_link")


def _target(data: ViolationInput) -> tuple[StoreAccount, str]:
    """The store account a violation is recorded on, and its scope."""
    errors = []
    if bool(data.store_account) == bool(data.seller):
        errors.append(
            BadRow(
                None,
                "store_account",
                "Give either store_account (one store) or seller (account-wide).",
            )
        )
    if data.category not in ViolationCategory.values:
        errors.append(
            BadRow(
                None,
                "category",
                f"Unknown category {data.category!r}; use one of "
                f"{', '.join(ViolationCategory.values)}.",
            )
        )
    if data.severity not in Severity.values:
        errors.append(BadRow(None, "severity", f"Unknown severity {data.severity!r}."))
    if data.detected_at.tzinfo is None:
        errors.append(BadRow(None, "detected_at", "Give detected_at with a UTC offset."))
    elif data.detected_at > timezone.now():
        errors.append(BadRow(None, "detected_at", "A violation cannot be detected in the future."))
    if errors:
        raise InvalidInput("Invalid violation.", errors)
    if data.store_account:
        account = StoreAccount.objects.filter(external_id=data.store_account).first()
        if account is None:
            raise InvalidInput(
                "Invalid violation.",
                [
                    BadRow(
                        None,
                        "store_account",
                        f"No store account has external id {data.store_account!r}.",
                    )
                ],
            )
        return account, ViolationScope.STORE
    seller = Seller.objects.filter(external_id=data.seller).first()
    if seller is None:
        raise InvalidInput(
            "Invalid violation.",
            [BadRow(None, "seller", f"No seller has external id {data.seller!r}.")],
        )
    # An account-wide violation is kept on the seller's first store account.
    account = seller.store_accounts.order_by("opened_on", "id").first()
    if account is None:
        raise InvalidInput(
            "Invalid violation.", [BadRow(None, "seller", "The seller has no store account yet.")]
        )
    return account, ViolationScope.ACCOUNT_WIDE


def _same(existing: Violation, data: ViolationInput, account: StoreAccount, scope: str) -> bool:
    return (
        all(getattr(existing, name) == getattr(data, name) for name in _CONTENT)
        and existing.scope == scope
        and (scope == ViolationScope.ACCOUNT_WIDE or existing.store_account_id == account.pk)
        and existing.detected_at == data.detected_at
        and existing.deactivation_level
        == (data.deactivation_level or data.severity == Severity.CRITICAL)
    )


@transaction.atomic
def upsert_violation(*, client: ApiClient, data: ViolationInput) -> tuple[Violation, bool]:
    """Record a violation once; the same content again changes nothing, other content is a
    Conflict. Returns the violation and whether it was created."""
    account, scope = _target(data)
    existing = Violation.objects.filter(external_id=data.external_id).first()
    if existing is not None:
        if _same(existing, data, account, scope):
            return existing, False
        raise Conflict(f"Violation {data.external_id!r} exists with different content.")
    try:
        violation = record_violation(
            store_account=account,
            category=data.category,
            severity=data.severity,
            scope=scope,
            deactivation_level=data.deactivation_level,
            detected_at=data.detected_at,
            description=data.description,
            by=None,
        )
    except ValidationError as error:
        raise InvalidInput(
            "Invalid violation.", [BadRow(None, "violation", " ".join(error.messages))]
        ) from None
    violation.external_id = data.external_id
    violation.reference = data.reference
    violation.policy_link = data.policy_link
    violation.save(update_fields=["external_id", "reference", "policy_link"])
    record_api_write(
        client=client,
        action="record_violation",
        store_account=account,
        target=f"violation:{violation.pk}",
        details={"external_id": data.external_id},
    )
    return violation, True


@transaction.atomic
def resolve_by_external_id(
    *, client: ApiClient, external_id: str, resolved_at: dt.datetime
) -> tuple[Violation, bool]:
    """Resolve a violation at the time upstream resolved it; a past time counts from the next
    close (rules §10). The same time again changes nothing; another time is a Conflict."""
    violation = (
        Violation.objects.select_related("store_account").filter(external_id=external_id).first()
    )
    if violation is None:
        raise NotFound(f"No violation has external id {external_id!r}.")
    if resolved_at.tzinfo is None:
        raise InvalidInput(
            "Invalid resolution.",
            [BadRow(None, "resolved_at", "Give resolved_at with a UTC offset.")],
        )
    if resolved_at > timezone.now():
        raise InvalidInput(
            "Invalid resolution.",
            [BadRow(None, "resolved_at", "A violation cannot be resolved in the future.")],
        )
    if resolved_at < violation.detected_at:
        raise InvalidInput(
            "Invalid resolution.",
            [BadRow(None, "resolved_at", "A violation cannot be resolved before it was detected.")],
        )
    if violation.resolved_at is not None:
        if violation.resolved_at == resolved_at:
            return violation, False
        raise Conflict(f"Violation {external_id!r} was resolved at another time.")
    violation = resolve_violation(violation=violation, by=None, resolved_at=resolved_at)
    record_api_write(
        client=client,
        action="resolve_violation",
        store_account=violation.store_account,
        target=f"violation:{violation.pk}",
        details={"external_id": external_id, "resolved_at": resolved_at.isoformat()},
    )
    return violation, True
