"""Every edit made through the admin's own forms (add, change, delete, by any staff member,
superusers included) is recorded in the audit trail beside the specialists' actions.

Django's admin already writes its LogEntry for these; the audit trail is where the product shows
who changed what on a store account, so each admin log call is mirrored there. The mixin is
applied by StaffAdminSite.register to every ModelAdmin, the project's and third-party ones.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION
from django.db import models
from django.http import HttpRequest

ACTIONS = {ADDITION: "admin_add", CHANGE: "admin_change", DELETION: "admin_delete"}
TARGET_MAX_LENGTH = 100
REASON_MAX_LENGTH = 4000


def _store_account_of(obj: models.Model) -> Any:
    from accounts.models import StoreAccount

    if isinstance(obj, StoreAccount):
        return obj
    related = getattr(obj, "store_account", None)
    return related if isinstance(related, StoreAccount) else None


def record_admin_edit(request: HttpRequest, obj: models.Model, flag: int, entry: Any) -> None:
    """Mirror one admin log entry into the audit trail."""
    from health.services.audit import record_action

    meta = obj._meta
    store_account = _store_account_of(obj)
    if flag == DELETION and store_account is obj:
        # A deleted store account takes its audit entries with it (CASCADE): its own deletion
        # is kept without the link.
        store_account = None
    record_action(
        actor=request.user,
        action=ACTIONS[flag],
        store_account=store_account,
        target=f"{meta.app_label}.{meta.model_name}:{obj.pk}"[:TARGET_MAX_LENGTH],
        reason=(entry.get_change_message() if entry is not None else "")[:REASON_MAX_LENGTH],
        details={"object": str(obj)[:200]},
    )


class AuditedAdminMixin:
    """Records the admin's additions, changes and deletions in the audit trail."""

    def log_addition(self, request: HttpRequest, obj: models.Model, message: object) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        record_admin_edit(request, obj, ADDITION, entry)
        return entry

    def log_change(self, request: HttpRequest, obj: models.Model, message: object) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        record_admin_edit(request, obj, CHANGE, entry)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        entries = super().log_deletions(request, queryset)  # type: ignore[misc]
        for obj in queryset:
            record_admin_edit(request, obj, DELETION, None)
        return entries
