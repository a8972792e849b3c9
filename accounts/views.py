from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import StoreAccount


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The seller's stores with their status; staff go to the back office."""
    if request.user.seller_id is None:
        return (
            redirect("admin:index")
            if request.user.is_staff
            else render(request, "accounts/no_seller.html", status=403)
        )
    store_accounts = (
        StoreAccount.objects.visible_to(request.user)
        .select_related("marketplace")
        .order_by("marketplace__name")
    )
    return render(request, "accounts/home.html", {"store_accounts": store_accounts})
