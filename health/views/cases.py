"""AHA cases and appeals: acknowledge, submit a plan of action, appeal a deactivation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.models import StoreAccount
from health.forms import PLAN_MAX_LENGTH, PLAN_MIN_LENGTH, PlanOfActionForm
from health.models import AHACase, Enforcement
from health.rating import AT_RISK_FROM
from health.services import protection
from health.services.protection.enforcement import APPEALABLE
from health.views.common import back_to_dashboard, seller_view

# The length each part of a plan of action takes, as the page says it.
PLAN_LENGTHS = {"plan_min_length": PLAN_MIN_LENGTH, "plan_max_length": PLAN_MAX_LENGTH}


def _own_case(store_account: StoreAccount, case_id: int) -> AHACase:
    case = get_object_or_404(
        AHACase.objects.filter(store_account=store_account).select_related("violation"),
        pk=case_id,
    )
    case.store_account = store_account
    return case


@seller_view("POST")
def acknowledge_case(
    request: HttpRequest,
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    case_id: int,
) -> HttpResponse:
    """The seller says "I have seen this": that counts as engaging with the case."""
    case = _own_case(store_account, case_id)
    try:
        protection.acknowledge_case(case=case, by=request.user)
        messages.success(
            request, _("Thank you. The case is acknowledged; a specialist will follow up.")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return back_to_dashboard(store_account, f"case-{case.pk}")


@seller_view("GET", "POST")
def plan_of_action(
    request: HttpRequest,
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    case_id: int,
) -> HttpResponse:
    """Write or rewrite the plan of action of an open AHA case."""
    case = _own_case(store_account, case_id)
    form = PlanOfActionForm(request.POST or None, initial=_initial_plan(case))
    if request.method == "POST" and case.is_open and form.is_valid():
        try:
            protection.submit_plan_of_action(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your plan of action is sent to a specialist."))
            return back_to_dashboard(store_account, f"case-{case.pk}")
    context = {
        "store_account": store_account,
        "form": form,
        "subject": case,
        "is_appeal": False,
        "closed": not case.is_open,
        **PLAN_LENGTHS,
    }
    return render(request, "health/plan_of_action.html", context)


@seller_view("GET", "POST")
def appeal(
    request: HttpRequest,
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    enforcement_id: int,
) -> HttpResponse:
    """Appeal a deactivation with a plan of action; a specialist reinstates or rejects."""
    enforcement = get_object_or_404(
        Enforcement.objects.filter(store_account=store_account), pk=enforcement_id
    )
    enforcement.store_account = store_account
    can_appeal = enforcement.status in APPEALABLE
    # After a rejection the seller starts from its last plan, to answer the note.
    form = PlanOfActionForm(request.POST or None, initial=_initial_plan(enforcement))
    if request.method == "POST" and can_appeal and form.is_valid():
        try:
            protection.appeal_enforcement(
                enforcement=enforcement, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your appeal is sent. A specialist will review it."))
            return redirect("health:appeal", store_account.pk, enforcement.pk)
    context = {
        "store_account": store_account,
        "form": form,
        "subject": enforcement,
        "enforcement": enforcement,
        "appeals": list(enforcement.appeals.order_by("-plan_submitted_at", "-id")),
        "is_appeal": True,
        "closed": not can_appeal,
        "at_risk_from": AT_RISK_FROM,
        **PLAN_LENGTHS,
    }
    return render(request, "health/plan_of_action.html", context)


def _initial_plan(subject: AHACase | Enforcement) -> dict[str, str]:
    return {
        "root_cause": subject.root_cause,
        "actions_taken": subject.actions_taken,
        "prevention": subject.prevention,
    }
