"""The AHA case queue, ordered by deadline, and the standard enforcement and violation lists.
The protection services record their own audit entries, so these actions return None."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Seller, User
from health.admin.actions import SpecialistAction
from health.admin.base import SpecialistAdmin
from health.admin.display import local_time, time_left
from health.admin.forms import ContactAttemptForm, NoteForm, ReasonForm
from health.models import (
    AHACase,
    AuditEntry,
    CaseStatus,
    ContactAttempt,
    Enforcement,
    EnforcementStatus,
    EngagementKind,
    Violation,
)
from health.services import assignment, protection


def assign_to_me(case: AHACase, data: dict[str, Any], by: User) -> None:
    assignment.assign_case(case=case, to=by, by=by)


def record_contact(case: AHACase, data: dict[str, Any], by: User) -> None:
    protection.record_contact_attempt(case=case, by=by, **data)


def mark_engaged(case: AHACase, data: dict[str, Any], by: User) -> None:
    protection.mark_engaged(case=case, by=by, how=EngagementKind.SPECIALIST)


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
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AHACase)
class AHACaseAdmin(SpecialistAdmin):
    list_display = [
        "__str__",
        "status",
        "trigger",
        "deadline_local",
        "left",
        "assigned_to",
        "engagement",
        "opened_at",
    ]
    list_filter = ["status", "store_account__marketplace", OverdueFilter, MineFilter, "trigger"]
    search_fields = ["store_account__seller__name"]
    list_select_related = ["store_account__seller", "store_account__marketplace", "assigned_to"]
    readonly_fields = ["deadline_local", "left"]
    inlines = [ContactAttemptInline]
    specialist_actions = (
        SpecialistAction("assign_case", _("Assign to me"), assign_to_me, applies=is_open),
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

    @admin.display(description=_("Deadline (local time)"), ordering="deadline_at")
    def deadline_local(self, case: AHACase) -> str:
        return local_time(case.deadline_at, case.store_account.marketplace)

    @admin.display(description=_("Time left"))
    def left(self, case: AHACase) -> str:
        if not case.is_open:
            return "-"
        if case.status == CaseStatus.ENGAGED:
            return _("engaged")
        return time_left(case.deadline_at, timezone.now())


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
        "store_account__marketplace",
    ]
    list_select_related = ["store_account__seller"]
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


@admin.register(Enforcement)
class EnforcementAdmin(SpecialistAdmin):
    list_display = ["store_account", "kind", "status", "opened_at", "deadline_at", "decided_by"]
    list_filter = ["status", "kind", "store_account__marketplace"]
    list_select_related = ["store_account__seller", "decided_by"]
    search_fields = ["store_account__seller__name"]
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


@admin.register(AuditEntry)
class AuditEntryAdmin(SpecialistAdmin):
    list_display = ["at", "actor", "action", "store_account", "target", "reason"]
    list_filter = ["action", "store_account__marketplace"]
    list_select_related = ["actor", "store_account__seller"]
    search_fields = ["target", "reason", "actor__username"]
    date_hierarchy = "at"
