"""The email outbox and the nightly runs: what went out, what failed, what is stuck."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from health.admin import scope
from health.admin.actions import SpecialistAction
from health.admin.base import SpecialistAdmin
from health.admin.display import duration
from health.admin.filters import StoreMarketplaceFilter
from health.models import DayCloseRun, EmailStatus, OutboxEmail
from health.services import outbox


def retry(email: OutboxEmail, data: dict[str, Any], by: User) -> None:
    # The outbox service records this in the audit trail itself.
    outbox.retry_failed_email(email_id=email.pk, by=by)


@admin.register(OutboxEmail)
class OutboxEmailAdmin(SpecialistAdmin):
    list_display = ["key", "kind", "to", "status", "attempts", "created_at", "sent_at", "failure"]
    list_filter = ["status", "kind"]
    search_fields = ["key", "to", "seller__name"]
    list_select_related = ["store_account"]
    date_hierarchy = "created_at"
    specialist_actions = (
        SpecialistAction(
            "retry_email",
            _("Retry sending (never a duplicate)"),
            retry,
            applies=lambda email: email.status == EmailStatus.FAILED,
        ),
    )

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        codes = scope.limited_to(request)
        if codes is None:
            return queryset
        # Emails about no store account (e.g. a callback) belong to the seller's stores;
        # operators' emails about no seller are for unlimited staff only.
        seller_condition = scope.seller_in_scope(request)
        return queryset.filter(
            models.Q(store_account__marketplace_id__in=codes)
            | (models.Q(store_account__isnull=True) & seller_condition)
        )

    @admin.display(description=_("Last failure"))
    def failure(self, email: OutboxEmail) -> str:
        return email.last_error[:120]


@admin.register(DayCloseRun)
class DayCloseRunAdmin(SpecialistAdmin):
    list_display = [
        "marketplace",
        "day",
        "status",
        "started_at",
        "took",
        "chunks",
        "counts",
        "error_summary",
    ]
    list_filter = ["status", StoreMarketplaceFilter]
    date_hierarchy = "day"

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        codes = scope.limited_to(request)
        return queryset if codes is None else queryset.filter(marketplace_id__in=codes)

    @admin.display(description=_("Took"))
    def took(self, run: DayCloseRun) -> str:
        return duration(run.finished_at - run.started_at) if run.finished_at else "-"

    @admin.display(description=_("Chunks done"))
    def chunks(self, run: DayCloseRun) -> str:
        return f"{run.chunks_done} / {run.chunks_total}"

    @admin.display(description=_("Error"))
    def error_summary(self, run: DayCloseRun) -> str:
        return run.error[:120]
