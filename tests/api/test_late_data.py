"""Late and corrected data (rules §10): closed AHRs stay, the rolling window is corrected at once,
late violations and past resolutions count from the next close."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Marketplace, StoreAccount
from api.services.orders import apply_daily_orders
from health.models import DailyOrders, DailyRating, HealthState, Violation
from health.rating import WINDOW_DAYS
from health.services import day_close
from health.services.day_close import close_day_chunk
from tests.api.conftest import provision
from tests.builders import make_store_account
from tests.conftest import uses_postgres

pytestmark = pytest.mark.django_db


def close(account: StoreAccount, day: dt.date) -> None:
    close_day_chunk(
        marketplace_code=account.marketplace_id, day=day, first_id=account.pk, last_id=account.pk
    )


def window_sum(account: StoreAccount, last_day: dt.date) -> int:
    first = last_day - dt.timedelta(days=WINDOW_DAYS - 1)
    total = DailyOrders.objects.filter(
        store_account=account, day__range=(first, last_day)
    ).aggregate(n=Sum("orders"))["n"]
    return total or 0


# Each step: close the next day, or send a count for a day (as an offset from the opening day).
steps = st.lists(
    st.one_of(
        st.just(("close", 0, 0)),
        st.tuples(st.just("count"), st.integers(0, 215), st.integers(0, 3000)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.skipif(not uses_postgres(), reason="the property runs on PostgreSQL")
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=steps)
def test_late_and_corrected_counts_keep_the_window_equal_to_a_full_recomputation(steps):
    today = Marketplace.objects.get(code="PL").local_date()
    opened = today - dt.timedelta(days=220)
    account = make_store_account(opened_on=opened)
    # The first close sums the whole window (days opened..opened+189 are history already).
    last = opened + dt.timedelta(days=190)
    close(account, last)
    ratings = {last: DailyRating.objects.get(store_account_id=account.pk, day=last).ahr}
    for kind, offset, count in steps:
        if kind == "close" and last < today - dt.timedelta(days=1):
            last += dt.timedelta(days=1)
            close(account, last)
            ratings[last] = DailyRating.objects.get(store_account_id=account.pk, day=last).ahr
        elif kind == "count":
            day = min(opened + dt.timedelta(days=offset), today)
            apply_daily_orders({(account.pk, day): count})
        state = HealthState.objects.get(store_account=account)
        assert state.orders_in_window == window_sum(account, last)
    # The AHR of a closed day is never rewritten.
    stored = dict(DailyRating.objects.filter(store_account_id=account.pk).values_list("day", "ahr"))
    assert stored == ratings


def test_a_late_count_for_a_closed_day_counts_from_the_next_close_through_the_api(api):
    provision(api, opened_on="2026-01-01")
    account = StoreAccount.objects.get(external_id="sa-1")
    yesterday = account.marketplace.local_date() - dt.timedelta(days=1)
    close(account, yesterday - dt.timedelta(days=1))
    before = DailyRating.objects.get(store_account_id=account.pk).ahr
    late_day = (yesterday - dt.timedelta(days=5)).isoformat()
    response = api.post(
        "daily-orders", {"rows": [{"store_account": "sa-1", "day": late_day, "orders": 2600}]}
    )
    assert response.json()["corrected_closed_days"] == 1
    assert HealthState.objects.get(store_account=account).orders_in_window == 2600
    assert DailyRating.objects.get(store_account_id=account.pk).ahr == before
    close(account, yesterday)
    assert DailyRating.objects.get(store_account_id=account.pk, day=yesterday).ahr == 252


def test_a_late_violation_counts_from_the_next_close_with_its_real_repeat_status(api):
    provision(api, opened_on="2026-01-01")
    account = StoreAccount.objects.get(external_id="sa-1")
    yesterday = account.marketplace.local_date() - dt.timedelta(days=1)
    close(account, yesterday - dt.timedelta(days=1))
    closed_ahr = DailyRating.objects.get(store_account_id=account.pk).ahr
    ten_days_ago = timezone.now() - dt.timedelta(days=10)
    for n, at in enumerate([ten_days_ago - dt.timedelta(days=30), ten_days_ago]):
        api.put(
            f"violations/v-{n}",
            {
                "store_account": "sa-1",
                "category": "listing",
                "severity": "high",
                "detected_at": at.isoformat(),
            },
        )
    first, second = Violation.objects.order_by("detected_at")
    assert (first.repeat, second.repeat) == (False, True)
    assert DailyRating.objects.get(store_account_id=account.pk).ahr == closed_ahr
    close(account, yesterday)
    # 8 points for the first, 16 for the repeat, from the next close on.
    assert DailyRating.objects.get(store_account_id=account.pk, day=yesterday).ahr == (
        closed_ahr - 24
    )


def test_a_past_resolution_takes_effect_from_the_next_close(api):
    provision(api, opened_on="2026-01-01")
    account = StoreAccount.objects.get(external_id="sa-1")
    yesterday = account.marketplace.local_date() - dt.timedelta(days=1)
    detected = timezone.now() - dt.timedelta(days=20)
    api.put(
        "violations/v-1",
        {
            "store_account": "sa-1",
            "category": "listing",
            "severity": "high",
            "detected_at": detected.isoformat(),
        },
    )
    close(account, yesterday - dt.timedelta(days=1))
    with_violation = DailyRating.objects.get(store_account_id=account.pk).ahr
    resolved = (detected + dt.timedelta(days=2)).isoformat()
    api.post("violations/v-1/resolution", {"resolved_at": resolved})
    assert DailyRating.objects.get(store_account_id=account.pk).ahr == with_violation
    close(account, yesterday)
    assert DailyRating.objects.get(store_account_id=account.pk, day=yesterday).ahr == (
        with_violation + 8
    )


def waits_for_a_lock() -> bool:
    """Another backend of this database is waiting for a lock (the statistics are read afresh:
    inside a transaction PostgreSQL would keep showing its first look)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.skipif(not uses_postgres(), reason="two connections at once need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_late_count_sent_while_its_day_closes_is_counted_once(monkeypatch) -> None:
    today = Marketplace.objects.get(code="PL").local_date()
    account = make_store_account(opened_on=today - dt.timedelta(days=30))
    day = today - dt.timedelta(days=1)
    close(account, day - dt.timedelta(days=1))
    read = threading.Event()
    errors: list[BaseException] = []
    lock_open_states = day_close._lock_open_states

    def read_then_wait(*args: object) -> list[tuple]:
        rows = lock_open_states(*args)
        read.set()
        # The count is sent now, between the close's read and its write: the close goes on once
        # the count waits for it (or after a while, if nothing holds the count back).
        deadline = time.monotonic() + 5
        while not waits_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        return rows

    monkeypatch.setattr(day_close, "_lock_open_states", read_then_wait)

    def send() -> None:
        try:
            read.wait(timeout=5)
            with transaction.atomic():
                apply_daily_orders({(account.pk, day - dt.timedelta(days=5)): 2600})
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    close(account, day)
    sender.join(timeout=10)

    assert errors == []
    state = HealthState.objects.get(store_account=account)
    assert state.last_closed_day == day
    assert state.orders_in_window == window_sum(account, day) == 2600
