"""A store account's history, newest first: enrollment, cases, callbacks and emails sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from heapq import merge
from itertools import islice

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import StoreAccount
from health.models import AHACase, CallbackRequest, EmailStatus, EnrollmentEvent, OutboxEmail
from health.views.common import seller_view

PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class Entry:
    at: dt.datetime
    kind: str
    item: object


@seller_view("GET")
def timeline(
    request: HttpRequest, store_account: StoreAccount, *, store_accounts: list[StoreAccount]
) -> HttpResponse:
    """The timeline of one store account, paginated."""
    sources = {
        "enrollment": EnrollmentEvent.objects.filter(store_account=store_account).order_by("-at"),
        "case": AHACase.objects.filter(store_account=store_account).order_by("-opened_at"),
        # Callbacks belong to the seller, so they appear on each of its stores' timelines.
        "callback": CallbackRequest.objects.for_seller(store_account.seller_id).order_by(
            "-created_at"
        ),
        "email": OutboxEmail.objects.filter(
            Q(store_account=store_account)
            | Q(store_account__isnull=True, seller_id=store_account.seller_id),
            status=EmailStatus.SENT,
        ).order_by("-sent_at"),
    }
    stamps = {"enrollment": "at", "case": "opened_at", "callback": "created_at", "email": "sent_at"}
    total = sum(queryset.count() for queryset in sources.values())
    paginator = Paginator(range(total), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    # Each source needs at most the rows up to the end of this page; merge them by time.
    needed = page.end_index()
    streams = [
        _entries(kind, queryset[:needed], stamps[kind]) for kind, queryset in sources.items()
    ]
    merged = merge(*streams, key=lambda entry: entry.at, reverse=True)
    entries = list(islice(merged, page.start_index() - 1 if total else 0, needed))
    context = {
        "store_account": store_account,
        "store_accounts": store_accounts,
        "entries": entries,
        "page": page,
    }
    return render(request, "health/timeline.html", context)


def _entries(kind: str, rows, stamp: str) -> list[Entry]:
    return [Entry(getattr(row, stamp), kind, row) for row in rows]
