"""Call me now: ask for a callback, cancel it, and the live status panel htmx polls."""

from __future__ import annotations

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
from health.views.dashboard import callback_panel, latest_callback

FRAGMENT = "health/dashboard.html#callback-status"


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


@seller_view("POST")
def request_callback(
    request: HttpRequest, store_account: StoreAccount, *, store_accounts: list[StoreAccount]
) -> HttpResponse:
    """Press "Call me now": queue a request, or show the one already open."""
    open_cases = list(AHACase.objects.open().filter(store_account=store_account))
    form = CallbackForm(request.POST, cases=open_cases)
    notice, level = _submit(request, form, store_account)
    if request.htmx:
        return _panel(
            request, store_accounts, store_account, panel_notice=notice, panel_level=level
        )
    messages.add_message(request, level, notice)
    return back_to_dashboard(store_account, "callback-status")


def _submit(request: HttpRequest, form: CallbackForm, store_account: StoreAccount):
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        return " ".join(errors), messages.ERROR
    seller = store_account.seller
    try:
        callback, created = callback_services.press_callback(
            seller=seller,
            phone=form.cleaned_data["phone"] or None,
            topic=form.cleaned_data["topic"],
            case=form.cleaned_data["case"],
            by=request.user,
        )
    except ValidationError as error:
        return " ".join(error.messages), messages.ERROR
    if not created:
        return _("You already have a callback request open; here is its status."), messages.INFO
    return _("We have your request. A specialist will call %(phone)s.") % {
        "phone": callback.phone
    }, messages.SUCCESS


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
