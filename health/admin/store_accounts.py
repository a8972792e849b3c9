"""The store account page: AHR chart, eligibility explained by the rule functions, history, and
the specialist actions on a store account (violations, R6/R7 removal, bars, reinstatement)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_times import zoned_time
from accounts.models import Seller, StoreAccount, StoreStatus, User
from health.admin.actions import ActionRefused, Done, Outcome, Preview, SpecialistAction
from health.admin.base import SpecialistAdmin
from health.admin.filters import MarketplaceFilter, StoreMarketplaceFilter
from health.admin.forms import ReasonForm, ViolationForm
from health.admin.outlook import outlook_panel
from health.admin.panels import store_account_panels
from health.eligibility import ENGAGEMENT_WINDOW, RemovalReason
from health.models import (
    AuditEntry,
    EnforcementStatus,
    EnrollmentEvent,
    HealthState,
    Violation,
)
from health.services import enrollment, protection

ENGAGEMENT_HOURS = ENGAGEMENT_WINDOW // dt.timedelta(hours=1)
REINSTATABLE = (EnforcementStatus.DEACTIVATED, EnforcementStatus.APPEALED)


def health_of(store_account: StoreAccount) -> HealthState | None:
    try:
        return store_account.health
    except HealthState.DoesNotExist:
        return None


def is_barred(store_account: StoreAccount) -> bool:
    state = health_of(store_account)
    return state is not None and state.barred


# The protection service records violations and reinstatements in the audit trail itself;
# the enrollment service does not, so removals and lifted bars are recorded here.
def record_violation(store_account: StoreAccount, data: dict[str, Any], by: User) -> Done:
    violation = protection.record_violation(store_account=store_account, by=by, **data)
    return Done(violation_consequences(violation))


def violation_consequences(violation: Violation) -> str:
    """What recording the violation did, in words, for the specialist."""
    said = []
    for case in violation.cases.select_related("store_account__marketplace"):
        said.append(
            gettext("%(case)s opened; the seller must engage by %(deadline)s.")
            % {
                "case": case,
                "deadline": zoned_time(case.deadline_at, case.store_account.marketplace),
            }
        )
    for enforcement in violation.enforcements.select_related("store_account"):
        said.append(
            gettext("%(store)s was deactivated now and the seller emailed.")
            % {"store": enforcement.store_account}
        )
    if not said:
        said.append(
            gettext("It counts against the AHR; it is not deactivation-level, so nothing else.")
        )
    return gettext("Violation recorded.") + " " + " ".join(said)


def protection_word(store_account: StoreAccount) -> str:
    state = health_of(store_account)
    return (
        gettext("protected") if state is not None and state.enrolled else gettext("not protected")
    )


def violation_preview(store_account: StoreAccount) -> Preview:
    """Before saving: whether a deactivation-level violation opens a case or deactivates."""
    state = health_of(store_account)
    others = [
        account
        for account in store_account.seller.store_accounts.select_related("health")
        if account.pk != store_account.pk
    ]
    if state is not None and state.enrolled:
        text = gettext(
            "%(store)s is protected (enrolled in AHA). A deactivation-level violation (every "
            "critical one is) opens an AHA case and emails the seller, who has %(hours)d hours "
            "to engage; the store stays active."
        ) % {"store": store_account, "hours": ENGAGEMENT_HOURS}
        css = "preview-protected"
    else:
        text = gettext(
            "%(store)s is not protected (not enrolled in AHA). A deactivation-level violation "
            "(every critical one is) deactivates it now and emails the seller, who may appeal."
        ) % {"store": store_account}
        css = "preview-unprotected"
    if others:
        text += " " + gettext(
            "Account-wide, it also applies to: %(stores)s (each as protected or not)."
        ) % {
            "stores": ", ".join(
                f"{account.marketplace_id} ({protection_word(account)})" for account in others
            )
        }
    text += " " + gettext("Any other violation only counts against the AHR.")
    return Preview(text=text, css=css)


def remover(reason: RemovalReason):
    def remove(store_account: StoreAccount, data: dict[str, Any], by: User) -> Outcome:
        enrollment.remove_from_aha(
            store_account=store_account, reason=reason, by=by, note=data["reason"]
        )
        return Outcome(
            store_account=store_account,
            target=f"store_account:{store_account.pk}",
            reason=data["reason"],
            details={"removal_reason": reason.value},
        )

    return remove


def lift_bar(store_account: StoreAccount, data: dict[str, Any], by: User) -> Outcome:
    enrollment.lift_bar(store_account=store_account, by=by, reason=data["reason"])
    return Outcome(
        store_account=store_account,
        target=f"store_account:{store_account.pk}",
        reason=data["reason"],
    )


def reinstate(store_account: StoreAccount, data: dict[str, Any], by: User) -> None:
    enforcement = store_account.enforcements.filter(status__in=REINSTATABLE).first()
    if enforcement is None:
        raise ActionRefused(_("there is no deactivation by enforcement to reinstate."))
    protection.reinstate(enforcement=enforcement, by=by, note=data["reason"])


def is_deactivated(store_account: StoreAccount) -> bool:
    return store_account.status == StoreStatus.DEACTIVATED


@admin.register(StoreAccount)
class StoreAccountAdmin(SpecialistAdmin):
    list_display = ["__str__", "marketplace", "plan", "status", "ahr", "aha", "opened_on"]
    list_filter = [StoreMarketplaceFilter, "plan", "status", "health__status", "health__barred"]
    search_fields = ["seller__name", "seller__email"]
    list_select_related = ["seller", "marketplace", "health"]
    fields = ["seller", "marketplace", "plan", "status", "opened_on"]
    change_form_template = "admin/accounts/storeaccount/change_form.html"
    specialist_actions = (
        SpecialistAction(
            "record_violation",
            _("Record a violation"),
            record_violation,
            ViolationForm,
            object_only=True,
            preview=violation_preview,
        ),
        SpecialistAction(
            "remove_r6",
            _("Remove from AHA: R6, not compliant with local laws"),
            remover(RemovalReason.R6),
            ReasonForm,
            object_only=True,
            applies=lambda sa: not is_barred(sa),
        ),
        SpecialistAction(
            "remove_r7",
            _("Remove from AHA and deactivate: R7, suspected fraud or harm"),
            remover(RemovalReason.R7),
            ReasonForm,
            object_only=True,
            applies=lambda sa: not is_barred(sa),
        ),
        SpecialistAction(
            "lift_bar",
            _("Lift the AHA bar"),
            lift_bar,
            ReasonForm,
            object_only=True,
            applies=is_barred,
        ),
        SpecialistAction(
            "reinstate",
            _("Reinstate (appeal accepted)"),
            reinstate,
            ReasonForm,
            object_only=True,
            applies=is_deactivated,
        ),
    )

    def seller_of(self, store_account: StoreAccount) -> Seller:
        return store_account.seller

    def scope(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        return queryset.in_scope_of(request.user)

    @admin.display(description=_("AHR"), ordering="health__ahr")
    def ahr(self, store_account: StoreAccount) -> int | None:
        state = health_of(store_account)
        return state.ahr if state else None

    @admin.display(description=_("AHA"), ordering="health__status")
    def aha(self, store_account: StoreAccount) -> str:
        state = health_of(store_account)
        if state is None:
            return "-"
        barred = _(" (barred)") if state.barred else ""
        return f"{state.get_status_display()}{barred}"

    def activity(self, obj: StoreAccount) -> models.QuerySet[AuditEntry]:
        return AuditEntry.objects.filter(store_account=obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ):
        obj = self.get_object(request, object_id)
        panels = {**store_account_panels(obj), **outlook_panel(obj)} if obj is not None else {}
        return super().change_view(
            request, object_id, form_url, {**panels, **(extra_context or {})}
        )


@admin.register(EnrollmentEvent)
class EnrollmentEventAdmin(SpecialistAdmin):
    list_display = ["store_account", "kind", "reason", "day", "at", "by", "note"]
    list_filter = ["kind", "reason", MarketplaceFilter]
    list_select_related = ["store_account__seller", "store_account__marketplace", "by"]
    search_fields = ["store_account__seller__name"]
