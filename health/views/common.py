"""Shared lookups of the seller views: every object is fetched through the user's own scope."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse

from accounts.models import StoreAccount
from health.models import EnrollmentEvent, EnrollmentEventKind

StoreView = Callable[..., HttpResponse]


def seller_view(
    *methods: str, with_last_loss: bool = False
) -> Callable[[StoreView], Callable[..., HttpResponse]]:
    """A signed-in seller's view of one of its store accounts.

    The store account is looked up before the method is checked, so another seller's id
    answers 404 whatever the method. The view gets `store_account` and `store_accounts`;
    `with_last_loss` adds each one's last removal or bar (see `seller_store_accounts`).
    """
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorator(view: StoreView) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, store_account_id: int, **kwargs) -> HttpResponse:
            store_accounts = seller_store_accounts(request, with_last_loss=with_last_loss)
            store_account = pick_store_account(store_accounts, store_account_id)
            if request.method not in allowed:
                return HttpResponseNotAllowed(sorted(allowed))
            return view(request, store_account, store_accounts=store_accounts, **kwargs)

        return wrapper

    return decorator


def seller_store_accounts(
    request: HttpRequest, *, with_last_loss: bool = False
) -> list[StoreAccount]:
    """All the seller's store accounts, with what the pages need joined in one query.

    `with_last_loss` annotates `last_loss` ({"reason", "day"} of the latest removal or bar, or
    None) for the AHA card. It rides on this query rather than a query of its own so that the
    dashboard's query count is the same for every store account; the other pages skip it.
    """
    if request.user.seller_id is None:
        # Staff work in the admin; the seller pages show only a seller's own data.
        raise Http404
    store_accounts = StoreAccount.objects.visible_to(request.user).select_related(
        "marketplace", "seller", "seller__emergency_contact", "health"
    )
    if with_last_loss:
        # One subquery for both values: building and compiling each one costs more
        # than the database takes to run it.
        last_loss = (
            EnrollmentEvent.objects.filter(
                store_account=OuterRef("pk"),
                kind__in=[EnrollmentEventKind.REMOVED, EnrollmentEventKind.BARRED],
            )
            .order_by("-at", "-id")
            .values(loss=JSONObject(reason="reason", day="day"))[:1]
        )
        store_accounts = store_accounts.annotate(last_loss=Subquery(last_loss))
    # By the name the seller reads, in the page's language ("Niemcy" after "Francja" in Polish).
    return sorted(store_accounts, key=lambda account: account.marketplace.display_name.casefold())


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
