"""Reads: a store account's health and the feed of changes with its cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import StoreAccount
from health.models import DailyRating, EnrollmentEvent
from health.services.day_close import close_day_chunk
from tests.api.conftest import api_with, provision
from tests.health.test_admin import enroll

pytestmark = pytest.mark.django_db


def test_health_of_a_store_account(api):
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    day = account.marketplace.local_date() - dt.timedelta(days=1)
    close_day_chunk(marketplace_code="PL", day=day, first_id=account.pk, last_id=account.pk)
    response = api.get("store-accounts/sa-1/health")
    assert response.status_code == 200
    health = response.json()
    assert health["ahr"] == DailyRating.objects.get(store_account_id=account.pk, day=day).ahr
    assert health["band"] == "healthy" and health["last_closed_day"] == day.isoformat()
    assert health["aha"]["days_on_record"] == 1 and "E3" in health["aha"]["failing"]
    assert health["open_cases"] == []


def test_health_lists_open_cases_with_deadlines(api):
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    enroll(account)
    api.put(
        "violations/v-1",
        {
            "store_account": "sa-1",
            "category": "listing",
            "severity": "critical",
            "deactivation_level": True,
            "detected_at": timezone.now().isoformat(),
        },
    )
    cases = api.get("store-accounts/sa-1/health").json()["open_cases"]
    assert len(cases) == 1 and cases[0]["deadline_at"] and cases[0]["violation"] == "v-1"


def test_health_of_an_unknown_store_account_is_404(api):
    assert api.get("store-accounts/nope/health").status_code == 404


def test_reads_need_the_health_scope(db):
    api, _client = api_with("orders", ["orders:write"])
    assert api.get("events").status_code == 403


def test_events_come_in_order_with_a_cursor(api):
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    for n in range(5):
        EnrollmentEvent.objects.create(
            store_account=account,
            kind="enrolled",
            day=dt.date(2026, 1, 1 + n),
            at=timezone.now() + dt.timedelta(seconds=n),
        )
    page = api.get("events").json()
    assert [e["day"] for e in page["events"]] == [f"2026-01-0{n}" for n in range(1, 6)]
    assert api.get(f"events?after={page['next']}").json()["events"] == []
    EnrollmentEvent.objects.create(
        store_account=account,
        kind="removed",
        reason="R1",
        day=dt.date(2026, 2, 1),
        at=timezone.now() + dt.timedelta(seconds=10),
    )
    later = api.get(f"events?after={page['next']}").json()
    assert [(e["change"], e["reason"]) for e in later["events"]] == [("removed", "R1")]


def test_events_page_by_page_see_every_event_once(api, monkeypatch):
    import api.services.reads as reads

    monkeypatch.setattr(reads, "EVENTS_PAGE_SIZE", 2)
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    same_instant = timezone.now()
    for n in range(5):
        EnrollmentEvent.objects.create(
            store_account=account, kind="enrolled", day=dt.date(2026, 1, 1 + n), at=same_instant
        )
    seen, cursor = [], ""
    for _ in range(5):
        page = reads.events_after(cursor or None, limit=2)
        seen += [e["id"] for e in page[0]]
        cursor = page[1]
    assert sorted(seen) == sorted(EnrollmentEvent.objects.values_list("id", flat=True))
    assert len(seen) == 5


def test_a_bad_cursor_is_400(api):
    assert api.get("events?after=not-a-cursor").status_code == 400
