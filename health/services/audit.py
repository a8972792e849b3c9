"""The audit trail of specialist actions: who did what, when, why, on which store account."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import StoreAccount, User
from health.models import AuditEntry


@transaction.atomic
def record_action(
    *,
    actor: User | None,
    action: str,
    store_account: StoreAccount | None = None,
    target: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one specialist action; call it in the same transaction as the action itself."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        store_account=store_account,
        target=target,
        reason=reason,
        details=details or {},
    )
