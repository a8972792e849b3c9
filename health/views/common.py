"""Shared lookups of the seller views: every object is fetched through the user's own scope."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse

from accounts.models import StoreAccount
from health.models import EnrollmentEvent, EnrollmentEventKind

StoreView = Callable[..., HttpResponse]


def seller_view(*methods: str) -> Callable[[StoreView], Callable[..., HttpResponse]]:
    """A signed-in seller's view of one of its store accounts.

    The store account is looked up before the method is checked, so another seller's id
    answers 404 whatever the method. The view gets `store_account` and `store_accounts`.
    """
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorator(view: StoreView) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, store_account_id: int, **kwargs) -> HttpResponse:
            store_accounts = seller_store_accounts(request)
            store_account = pick_store_account(store_accounts, store_account_id)
            if request.method not in allowed:
                return HttpResponseNotAllowed(sorted(allowed))
            return view(request, store_account, store_accounts=store_accounts, **kwargs)

        return wrapper

    return decorator


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


def back_to_dashboard(store_account: StoreAccount, anchor: str = ""):
    """Redirect to the store account's dashboard (POST -> redirect -> GET)."""
    url = reverse("health:dashboard", args=[store_account.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)
