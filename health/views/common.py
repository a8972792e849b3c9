"""Shared lookups of the seller views: every object is fetched through the user's own scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from accounts.models import StoreAccount
from health.models import EnrollmentEvent, EnrollmentEventKind

seller_login_required = login_required


def seller_store_accounts(request: HttpRequest) -> list[StoreAccount]:
    """All the seller's store accounts, with what the dashboard needs joined in one query."""
    if request.user.seller_id is None:
        # Staff work in the admin; the seller pages show only a seller's own data.
        raise Http404
    last_loss = EnrollmentEvent.objects.filter(
        store_account=OuterRef("pk"),
        kind__in=[EnrollmentEventKind.REMOVED, EnrollmentEventKind.BARRED],
    ).order_by("-at", "-id")
    return list(
        StoreAccount.objects.visible_to(request.user)
        .select_related("marketplace", "seller", "seller__emergency_contact", "health")
        .annotate(
            last_loss_reason=Subquery(last_loss.values("reason")[:1]),
            last_loss_day=Subquery(last_loss.values("day")[:1]),
        )
        .order_by("marketplace__name")
    )


def pick_store_account(store_accounts: list[StoreAccount], store_account_id: int) -> StoreAccount:
    """The one with this id among the seller's own, or 404 (never a hint it exists elsewhere)."""
    for store_account in store_accounts:
        if store_account.pk == store_account_id:
            return store_account
    raise Http404


def own_store_account(request: HttpRequest, store_account_id: int) -> StoreAccount:
    """One of the seller's store accounts (with its marketplace and seller), or 404."""
    if request.user.seller_id is None:
        raise Http404
    queryset = StoreAccount.objects.visible_to(request.user).select_related(
        "marketplace", "seller", "seller__emergency_contact"
    )
    try:
        return queryset.get(pk=store_account_id)
    except StoreAccount.DoesNotExist:
        raise Http404 from None


def back_to_dashboard(store_account: StoreAccount, anchor: str = ""):
    """Redirect to the store account's dashboard (POST -> redirect -> GET)."""
    url = reverse("health:dashboard", args=[store_account.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)
