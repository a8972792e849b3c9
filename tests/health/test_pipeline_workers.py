"""The nightly pipeline with a real Redis broker and real Celery worker processes: closing a day
twice or from two dispatchers at once, a worker killed mid-close, and a missed night."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections.abc import Callable
from itertools import pairwise

import pytest
import redis
from django.test import override_settings

from accounts.models import Marketplace, StoreAccount
from health.eligibility import REQUIRED_DAYS_ON_RECORD
from health.models import (
    DailyRating,
    DayCloseChunk,
    DayCloseRun,
    EnrollmentEvent,
    HealthState,
    OutboxEmail,
    RunStatus,
)
from health.rating import AHA_LINE, BONUS_POINTS_PER_STEP, ORDERS_PER_BONUS_STEP, STARTING_AHR
from health.services.pipeline import CHUNK_REDISPATCH_AFTER
from health.state import mask_to_bytes
from health.tasks.day_close import close_day_chunk_task, dispatch_day_closes
from tests.builders import make_seller, make_store_account

# Serialized rollback: the marketplaces come from a data migration and must survive each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WORKER_ENV = {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
# Enough orders in the window for an AHR at or above the AHA line with no violations.
ORDERS_FOR_AHA = (AHA_LINE - STARTING_AHR) // BONUS_POINTS_PER_STEP * ORDERS_PER_BONUS_STEP + (
    ORDERS_PER_BONUS_STEP
)


def yesterday_in_poland() -> dt.date:
    return Marketplace.objects.get(code="PL").local_date() - dt.timedelta(days=1)


def make_accounts(count: int, *, last_closed: dt.date) -> list[StoreAccount]:
    """Polish store accounts: a third about to qualify, a third that would but has no emergency
    contact, a third with no history. All closed up to `last_closed`."""
    accounts = []
    for n in range(count):
        kind = n % 3
        seller = make_seller(phone="+48 512 345 678" if kind != 1 else None)
        account = make_store_account(seller=seller, marketplace="PL")
        history = kind != 2
        HealthState.objects.create(
            store_account=account,
            last_closed_day=last_closed,
            ahr=AHA_LINE if history else STARTING_AHR,
            orders_in_window=ORDERS_FOR_AHA if history else 0,
            days_on_record=REQUIRED_DAYS_ON_RECORD - 1 if history else 1,
            below_mask=mask_to_bytes(0 if history else 1),
        )
        accounts.append(account)
    DayCloseRun.objects.create(
        marketplace_id="PL", day=last_closed, status=RunStatus.DONE, finished_at=_now()
    )
    return accounts


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def wait_for(condition: Callable[[], bool], *, seconds: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition.__name__}")
        time.sleep(0.05)


def queue_is_drained(broker_url: str) -> Callable[[], bool]:
    broker = redis.Redis.from_url(broker_url)

    def drained() -> bool:
        return broker.llen("celery") == 0 and broker.hlen("unacked") == 0

    return drained


def day_is_closed(day: dt.date) -> Callable[[], bool]:
    def closed() -> bool:
        return DayCloseRun.objects.filter(marketplace_id="PL", day=day, status="done").exists()

    return closed


def outcome(day: dt.date) -> dict[str, object]:
    """Everything a day close decides, in comparable form."""
    return {
        "ratings": sorted(DailyRating.objects.values_list("store_account_id", "day", "ahr")),
        "states": sorted(
            HealthState.objects.values_list(
                "store_account_id", "last_closed_day", "ahr", "enrolled", "status"
            )
        ),
        "events": sorted(EnrollmentEvent.objects.values_list("store_account_id", "kind", "day")),
        "emails": sorted(OutboxEmail.objects.values_list("key", flat=True)),
    }


def assert_closed_exactly_once(accounts: list[StoreAccount], day: dt.date) -> None:
    ids = {account.id for account in accounts}
    ratings = list(DailyRating.objects.filter(day=day).values_list("store_account_id", flat=True))
    assert sorted(ratings) == sorted(ids)
    assert set(HealthState.objects.values_list("last_closed_day", flat=True)) == {day}
    enrolled = set(HealthState.objects.filter(enrolled=True).values_list("pk", flat=True))
    assert enrolled == {a.id for n, a in enumerate(accounts) if n % 3 == 0}
    events = list(EnrollmentEvent.objects.values_list("store_account_id", flat=True))
    assert sorted(events) == sorted(enrolled)
    per_account = list(OutboxEmail.objects.values_list("store_account_id", "kind"))
    assert len(per_account) == len(set(per_account))
    assert len(per_account) == len(enrolled) + sum(1 for n in range(len(accounts)) if n % 3 == 1)
    run = DayCloseRun.objects.get(marketplace_id="PL", day=day)
    assert run.counts["closed"] == len(accounts)


@override_settings(DAY_CLOSE_CHUNK_SIZE=2)
def test_closing_a_day_twice_and_from_two_dispatchers_at_once_changes_nothing(
    start_worker, flush_redis: str
) -> None:
    day = yesterday_in_poland()
    accounts = make_accounts(9, last_closed=day - dt.timedelta(days=1))
    start_worker(concurrency=2, extra_env={**WORKER_ENV, "DAY_CLOSE_CHUNK_SIZE": "2"})

    # A duplicated beat: two dispatches at once, each in its own worker process.
    dispatch_day_closes.delay()
    dispatch_day_closes.delay()
    wait_for(day_is_closed(day), what="the day close")
    wait_for(queue_is_drained(flush_redis), what="the queue to drain")
    first = outcome(day)
    assert_closed_exactly_once(accounts, day)

    # The same day again: every chunk task delivered a second time, and the dispatcher again.
    for chunk in DayCloseChunk.objects.filter(run__day=day, run__marketplace_id="PL"):
        close_day_chunk_task.delay("PL", day.isoformat(), chunk.first_id, chunk.last_id)
    dispatch_day_closes.delay()
    wait_for(queue_is_drained(flush_redis), what="the queue to drain")

    assert outcome(day) == first
    assert DayCloseRun.objects.filter(marketplace_id="PL", day=day).count() == 1


@override_settings(DAY_CLOSE_CHUNK_SIZE=1)
def test_a_worker_killed_mid_close_leaves_a_state_the_rerun_completes_exactly(
    start_worker, flush_redis: str
) -> None:
    day = yesterday_in_poland()
    accounts = make_accounts(36, last_closed=day - dt.timedelta(days=1))
    worker = start_worker(concurrency=1, extra_env={**WORKER_ENV, "DAY_CLOSE_CHUNK_SIZE": "1"})

    dispatch_day_closes.delay()
    run_done = DayCloseChunk.objects.exclude(done_at=None).filter(run__day=day)
    wait_for(lambda: run_done.count() >= 5, what="some chunks to be done")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    done_when_killed = run_done.count()
    assert 0 < done_when_killed < len(accounts), "the kill must land in the middle of the close"
    assert DayCloseRun.objects.get(marketplace_id="PL", day=day).status == RunStatus.RUNNING

    # Later the dispatcher hands the chunks that were in flight out again to a new worker.
    stuck_since = _now() - CHUNK_REDISPATCH_AFTER - dt.timedelta(seconds=1)
    DayCloseChunk.objects.filter(run__day=day).update(dispatched_at=stuck_since)
    start_worker(concurrency=2, extra_env={**WORKER_ENV, "DAY_CLOSE_CHUNK_SIZE": "1"})
    dispatch_day_closes.delay()
    wait_for(day_is_closed(day), seconds=30, what="the rerun")

    assert_closed_exactly_once(accounts, day)


@override_settings(DAY_CLOSE_CHUNK_SIZE=4)
def test_workers_catch_up_a_missed_night_oldest_day_first(start_worker) -> None:
    day = yesterday_in_poland()
    accounts = make_accounts(6, last_closed=day - dt.timedelta(days=3))
    start_worker(concurrency=2, extra_env={**WORKER_ENV, "DAY_CLOSE_CHUNK_SIZE": "4"})

    dispatch_day_closes.delay()
    wait_for(day_is_closed(day), what="the catch-up")

    runs = list(DayCloseRun.objects.filter(marketplace_id="PL").order_by("day"))
    assert [run.day for run in runs] == [day - dt.timedelta(days=n) for n in (3, 2, 1, 0)]
    assert all(run.status == RunStatus.DONE for run in runs)
    assert [run.finished_at for run in runs[1:]] == sorted(run.finished_at for run in runs[1:])
    assert all(earlier.finished_at <= later.started_at for earlier, later in pairwise(runs[1:]))
    assert DailyRating.objects.count() == 3 * len(accounts)
    assert set(HealthState.objects.values_list("last_closed_day", flat=True)) == {day}
