"""The callback queue: sellers with an open AHA case first, then oldest first (rules §6)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Case, F, Prefetch, Value, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import Marketplace, Seller, User
from health.admin import scope
from health.admin.actions import Done, SpecialistAction
from health.admin.base import SpecialistAdmin
from health.admin.display import duration
from health.admin.forms import NoteForm
from health.models import OPEN_CALLBACK_STATUSES as OPEN
from health.models import AHACase, CallbackRequest, CallbackStatus, EngagementKind
from health.services import callbacks


# The callbacks service records these actions in the audit trail itself: perform returns None.
def claim(callback: CallbackRequest, data: dict[str, Any], by: User) -> None:
    callbacks.claim_callback(callback=callback, by=by)


def complete(callback: CallbackRequest, data: dict[str, Any], by: User) -> Done:
    callback = callbacks.complete_callback(callback=callback, by=by, note=data["note"])
    case = callback.case
    if case is None:
        return Done(_("%(callback)s completed.") % {"callback": callback})
    if not callbacks.case_in_scope(callback, by):
        return Done(
            _(
                "%(callback)s completed. Its AHA case is in a marketplace outside your stores, "
                "so it was not marked engaged: a specialist of that marketplace decides."
            )
            % {"callback": callback}
        )
    case.refresh_from_db()
    if case.engagement == EngagementKind.CALLBACK:
        return Done(
            _("%(callback)s completed; %(case)s is marked engaged.")
            % {"callback": callback, "case": case}
        )
    return Done(
        _("%(callback)s completed; %(case)s was already %(status)s.")
        % {"callback": callback, "case": case, "status": case.get_status_display().lower()}
    )


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
        "dial",
        "topic",
        "created_at",
        "wait",
        "claimed_by",
        "links",
    ]
    list_filter = ["status"]
    search_fields = ["seller__name", "phone"]
    list_select_related = ["seller", "claimed_by", "case"]
    # The linked case only through case_link, which hides a case outside the user's stores.
    fields = [
        "seller",
        "requested_by",
        "phone",
        "topic",
        "case_link",
        "status",
        "created_at",
        "wait",
        "claimed_by",
        "finished_at",
        "note",
        "links",
    ]
    readonly_fields = fields
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

    def seller_of(self, callback: CallbackRequest) -> Seller:
        return callback.seller

    def marketplace_of(self, callback: CallbackRequest) -> Marketplace | None:
        """A request is the seller's, not a store's: its times read in the store of its case, or
        of the seller's first store in the user's stores."""
        cases = self.cases_in_scope(callback)
        if cases:
            return cases[0].store_account.marketplace
        stores = sorted(callback.seller.stores_in_scope, key=lambda s: s.marketplace_id)
        return stores[0].marketplace if stores else None

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        return scope.by_seller(queryset, request)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        # Only the cases of the user's stores make a request urgent here, and only those are
        # linked: a case elsewhere is not this specialist's to see (decision).
        codes = scope.limited_to(request)
        cases = AHACase.objects.open().select_related(
            "store_account__seller", "store_account__marketplace"
        )
        if codes is not None:
            cases = cases.filter(store_account__marketplace_id__in=codes)
        stores = scope.store_accounts(request).select_related("health", "marketplace")
        visible = (
            Value(True)
            if codes is None
            else Case(
                When(case__store_account__marketplace_id__in=codes, then=Value(True)),
                default=Value(False),
            )
        )
        queryset = queryset.annotate(case_visible=visible)
        return queryset.with_urgency(codes).prefetch_related(
            Prefetch("seller__store_accounts", queryset=stores, to_attr="stores_in_scope"),
            Prefetch(
                "seller__stores_in_scope__cases", queryset=cases, to_attr="open_cases_in_scope"
            ),
        )

    def get_ordering(self, request: HttpRequest) -> list:
        # Open requests first, then as specialists take them (rules §6), then oldest.
        return [
            Case(When(status__in=OPEN, then=Value(0)), default=Value(1)),
            F("urgent").desc(),
            "created_at",
            "id",
        ]

    def cases_in_scope(self, callback: CallbackRequest) -> list[AHACase]:
        """The seller's open cases in the user's stores, the request's own case first."""
        cases = [
            case for store in callback.seller.stores_in_scope for case in store.open_cases_in_scope
        ]
        return sorted(cases, key=lambda case: case.pk != callback.case_id)

    @admin.display(description=_("AHA case"))
    def case_link(self, callback: CallbackRequest) -> str:
        if callback.case_id is None:
            return "-"
        if not callback.case_visible:
            return _("a case in a marketplace outside your stores")
        url = reverse("admin:health_ahacase_change", args=[callback.case_id])
        return format_html('<a href="{}">{}</a>', url, callback.case)

    @admin.display(description=_("Open AHA case"), boolean=True, ordering="-urgent")
    def urgent_case(self, callback: CallbackRequest) -> bool:
        return callback.urgent

    @admin.display(description=_("Phone"), ordering="phone")
    def dial(self, callback: CallbackRequest) -> str:
        return format_html(
            '<a class="tel-link" href="tel:{}">{}</a>', callback.phone, callback.phone
        )

    @admin.display(description=_("Wait"))
    def wait(self, callback: CallbackRequest) -> str:
        end = callback.claimed_at or callback.finished_at or timezone.now()
        return duration(end - callback.created_at)

    @admin.display(description=_("Store accounts and case"))
    def links(self, callback: CallbackRequest) -> str:
        stores = sorted(callback.seller.stores_in_scope, key=lambda s: s.marketplace_id)
        store_links = format_html_join(
            " ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:accounts_storeaccount_change", args=[s.pk]), s.marketplace_id)
                for s in stores
            ),
        )
        case = next(iter(self.cases_in_scope(callback)), None)
        if case is None:
            return store_links
        case_url = reverse("admin:health_ahacase_change", args=[case.pk])
        return format_html('{} <a href="{}">{}</a>', store_links, case_url, case)
