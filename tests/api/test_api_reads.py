"""Reads: a store account's health and the feed of changes with its cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import api.services.reads as reads
from accounts.models import StoreAccount
from health.models import DailyRating, Enforcement, EnrollmentEvent, StatusChange, Violation
from health.services.day_close import close_day_chunk
from health.services.protection import reinstate
from health.services.protection.enforcement import deactivate_for_violation
from tests.api.conftest import api_with, provision
from tests.health.test_admin import enroll, make_specialist

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


def violation_on(account: StoreAccount, day: dt.date, *, lasting_days: int) -> Violation:
    """A medium violation (4 points: a new store account's 200 falls to 196, AT_RISK) detected
    at noon of `day` and resolved `lasting_days` later."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=account.marketplace.zone)
    return Violation.objects.create(
        store_account=account,
        category="listing",
        severity="medium",
        detected_at=noon,
        resolved_at=noon + dt.timedelta(days=lasting_days),
    )


def close(account: StoreAccount, day: dt.date) -> None:
    close_day_chunk(
        marketplace_code=account.marketplace_id, day=day, first_id=account.pk, last_id=account.pk
    )


def status_events(api) -> list[tuple[str, str, str, str]]:
    events = api.get("events").json()["events"]
    return [
        (e["previous_status"], e["change"], e["reason"], e["day"])
        for e in events
        if e["kind"] == "status"
    ]


def test_a_store_going_at_risk_at_a_close_and_back_to_normal_is_in_the_feed(api):
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    first = account.marketplace.local_date() - dt.timedelta(days=3)
    violation_on(account, first, lasting_days=1)
    for n in range(3):
        close(account, first + dt.timedelta(days=n))
    assert status_events(api) == [
        ("NORMAL", "AT_RISK", "ahr", first.isoformat()),
        ("AT_RISK", "NORMAL", "ahr", (first + dt.timedelta(days=1)).isoformat()),
    ]
    account.refresh_from_db()
    assert account.status == "NORMAL"


def test_a_deactivation_and_a_reinstatement_are_in_the_feed(api):
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    violation = violation_on(account, account.marketplace.local_date(), lasting_days=1)
    deactivate_for_violation(account, violation, now=timezone.now())
    enforcement = Enforcement.objects.get(store_account=account)
    reinstate(enforcement=enforcement, by=make_specialist(), note="Fixed.")
    today = account.marketplace.local_date().isoformat()
    assert status_events(api) == [
        ("NORMAL", "DEACTIVATED", "deactivation", today),
        ("DEACTIVATED", "NORMAL", "reinstatement", today),
    ]


def test_a_second_deactivation_of_a_deactivated_store_records_no_change(api):
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    today = account.marketplace.local_date()
    for n in range(2):
        violation = violation_on(account, today, lasting_days=n + 1)
        deactivate_for_violation(account, violation, now=timezone.now())
    assert [e[1] for e in status_events(api)] == ["DEACTIVATED"]


def test_the_close_records_every_status_change_of_a_chunk_in_one_statement(api):
    for n in range(4):
        provision(api, seller=f"s-{n}", account=f"sa-{n}", phone=None)
    accounts = list(StoreAccount.objects.order_by("id"))
    day = accounts[0].marketplace.local_date() - dt.timedelta(days=1)
    for account in accounts[:3]:
        violation_on(account, day, lasting_days=5)
    with CaptureQueriesContext(connection) as queries:
        close_day_chunk(
            marketplace_code="PL", day=day, first_id=accounts[0].pk, last_id=accounts[-1].pk
        )
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "health_statuschange" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")
    ]
    assert len(writes) == 1
    assert StatusChange.objects.filter(status="AT_RISK").count() == 3
    assert set(StoreAccount.objects.values_list("status", flat=True)) == {"AT_RISK", "NORMAL"}


def test_paging_by_cursor_returns_every_status_and_enrollment_event_once(api):
    provision(api)
    account = StoreAccount.objects.get(external_id="sa-1")
    same_instant = timezone.now()
    for n in range(3):
        EnrollmentEvent.objects.create(
            store_account=account, kind="enrolled", day=dt.date(2026, 1, 1 + n), at=same_instant
        )
        StatusChange.objects.create(
            store_account=account,
            previous="NORMAL",
            status="AT_RISK",
            cause="ahr",
            day=dt.date(2026, 1, 1 + n),
            at=same_instant,
        )
    seen, cursor = [], ""
    for _ in range(6):
        events, cursor = reads.events_after(cursor or None, limit=2)
        seen += [(e["kind"], e["id"]) for e in events]
    expected = [("enrollment", pk) for pk in EnrollmentEvent.objects.values_list("id", flat=True)]
    expected += [("status", pk) for pk in StatusChange.objects.values_list("id", flat=True)]
    assert sorted(seen) == sorted(expected) and len(seen) == 6
