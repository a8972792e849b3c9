"""Every API write in the audit trail, with the client that made it."""

from __future__ import annotations

from typing import Any

from accounts.models import StoreAccount
from api.models import ApiClient
from health.models import AuditEntry


def record_api_write(
    *,
    client: ApiClient,
    action: str,
    store_account: StoreAccount | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one write of an upstream system; call it in the write's transaction."""
    return AuditEntry.objects.create(
        actor=None,
        api_client=client,
        action=f"api:{action}",
        store_account=store_account,
        target=target[:100],
        details=details or {},
    )
