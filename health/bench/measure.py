"""The benchmark's measurements, each against data built by health.bench.data.

Every reference is measured in the same run as the day close it is compared with: absolute times
on a shared machine drift, ratios much less. And the floor and our own figures are measured more
than once (see Repeated): one slow moment of the machine (an autovacuum, another process's load)
must not decide a goal.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.db import connection, connections, transaction

from health.bench.data import MARKETPLACE
from health.models import DailyRating, HealthState, RunStatus
from health.rating import compute_ahr
from health.services.pipeline import (
    close_day_in_process,
    finish_day_close,
    run_chunk,
    start_day_close,
)


@dataclass(frozen=True, slots=True)
class Repeated:
    """The measurements of one figure and the figure chosen from them: the best for a reference
    (the fastest the machine did it, the stricter one to compare with), the median for our own
    figures (neither one slow nor one lucky night decides them). The report prints both, so a
    reader sees the spread behind the figure a goal is judged by."""

    choice: Literal["best", "median"]
    times: tuple[float, ...]

    @property
    def seconds(self) -> float:
        return min(self.times) if self.choice == "best" else statistics.median(self.times)

    def __str__(self) -> str:
        return f"{self.choice} of {', '.join(f'{t:.2f}' for t in self.times)}"


def timed(work: Callable[[], object]) -> float:
    """The wall time of `work`, after a checkpoint: the dirty pages of the loads and closes
    before are written out first, so each measurement pays for its own writes only, as a night
    in production, which never follows a bulk load."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def database_floor(*, accounts: int, day: dt.date) -> float:
    """One bare statement writing the same rating rows; rolled back, so it leaves nothing."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            seconds = timed(
                lambda: cursor.execute(
                    "INSERT INTO health_dailyrating (store_account_id, day, ahr)"
                    " SELECT id, %s, 250 FROM generate_series(1, %s) AS id",
                    [day, accounts],
                )
            )
        transaction.set_rollback(True)
    return seconds


def orm_loop(*, sample: int, day: dt.date) -> float:
    """The straightforward loop: per store account, read, compute, update_or_create, save."""

    def loop() -> None:
        for pk in range(1, sample + 1):
            state = HealthState.objects.get(pk=pk)
            ahr = compute_ahr(orders_in_window=state.orders_in_window, violations=(), day=day)
            DailyRating.objects.update_or_create(
                store_account_id=pk, day=day, defaults={"ahr": ahr}
            )
            state.ahr = ahr
            state.last_closed_day = day
            state.save(update_fields=["ahr", "last_closed_day"])

    with transaction.atomic():
        seconds = timed(loop)
        transaction.set_rollback(True)
    return seconds


def close_single(*, day: dt.date) -> float:
    """Our day close of one day, every chunk in sequence in this process."""

    def close() -> None:
        run = close_day_in_process(marketplace_code=MARKETPLACE, day=day)
        if run is None or run.status != RunStatus.DONE:
            raise RuntimeError(f"the day close of {day} did not finish")

    return timed(close)


def steady_nights(*, first: dt.date, nights: int) -> Repeated:
    """The median of `nights` nights closed one process after another, after the night of
    `first`, closed the same way and not measured: as every night in production, none pays for
    the cold cache a bulk load leaves."""
    close_single(day=first)
    times = [close_single(day=first + dt.timedelta(days=n)) for n in range(1, nights + 1)]
    return Repeated("median", tuple(times))


def close_parallel(*, day: dt.date, workers: int) -> float:
    """Our day close of one day with the chunks shared by `workers` processes."""
    return timed(lambda: _close_in_processes(day=day, workers=workers))


def _close_in_processes(*, day: dt.date, workers: int) -> None:
    run = start_day_close(marketplace_code=MARKETPLACE, day=day, redispatch_after=dt.timedelta(0))
    if run is None:
        raise RuntimeError(f"the day close of {day} could not start")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    for chunk in run.chunks_to_dispatch:
        queue.put((chunk.first_id, chunk.last_id))
    for _ in range(workers):
        queue.put(None)
    # Each process opens its own connection; a shared socket would be corrupted.
    connections.close_all()
    processes = [
        context.Process(target=_close_chunks_from, args=(queue, day)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a day close process failed with exit code {process.exitcode}")
    run = finish_day_close(marketplace_code=MARKETPLACE, day=day)
    if run.status != RunStatus.DONE:
        raise RuntimeError(f"the day close of {day} did not finish")


def _close_chunks_from(queue: multiprocessing.Queue, day: dt.date) -> None:
    while (item := queue.get()) is not None:
        first_id, last_id = item
        run_chunk(marketplace_code=MARKETPLACE, day=day, first_id=first_id, last_id=last_id)
    connections.close_all()
