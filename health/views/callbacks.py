"""Call me now: ask for a callback, cancel it, and the live status panel htmx polls."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from accounts.models import StoreAccount
from health.forms import CallbackForm
from health.models import AHACase, CallbackRequest
from health.services import callbacks as callback_services
from health.views.common import back_to_dashboard, seller_view
from health.views.dashboard import (
    DASHBOARD_TEMPLATE,
    DEFAULT_PERIOD,
    callback_panel,
    dashboard_context,
    latest_callback,
)

FRAGMENT = "health/dashboard.html#callback-status"
# The service's refusals that are about one field of the form, by their code.
FIELD_OF_REFUSAL = {
    "required": "phone",
    "too_long": "phone",
    "invalid": "phone",
    "non_geographic": "phone",
    "not_dialable": "phone",
    "no_phone": "phone",
    "topic_too_long": "topic",
    "bad_case": "case",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a press of Call me now gave: the notice, its level, and for a refusal what was
    typed (shown again in its fields) with each refused field's message."""

    notice: str
    level: int
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _panel_context(store_accounts: list[StoreAccount], store_account: StoreAccount) -> dict:
    cases = list(AHACase.objects.open().filter(store_account=store_account))
    return {
        "store_account": store_account,
        **callback_panel(
            store_accounts,
            store_account,
            cases=cases,
            latest=latest_callback(store_account.seller),
        ),
    }


def _panel(
    request: HttpRequest, store_accounts: list[StoreAccount], store_account: StoreAccount, **extra
) -> HttpResponse:
    context = {**_panel_context(store_accounts, store_account), **extra}
    return render(request, FRAGMENT, context)


@seller_view("GET")
def callback_status(
    request: HttpRequest, store_account: StoreAccount, *, store_accounts: list[StoreAccount]
) -> HttpResponse:
    """The status panel alone: htmx polls it while a request is open."""
    if not request.htmx:
        return back_to_dashboard(store_account, "callback-status")
    context = _panel_context(store_accounts, store_account)
    # Nothing changed since the last poll: 204 makes htmx keep the panel as it is, so screen
    # readers are not read the same status again every few seconds.
    if request.GET.get("seen") and request.GET["seen"] == context["callback_token"]:
        return HttpResponse(status=204)
    return render(request, FRAGMENT, context)


@seller_view("POST", with_last_loss=True)
def request_callback(
    request: HttpRequest, store_account: StoreAccount, *, store_accounts: list[StoreAccount]
) -> HttpResponse:
    """Press "Call me now": queue a request, or show the one already open."""
    open_cases = list(AHACase.objects.open().filter(store_account=store_account))
    form = CallbackForm(request.POST, cases=open_cases)
    outcome = _submit(request, form, store_account)
    refused = {"callback_typed": outcome.typed, "callback_errors": outcome.errors}
    if request.htmx:
        return _panel(
            request,
            store_accounts,
            store_account,
            panel_notice=outcome.notice,
            panel_level=outcome.level,
            **refused,
        )
    if outcome.typed:
        # Without JavaScript too, a refused number stays in its field: the page is shown again.
        return _dashboard_with(request, store_accounts, store_account, outcome, refused)
    messages.add_message(request, outcome.level, outcome.notice)
    return back_to_dashboard(store_account, "callback-status")


def _dashboard_with(
    request: HttpRequest,
    store_accounts: list[StoreAccount],
    store_account: StoreAccount,
    outcome: Outcome,
    refused: dict[str, dict[str, str]],
) -> HttpResponse:
    context = dashboard_context(
        store_account,
        store_accounts=store_accounts,
        period=DEFAULT_PERIOD,
        latest=latest_callback(store_account.seller),
    )
    extra = {"panel_notice": outcome.notice, "panel_level": outcome.level, **refused}
    return render(request, DASHBOARD_TEMPLATE, {**context, **extra})


def _submit(request: HttpRequest, form: CallbackForm, store_account: StoreAccount) -> Outcome:
    typed = {name: request.POST.get(name, "") for name in form.fields}
    if not form.is_valid():
        errors = {name: " ".join(messages_) for name, messages_ in form.errors.items()}
        return Outcome(_("Your request was not sent."), messages.ERROR, typed, errors)
    try:
        callback, created = callback_services.press_callback(
            seller=store_account.seller,
            phone=form.cleaned_data["phone"] or None,
            topic=form.cleaned_data["topic"],
            case=form.cleaned_data["case"],
            by=request.user,
            zone=store_account.marketplace.zone,
        )
    except ValidationError as error:
        return _refusal(error, typed)
    if not created:
        return Outcome(
            _("You already have a callback request open; here is its status."), messages.INFO
        )
    notice = _("We have your request. A specialist will call %(phone)s.") % {
        "phone": callback.phone
    }
    return Outcome(notice, messages.SUCCESS)


def _refusal(error: ValidationError, typed: dict[str, str]) -> Outcome:
    errors: dict[str, str] = {}
    general: list[str] = []
    for refusal in error.error_list:
        text = " ".join(refusal.messages)
        name = FIELD_OF_REFUSAL.get(refusal.code or "")
        if name is None:
            general.append(text)
        else:
            errors[name] = f"{errors[name]} {text}" if name in errors else text
    notice = " ".join(general) or _("Your request was not sent.")
    return Outcome(notice, messages.ERROR, typed, errors)


@seller_view("POST")
def cancel_callback(
    request: HttpRequest,
    store_account: StoreAccount,
    *,
    store_accounts: list[StoreAccount],
    callback_id: int,
) -> HttpResponse:
    """Withdraw the seller's open request."""
    callback = get_object_or_404(
        CallbackRequest.objects.for_seller(store_account.seller_id), pk=callback_id
    )
    try:
        callback_services.cancel_callback(callback=callback, by=request.user)
        notice, level = _("Your callback request is cancelled."), messages.SUCCESS
    except ValidationError as error:
        notice, level = " ".join(error.messages), messages.ERROR
    if request.htmx:
        return _panel(
            request, store_accounts, store_account, panel_notice=notice, panel_level=level
        )
    messages.add_message(request, level, notice)
    return back_to_dashboard(store_account, "callback-status")
