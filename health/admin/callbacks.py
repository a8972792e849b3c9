"""The callback queue: sellers with an open AHA case first, then oldest first (rules §6)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Case, Exists, OuterRef, Value, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from health.admin import scope
from health.admin.actions import SpecialistAction
from health.admin.base import SpecialistAdmin
from health.admin.display import duration
from health.admin.forms import NoteForm
from health.models import OPEN_CALLBACK_STATUSES as OPEN
from health.models import AHACase, CallbackRequest, CallbackStatus
from health.services import callbacks


# The callbacks service records these actions in the audit trail itself: perform returns None.
def claim(callback: CallbackRequest, data: dict[str, Any], by: User) -> None:
    callbacks.claim_callback(callback=callback, by=by)


def complete(callback: CallbackRequest, data: dict[str, Any], by: User) -> None:
    callbacks.complete_callback(callback=callback, by=by, note=data["note"])


def no_answer(callback: CallbackRequest, data: dict[str, Any], by: User) -> None:
    callbacks.mark_no_answer(callback=callback, by=by, note=data["note"])


def is_open(callback: CallbackRequest) -> bool:
    return callback.status in (CallbackStatus.QUEUED, CallbackStatus.CLAIMED)


@admin.register(CallbackRequest)
class CallbackRequestAdmin(SpecialistAdmin):
    list_display = [
        "__str__",
        "urgent_case",
        "status",
        "phone",
        "topic",
        "created_at",
        "wait",
        "claimed_by",
        "links",
    ]
    list_filter = ["status"]
    search_fields = ["seller__name", "phone"]
    list_select_related = ["seller", "claimed_by", "case"]
    readonly_fields = ["links", "wait"]
    specialist_actions = (
        SpecialistAction(
            "claim_callback",
            _("Claim"),
            claim,
            applies=lambda cb: cb.status == CallbackStatus.QUEUED,
        ),
        SpecialistAction(
            "complete_callback",
            _("Completed (talked to the seller)"),
            complete,
            NoteForm,
            applies=is_open,
        ),
        SpecialistAction(
            "callback_no_answer", _("No answer"), no_answer, NoteForm, applies=is_open
        ),
    )

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        return scope.by_seller(queryset, request)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        return queryset.with_urgency().prefetch_related("seller__store_accounts")

    def get_ordering(self, request: HttpRequest) -> list:
        # Open requests first, then as specialists take them (rules §6), then oldest.
        return [
            Case(When(status__in=OPEN, then=Value(0)), default=Value(1)),
            Exists(
                AHACase.objects.open().filter(store_account__seller_id=OuterRef("seller_id"))
            ).desc(),
            "created_at",
            "id",
        ]

    @admin.display(description=_("Open AHA case"), boolean=True, ordering="-urgent")
    def urgent_case(self, callback: CallbackRequest) -> bool:
        return callback.urgent

    @admin.display(description=_("Wait"))
    def wait(self, callback: CallbackRequest) -> str:
        end = callback.claimed_at or callback.finished_at or timezone.now()
        return duration(end - callback.created_at)

    @admin.display(description=_("Store accounts and case"))
    def links(self, callback: CallbackRequest) -> str:
        stores = sorted(callback.seller.store_accounts.all(), key=lambda s: s.marketplace_id)
        store_links = format_html_join(
            " ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:accounts_storeaccount_change", args=[s.pk]), s.marketplace_id)
                for s in stores
            ),
        )
        case = callback.case or AHACase.objects.open().for_seller(callback.seller_id).first()
        if case is None:
            return store_links
        case_url = reverse("admin:health_ahacase_change", args=[case.pk])
        return format_html('{} <a href="{}">{}</a>', store_links, case_url, case)
