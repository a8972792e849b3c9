"""The base of every specialist admin page: scoped to the user's stores, read-only forms (all
writes are specialist actions through the services), action buttons and the activity panel."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import Seller
from health.admin import scope
from health.admin.actions import SpecialistActionsMixin
from health.admin.panels import seller_panel
from health.models import AuditEntry

ACTIVITY_ROWS = 50


# How the audit trail names the objects it is about ("case:12"), shared with the services.
TARGET_NAMES = {
    "ahacase": "case",
    "callbackrequest": "callback",
    "outboxemail": "email",
    "storeaccount": "store_account",
}


def target_of(obj: models.Model) -> str:
    """The audit trail's name of an object: "case:12", "violation:3"."""
    name = obj._meta.model_name or ""
    return f"{TARGET_NAMES.get(name, name)}:{obj.pk}"


class SpecialistAdmin(SpecialistActionsMixin, admin.ModelAdmin):
    """A health model in the back office. Subclasses say how a row reaches its store account."""

    store_account_path: str | None = "store_account"
    change_form_template = "admin/health/change_form.html"

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        return scope.by_store_account(queryset, request, self.store_account_path or "")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return self.scope(super().get_queryset(request), request)

    # Domain state changes only through the services: no add, edit or delete forms.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def seller_of(self, obj: Any) -> Seller | None:
        """The seller whose context panel the object's page shows (None: no panel)."""
        return None

    def activity(self, obj: Any) -> models.QuerySet[AuditEntry]:
        return AuditEntry.objects.filter(target=target_of(obj))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        # Out of scope answers 404, exactly like an id that does not exist.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        seller = self.seller_of(obj)
        panel = seller_panel(seller, scope.store_accounts(request)) if seller else None
        context = {
            "seller_panel": panel,
            "action_links": self.action_links(request, obj),
            "activity": self.activity(obj).select_related("actor", "store_account__marketplace")[
                :ACTIVITY_ROWS
            ],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # The queues refresh themselves (admin/health/queue_change_list.html); the interval is a
        # setting so a test need not wait 15 seconds.
        context = {
            "now_utc": timezone.now(),
            "refresh_seconds": settings.QUEUE_REFRESH_SECONDS,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().history_view(request, object_id, extra_context)
