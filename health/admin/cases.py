"""The AHA case queue, ordered by deadline, and the standard enforcement and violation lists.
The protection services record their own audit entries, so these actions return None."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Seller, User
from health.admin.actions import SpecialistAction
from health.admin.base import SpecialistAdmin
from health.admin.display import time_left
from health.admin.filters import MarketplaceFilter
from health.admin.forms import (
    ContactAttemptForm,
    InternalNoteForm,
    NoteForm,
    ReasonForm,
    note_with_snippet,
)
from health.admin.words import action_words, target_words
from health.models import (
    OPEN_CASE_STATUSES,
    AHACase,
    AuditEntry,
    CaseNote,
    CaseStatus,
    ContactAttempt,
    Enforcement,
    EnforcementStatus,
    EngagementKind,
    TextSnippet,
    Violation,
)
from health.services import assignment, case_notes, protection


def assign_to_me(case: AHACase, data: dict[str, Any], by: User) -> None:
    assignment.assign_case(case=case, to=by, by=by)


def record_contact(case: AHACase, data: dict[str, Any], by: User) -> None:
    protection.record_contact_attempt(case=case, by=by, **note_with_snippet(data))


def mark_engaged(case: AHACase, data: dict[str, Any], by: User) -> None:
    protection.mark_engaged(case=case, by=by, how=EngagementKind.SPECIALIST, note=data["note"])


def add_note(case: AHACase, data: dict[str, Any], by: User) -> None:
    case_notes.add_case_note(case=case, text=data["text"], by=by)


def close_resolved(case: AHACase, data: dict[str, Any], by: User) -> None:
    protection.close_case(case=case, resolved=True, by=by, note=data["note"])


def close_unresolved(case: AHACase, data: dict[str, Any], by: User) -> None:
    protection.close_case(case=case, resolved=False, by=by, note=data["reason"])


def is_open(case: AHACase) -> bool:
    return case.is_open


def is_engaged(case: AHACase) -> bool:
    return case.status == CaseStatus.ENGAGED


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        overdue = models.Q(status__in=[CaseStatus.OPEN], deadline_at__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


BREACHING_WITHIN = dt.timedelta(hours=4)
SOON = dt.timedelta(hours=24)


def breaching(now: dt.datetime) -> models.Q:
    """Cases still waiting for the seller whose 72-hour deadline passes within 4 hours."""
    return models.Q(status=CaseStatus.OPEN, deadline_at__lte=now + BREACHING_WITHIN)


def plan_to_review() -> models.Q:
    """Open cases with a plan of action the seller submitted, waiting for a specialist."""
    return models.Q(status__in=OPEN_CASE_STATUSES, plan_submitted_at__isnull=False)


class CaseStateFilter(admin.SimpleListFilter):
    """The queue opens on open cases (waiting or engaged); closed ones are one click away."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("open", _("Open")), ("closed", _("Closed")), ("all", _("All"))]

    def value(self) -> str:
        return super().value() or "open"

    def choices(self, changelist: Any):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_CASE_STATUSES)
        if self.value() == "closed":
            return queryset.exclude(status__in=OPEN_CASE_STATUSES)
        return queryset


class ViewFilter(admin.SimpleListFilter):
    """The views specialists work from."""

    title = _("view")
    parameter_name = "view"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("mine", _("Mine")),
            ("breaching", _("Breaching within 4 hours")),
            ("plan", _("Plan received, needs review")),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if self.value() == "mine":
            return queryset.filter(assigned_to=request.user, status__in=OPEN_CASE_STATUSES)
        if self.value() == "breaching":
            return queryset.filter(breaching(timezone.now()))
        if self.value() == "plan":
            return queryset.filter(plan_to_review())
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = _("assigned")
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("me", _("To me")), ("nobody", _("To nobody"))]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class ContactAttemptInline(admin.TabularInline):
    model = ContactAttempt
    extra = 0
    fields = ["at", "channel", "outcome", "by", "note"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return (
            super().get_queryset(request).select_related("by", "case__store_account__marketplace")
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AHACase)
class AHACaseAdmin(SpecialistAdmin):
    list_display = [
        "__str__",
        "status",
        "trigger",
        "deadline_at",
        "left",
        "assigned_to",
        "plan",
    ]
    list_filter = [
        ViewFilter,
        CaseStateFilter,
        "status",
        MarketplaceFilter,
        OverdueFilter,
        MineFilter,
        "trigger",
    ]
    search_fields = ["store_account__seller__name"]
    list_select_related = ["store_account__seller", "store_account__marketplace", "assigned_to"]
    readonly_fields = ["left"]
    inlines = [ContactAttemptInline]
    specialist_actions = (
        # Not offered on a case someone already works on (the service still allows a takeover).
        SpecialistAction(
            "assign_case",
            _("Assign to me"),
            assign_to_me,
            applies=lambda case: case.is_open and case.assigned_to_id is None,
        ),
        SpecialistAction(
            "record_contact_attempt",
            _("Record a contact attempt"),
            record_contact,
            ContactAttemptForm,
            applies=is_open,
        ),
        SpecialistAction(
            "mark_engaged",
            _("Mark engaged (talked to the seller)"),
            mark_engaged,
            NoteForm,
            applies=lambda case: case.status == CaseStatus.OPEN,
        ),
        SpecialistAction(
            "add_case_note",
            _("Add an internal note"),
            add_note,
            InternalNoteForm,
            object_only=True,
        ),
        SpecialistAction(
            "close_resolved",
            _("Close as resolved"),
            close_resolved,
            NoteForm,
            applies=is_engaged,
        ),
        SpecialistAction(
            "close_unresolved",
            _("Close as unresolved (R5: the store account loses AHA and is deactivated)"),
            close_unresolved,
            ReasonForm,
            applies=is_engaged,
        ),
    )

    def seller_of(self, case: AHACase) -> Seller:
        return case.store_account.seller

    def get_ordering(self, request: HttpRequest) -> list:
        # Cases without a deadline yet have had no outreach at all: they come first.
        return [F("deadline_at").asc(nulls_first=True), "opened_at", "id"]

    def activity(self, obj: AHACase) -> models.QuerySet[AuditEntry]:
        return AuditEntry.objects.filter(target=f"case:{obj.pk}")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ):
        notes = CaseNote.objects.filter(case_id=object_id if object_id.isdigit() else None)
        context = {"internal_notes": notes.select_related("by")[:50], **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description=_("Plan"), boolean=True)
    def plan(self, case: AHACase) -> bool:
        return case.plan_submitted_at is not None

    @admin.display(description=_("Time left"))
    def left(self, case: AHACase) -> str:
        if not case.is_open:
            return "-"
        if case.status == CaseStatus.ENGAGED:
            return _("engaged")
        now = timezone.now()
        text = time_left(case.deadline_at, now)
        if case.deadline_at is None:
            return text
        remaining = case.deadline_at - now
        # Colour is never the only signal: the mark also says it in words.
        if remaining < dt.timedelta(0):
            # "overdue by 2 h" says it already.
            return format_html('<span class="due due-overdue">{}</span>', text)
        if remaining < BREACHING_WITHIN:
            mark, label = "due-4h", _("under 4 h")
        elif remaining < SOON:
            mark, label = "due-24h", _("under 24 h")
        else:
            return text
        return format_html('<span class="due {}">{}: {}</span>', mark, label, text)


def resolve(violation: Violation, data: dict[str, Any], by: User) -> None:
    protection.resolve_violation(violation=violation, by=by, note=data["note"])


@admin.register(Violation)
class ViolationAdmin(SpecialistAdmin):
    list_display = [
        "store_account",
        "category",
        "severity",
        "scope",
        "deactivation_level",
        "detected_at",
        "resolved_at",
    ]
    list_filter = [
        "severity",
        "category",
        "scope",
        "deactivation_level",
        MarketplaceFilter,
    ]
    list_select_related = ["store_account__seller", "store_account__marketplace"]
    search_fields = ["store_account__seller__name"]
    specialist_actions = (
        SpecialistAction(
            "resolve_violation",
            _("Resolve"),
            resolve,
            NoteForm,
            applies=lambda violation: violation.is_open,
        ),
    )


def reinstate(enforcement: Enforcement, data: dict[str, Any], by: User) -> None:
    protection.reinstate(enforcement=enforcement, by=by, note=data["reason"])


def reject(enforcement: Enforcement, data: dict[str, Any], by: User) -> None:
    protection.reject_appeal(enforcement=enforcement, by=by, note=data["reason"])


def appeals_waiting() -> models.Q:
    """Deactivations the seller appealed with a plan of action, waiting for a specialist."""
    return models.Q(status=EnforcementStatus.APPEALED)


class EnforcementViewFilter(admin.SimpleListFilter):
    """The view specialists decide appeals from: oldest appeal first."""

    title = _("view")
    parameter_name = "view"
    APPEALS = "appeals"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(self.APPEALS, _("Appeals waiting"))]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        # The order is EnforcementAdmin.get_ordering's: the change list puts the admin's
        # ordering before any the filter's queryset would add.
        return queryset.filter(appeals_waiting()) if self.value() == self.APPEALS else queryset


@admin.register(Enforcement)
class EnforcementAdmin(SpecialistAdmin):
    list_display = [
        "store_account",
        "kind",
        "status",
        "opened_at",
        "plan_submitted_at",
        "deadline_at",
        "decided_by",
    ]
    list_filter = [EnforcementViewFilter, "status", "kind", MarketplaceFilter]
    list_select_related = ["store_account__seller", "store_account__marketplace", "decided_by"]
    search_fields = ["store_account__seller__name"]

    def get_ordering(self, request: HttpRequest) -> list:
        if request.GET.get(EnforcementViewFilter.parameter_name) == EnforcementViewFilter.APPEALS:
            return [F("plan_submitted_at").asc(nulls_last=True), "id"]
        return super().get_ordering(request)

    specialist_actions = (
        SpecialistAction(
            "reinstate",
            _("Reinstate (appeal accepted)"),
            reinstate,
            ReasonForm,
            applies=lambda e: (
                e.status in (EnforcementStatus.DEACTIVATED, EnforcementStatus.APPEALED)
            ),
        ),
        SpecialistAction(
            "reject_appeal",
            _("Reject the appeal"),
            reject,
            ReasonForm,
            applies=lambda e: e.status == EnforcementStatus.APPEALED,
        ),
    )


class ActionFilter(admin.SimpleListFilter):
    """The actions recorded in the user's stores, in words."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        codes = (
            model_admin.get_queryset(request).order_by().values_list("action", flat=True).distinct()
        )
        return sorted(((code, action_words(code)) for code in codes), key=lambda c: c[1])

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(SpecialistAdmin):
    list_display = ["at", "actor", "what", "store_account", "on", "reason"]
    list_filter = [ActionFilter, MarketplaceFilter]
    list_select_related = ["actor", "store_account__seller", "store_account__marketplace"]
    search_fields = ["target", "reason", "actor__username"]
    date_hierarchy = "at"
    fields = ["at", "actor", "api_client", "what", "store_account", "on", "reason", "details"]
    readonly_fields = fields

    @admin.display(description=_("What"), ordering="action")
    def what(self, entry: AuditEntry) -> str:
        return action_words(entry.action)

    @admin.display(description=_("On"), ordering="target")
    def on(self, entry: AuditEntry) -> str:
        return target_words(entry.target)


@admin.register(TextSnippet)
class TextSnippetAdmin(admin.ModelAdmin):
    """Reusable texts specialists write and pick in the contact-attempt form."""

    list_display = ["title", "kind", "language", "text"]
    list_filter = ["kind", "language"]
    search_fields = ["title", "text"]
