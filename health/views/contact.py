"""The emergency contact page: add or change the number specialists call."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import StoreAccount
from health.forms import EmergencyContactForm
from health.services.enrollment import save_emergency_contact
from health.views.common import back_to_dashboard, seller_view


@seller_view("GET", "POST")
def emergency_contact(
    request: HttpRequest, store_account: StoreAccount, *, store_accounts: list[StoreAccount]
) -> HttpResponse:
    """Show, add or change the seller's emergency contact; saving enrolls waiting accounts."""
    seller = store_account.seller
    marketplaces = list({account.marketplace for account in store_accounts})
    marketplaces.sort(key=lambda marketplace: marketplace.pk != store_account.marketplace_id)
    contact = getattr(seller, "emergency_contact", None)
    initial = {
        "region": store_account.marketplace.phone_region,
        "phone": contact.phone.as_international if contact else "",
    }
    form = EmergencyContactForm(request.POST or None, initial=initial, marketplaces=marketplaces)
    if request.method == "POST" and form.is_valid():
        try:
            _contact, enrolled = save_emergency_contact(
                seller=seller,
                phone=form.cleaned_data["phone"],
                by=request.user,
                region=form.cleaned_data["region"],
            )
        except ValidationError as error:
            form.add_error("phone", error)
        else:
            messages.success(request, _saved_message(enrolled))
            return back_to_dashboard(store_account)
    context = {
        "store_account": store_account,
        "store_accounts": store_accounts,
        "form": form,
        "contact": contact,
    }
    return render(request, "health/emergency_contact.html", context)


def _saved_message(enrolled: list[StoreAccount]) -> str:
    if not enrolled:
        return _("Your emergency contact phone number is saved.")
    stores = ", ".join(account.marketplace.display_name for account in enrolled)
    return ngettext(
        "Saved. Your store account in %(stores)s is now enrolled in AHA.",
        "Saved. Your store accounts in %(stores)s are now enrolled in AHA.",
        len(enrolled),
    ) % {"stores": stores}
