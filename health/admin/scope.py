"""Which stores a staff user works on: every store, or the ones a specialist is limited to."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest

from accounts.models import StoreAccount, User


def limited_to(request: HttpRequest) -> frozenset[str] | None:
    """The marketplace codes this user is limited to, or None for every marketplace."""
    cached = getattr(request, "_aha_limited_to", False)
    if cached is not False:
        return cached
    user: User = request.user  # type: ignore[assignment]
    codes: frozenset[str] | None = None
    if not user.is_superuser:
        codes = frozenset(user.marketplaces.values_list("code", flat=True)) or None
    request._aha_limited_to = codes  # type: ignore[attr-defined]
    return codes


def by_store_account(queryset: QuerySet, request: HttpRequest, path: str) -> QuerySet:
    """Rows whose store account (reached by `path`) is in the user's stores."""
    codes = limited_to(request)
    if codes is None:
        return queryset
    return queryset.filter(**{f"{path}__marketplace_id__in": codes})


def seller_in_scope(request: HttpRequest, seller_ref: str = "seller") -> Q | None:
    """A condition on sellers with at least one store account in the user's stores."""
    codes = limited_to(request)
    if codes is None:
        return None
    stores = StoreAccount.objects.filter(seller=OuterRef(seller_ref), marketplace_id__in=codes)
    return Q(Exists(stores))


def by_seller(queryset: QuerySet, request: HttpRequest, seller_ref: str = "seller") -> QuerySet:
    """Rows of sellers with a store account in the user's stores (a seller-wide row, such as a
    callback request, is visible to a specialist of any of the seller's stores: decision)."""
    condition = seller_in_scope(request, seller_ref)
    return queryset if condition is None else queryset.filter(condition)


def store_accounts(request: HttpRequest) -> QuerySet[StoreAccount]:
    """The store accounts in the user's stores."""
    codes = limited_to(request)
    stores = StoreAccount.objects.all()
    return stores if codes is None else stores.filter(marketplace_id__in=codes)
