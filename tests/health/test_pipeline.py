"""The nightly pipeline around the day close: due days per marketplace, runs and chunks, finishing,
and the stale-run warning. Database only; the worker tests are in test_pipeline_workers.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Marketplace
from aha_site.celery import app
from health.eligibility import STALE_CLOSE_AFTER
from health.models import (
    DailyRating,
    DayCloseChunk,
    DayCloseRun,
    EmailKind,
    HealthState,
    OutboxEmail,
    RunStatus,
)
from health.services import pipeline
from health.tasks.day_close import dispatch_day_closes
from tests.builders import make_seller, make_store_account

pytestmark = pytest.mark.django_db

# 23:30 UTC on 10 June: already 11 June in Tokyo and Sydney, still 10 June in Los Angeles.
LATE_EVENING_UTC = dt.datetime(2025, 6, 10, 23, 30, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)


def june(day: int) -> dt.date:
    return JUNE.replace(day=day)


def closed_run(code: str, day: dt.date, *, finished_at: dt.datetime | None = None) -> DayCloseRun:
    finished_at = finished_at or dt.datetime.combine(day, dt.time(23), tzinfo=dt.UTC)
    return DayCloseRun.objects.create(
        marketplace_id=code, day=day, status=RunStatus.DONE, finished_at=finished_at
    )


def marketplace(code: str) -> Marketplace:
    return Marketplace.objects.get(code=code)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run enqueued tasks in this process even when a broker is configured."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def small_chunks(settings) -> int:
    settings.DAY_CLOSE_CHUNK_SIZE = 2
    return 2


def test_days_to_close_follow_each_marketplace_local_midnight() -> None:
    for code in ("JP", "AU", "US"):
        closed_run(code, june(9))

    assert pipeline.days_to_close(marketplace("JP"), LATE_EVENING_UTC) == [june(10)]
    assert pipeline.days_to_close(marketplace("AU"), LATE_EVENING_UTC) == [june(10)]
    assert pipeline.days_to_close(marketplace("US"), LATE_EVENING_UTC) == []


def test_first_day_ever_closed_is_yesterday_local_not_the_whole_past() -> None:
    assert pipeline.days_to_close(marketplace("JP"), LATE_EVENING_UTC) == [june(10)]
    assert pipeline.days_to_close(marketplace("US"), LATE_EVENING_UTC) == [june(9)]


def test_missed_nights_are_due_oldest_first() -> None:
    closed_run("PL", june(5))

    assert pipeline.days_to_close(marketplace("PL"), LATE_EVENING_UTC) == [
        june(6),
        june(7),
        june(8),
        june(9),
        june(10),
    ]


def test_a_day_does_not_start_before_the_previous_one_is_done() -> None:
    closed_run("PL", june(5))
    make_store_account(marketplace="PL")

    assert pipeline.start_day_close(marketplace_code="PL", day=june(7)) is None
    first = pipeline.start_day_close(marketplace_code="PL", day=june(6))
    assert first is not None and first.status == RunStatus.RUNNING
    assert pipeline.start_day_close(marketplace_code="PL", day=june(7)) is None
    assert DayCloseRun.objects.filter(marketplace_id="PL", day=june(7)).count() == 0


def test_starting_a_day_twice_creates_one_run_and_hands_each_chunk_out_once(
    small_chunks: int,
) -> None:
    accounts = [make_store_account(marketplace="PL") for _ in range(5)]
    make_store_account(marketplace="DE")
    ids = sorted(account.id for account in accounts)

    first = pipeline.start_day_close(marketplace_code="PL", day=june(9))
    second = pipeline.start_day_close(marketplace_code="PL", day=june(9))

    assert first is not None and second is not None
    assert first.pk == second.pk
    assert DayCloseRun.objects.filter(marketplace_id="PL", day=june(9)).count() == 1
    ranges = [(chunk.first_id, chunk.last_id) for chunk in first.chunks_to_dispatch]
    assert ranges == [(ids[0], ids[1]), (ids[2], ids[3]), (ids[4], ids[4])]
    assert first.chunks_total == 3
    assert second.chunks_to_dispatch == []


def test_chunks_not_done_are_handed_out_again_after_the_redispatch_delay(
    small_chunks: int,
) -> None:
    for _ in range(3):
        make_store_account(marketplace="PL")
    started = LATE_EVENING_UTC
    first = pipeline.start_day_close(marketplace_code="PL", day=june(9), now=started)
    assert first is not None
    chunk = first.chunks_to_dispatch[0]
    pipeline.record_chunk_done(chunk=chunk, counts={"closed": 2})
    pipeline.update_run_progress(run_id=chunk.run_id)

    later = started + pipeline.CHUNK_REDISPATCH_AFTER + dt.timedelta(seconds=1)
    again = pipeline.start_day_close(marketplace_code="PL", day=june(9), now=later)

    assert again is not None
    assert [c.first_id for c in again.chunks_to_dispatch] == [first.chunks_to_dispatch[1].first_id]


def test_finish_waits_for_every_chunk_then_records_the_summed_counts(small_chunks: int) -> None:
    for _ in range(5):
        make_store_account(marketplace="PL")
    run = pipeline.start_day_close(marketplace_code="PL", day=june(9))
    assert run is not None
    chunks = run.chunks_to_dispatch

    def done(chunk: DayCloseChunk, counts: dict[str, int]) -> bool:
        pipeline.record_chunk_done(chunk=chunk, counts=counts)
        return pipeline.update_run_progress(run_id=chunk.run_id)

    assert done(chunks[0], {"closed": 2, "enrolled": 1}) is False
    assert done(chunks[1], {"closed": 2}) is False
    unfinished = pipeline.finish_day_close(marketplace_code="PL", day=june(9))
    assert unfinished.status == RunStatus.RUNNING
    assert unfinished.finished_at is None

    assert done(chunks[2], {"closed": 1, "enrolled": 1}) is True
    done = pipeline.finish_day_close(marketplace_code="PL", day=june(9))

    assert done.status == RunStatus.DONE
    assert done.finished_at is not None
    assert done.chunks_done == done.chunks_total == 3
    assert done.counts == {"closed": 5, "enrolled": 2}


def test_a_marketplace_without_store_accounts_closes_its_day_at_once() -> None:
    run = pipeline.start_day_close(marketplace_code="SE", day=june(9))

    assert run is not None
    assert run.status == RunStatus.DONE
    assert run.chunks_to_dispatch == []


def test_running_a_chunk_closes_its_store_accounts_once(small_chunks: int) -> None:
    seller = make_seller(phone="+48 512 345 678")
    accounts = [make_store_account(marketplace="PL", seller=seller)]
    accounts += [make_store_account(marketplace="PL") for _ in range(2)]
    run = pipeline.start_day_close(marketplace_code="PL", day=june(9))
    assert run is not None

    for chunk in run.chunks_to_dispatch:
        args = {"first_id": chunk.first_id, "last_id": chunk.last_id}
        pipeline.run_chunk(marketplace_code="PL", day=june(9), **args)
        assert pipeline.run_chunk(marketplace_code="PL", day=june(9), **args) is False
    done = pipeline.finish_day_close(marketplace_code="PL", day=june(9))

    assert done.status == RunStatus.DONE
    assert DailyRating.objects.filter(day=june(9)).count() == 3
    assert set(HealthState.objects.values_list("last_closed_day", flat=True)) == {june(9)}
    assert sum(chunk.counts.get("closed", 0) for chunk in DayCloseChunk.objects.all()) == 3
    assert done.counts.get("closed") == 3


def test_dispatch_catches_up_a_missed_night_oldest_day_first(
    eager_tasks: None, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    closed_run("PL", june(6))
    for _ in range(2):
        make_store_account(marketplace="PL")
    monkeypatch.setattr("django.utils.timezone.now", lambda: LATE_EVENING_UTC)
    # Only Poland: the other marketplaces have no store accounts and close on their own.
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_day_closes()

    runs = DayCloseRun.objects.filter(marketplace_id="PL").order_by("day")
    assert [(run.day, run.status) for run in runs] == [
        (june(day), RunStatus.DONE) for day in range(6, 11)
    ]
    assert list(DailyRating.objects.order_by("day").values_list("day", flat=True).distinct()) == [
        june(day) for day in range(7, 11)
    ]
    assert [run.pk for run in runs] == sorted(run.pk for run in runs)


def test_close_days_command_closes_from_a_given_day_with_progress(capsys) -> None:
    make_store_account(marketplace="PL")

    call_command("close_days", marketplace="PL", day=june(3), until=june(5))
    output = capsys.readouterr().out

    assert [run.day for run in DayCloseRun.objects.order_by("day")] == [june(3), june(4), june(5)]
    assert "PL 2025-06-05: closed" in output
    assert DailyRating.objects.count() == 3


def test_a_marketplace_with_no_closed_day_for_26_hours_is_stale() -> None:
    now = LATE_EVENING_UTC
    closed_run("PL", june(8), finished_at=now - STALE_CLOSE_AFTER - dt.timedelta(minutes=1))
    closed_run("DE", june(9), finished_at=now - STALE_CLOSE_AFTER + dt.timedelta(minutes=1))

    stale = pipeline.stale_marketplaces(now=now)

    assert [(s.marketplace.code, s.last_closed_day) for s in stale] == [("PL", june(8))]


def test_operators_are_emailed_once_per_stalled_marketplace_and_day() -> None:
    now = LATE_EVENING_UTC
    closed_run("PL", june(8), finished_at=now - STALE_CLOSE_AFTER - dt.timedelta(hours=1))

    assert pipeline.warn_about_stale_runs(now=now) == 1
    assert pipeline.warn_about_stale_runs(now=now + dt.timedelta(hours=1)) == 0

    emails = OutboxEmail.objects.filter(kind=EmailKind.STALE_RUNS)
    assert [(e.key, e.seller_id) for e in emails] == [("stale_runs:PL:2025-06-08", None)]
    assert emails[0].to == "operators@example.com"

    # The next closed day that stalls again is a new occurrence.
    closed_run("PL", june(9), finished_at=now - STALE_CLOSE_AFTER)
    assert pipeline.warn_about_stale_runs(now=now + dt.timedelta(hours=2)) == 1


def test_a_chunk_that_left_store_accounts_open_is_not_marked_done(monkeypatch) -> None:
    make_store_account(marketplace="PL")
    run = pipeline.start_day_close(marketplace_code="PL", day=june(9))
    assert run is not None
    chunk = run.chunks_to_dispatch[0]
    # As when a store account's state could not be closed, whatever the reason.
    monkeypatch.setattr(
        "health.services.day_close._close_open_states",
        lambda *_args: {"closed": 0, "enrolled": 0, "removed": 0},
    )

    with pytest.raises(pipeline.ChunkIncompleteError):
        pipeline.run_chunk(
            marketplace_code="PL", day=june(9), first_id=chunk.first_id, last_id=chunk.last_id
        )

    assert DayCloseChunk.objects.get(pk=chunk.pk).done_at is None


def test_the_benchmark_refuses_anything_but_postgresql() -> None:
    from django.core.management.base import CommandError
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("checks the message shown without PostgreSQL")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("bench_day_close", accounts=10)


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a test's own table name
        return cursor.fetchone()[0]


def partition_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def test_a_new_month_partition_takes_the_rows_already_in_the_default_one(postgres) -> None:
    account = make_store_account(seller=make_seller())
    DailyRating.objects.create(store_account=account, day=dt.date(2031, 3, 3), ahr=250)
    assert rows_in("health_dailyrating_default") == 1

    pipeline.prepare_history_partitions(day=dt.date(2031, 3, 31))
    pipeline.prepare_history_partitions(day=dt.date(2031, 3, 1))  # again: nothing to do
    DailyRating.objects.create(store_account=account, day=dt.date(2031, 3, 4), ahr=251)

    assert rows_in("health_dailyrating_default") == 0
    assert rows_in("health_dailyrating_p203103") == 2
    assert DailyRating.objects.filter(store_account=account).count() == 2


def test_starting_a_day_prepares_its_month_and_the_next_for_the_history(postgres) -> None:
    make_store_account(seller=make_seller(), marketplace="PL")

    pipeline.start_day_close(marketplace_code="PL", day=dt.date(2031, 12, 31))

    for table in ("health_dailyrating", "health_dailyorders"):
        assert partition_exists(f"{table}_p203112")
        assert partition_exists(f"{table}_p203201")
