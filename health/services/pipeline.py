"""The nightly pipeline around the day close: which days are due per marketplace, the run and its
chunks of store accounts, finishing a run, and the warning when a marketplace stops closing days.

The work of one chunk is `health.services.day_close.close_day_chunk`; this module only decides
what to close, records what was done, and keeps every step safe to repeat.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from accounts.models import Marketplace
from health.eligibility import STALE_CLOSE_AFTER
from health.models import (
    DailyOrders,
    DailyRating,
    DayCloseChunk,
    DayCloseRun,
    EmailKind,
    RunStatus,
)
from health.services.day_close import ChunkIncompleteError, close_day_chunk
from health.services.outbox import queue_email

# A chunk handed to the queue that is still not done after this long is handed out again
# (its worker may have died); the chunk itself refuses to run twice, so a spare copy is harmless.
CHUNK_REDISPATCH_AFTER = dt.timedelta(minutes=15)
# A chunk some of whose store accounts are locked elsewhere is tried again this many times.
IN_PROCESS_CHUNK_TRIES = 5


def days_to_close(marketplace: Marketplace, now: dt.datetime) -> list[dt.date]:
    """Every local day of the marketplace that has ended and is not closed yet, oldest first."""
    yesterday = marketplace.local_date(now) - dt.timedelta(days=1)
    runs = DayCloseRun.objects.filter(marketplace=marketplace)
    last_done = runs.filter(status=RunStatus.DONE).aggregate(day=Max("day"))["day"]
    if last_done is not None:
        first = last_done + dt.timedelta(days=1)
    else:
        # Decision: a marketplace closes from yesterday on, never the whole past; an operator
        # who wants more history closes earlier days with `manage.py close_days --day`.
        started = runs.aggregate(day=Min("day"))["day"]
        first = min(started, yesterday) if started else yesterday
    return [first + dt.timedelta(days=n) for n in range((yesterday - first).days + 1)]


def start_day_close(
    *,
    marketplace_code: str,
    day: dt.date,
    now: dt.datetime | None = None,
    redispatch_after: dt.timedelta = CHUNK_REDISPATCH_AFTER,
) -> DayCloseRun | None:
    """Get or create the run of (marketplace, day) and hand out the chunks nobody is working on.

    Returns None when the day cannot start (an earlier day is not closed yet, or the day is
    older than the last closed one). Otherwise returns the run with `chunks_to_dispatch`: the
    chunks this caller must enqueue (empty when another dispatcher already has them). A run
    with no chunk left is finished here.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # One lock per marketplace: two dispatchers at once create each run, and hand out each
        # chunk, once.
        Marketplace.objects.select_for_update().get(code=marketplace_code)
        run = DayCloseRun.objects.filter(marketplace_id=marketplace_code, day=day).first()
        if run is None:
            if not _may_start(marketplace_code, day):
                return None
            run = _create_run(marketplace_code, day, now)
        elif run.status == RunStatus.DONE:
            run.chunks_to_dispatch = []
            return run
        stuck_before = now - redispatch_after
        chunks = list(
            run.chunks.pending().filter(
                Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stuck_before)
            )
        )
        DayCloseChunk.objects.filter(id__in=[c.id for c in chunks]).update(dispatched_at=now)
        all_done = not run.chunks.pending().exists()
    if all_done:
        run = finish_day_close(marketplace_code=marketplace_code, day=day)
    run.chunks_to_dispatch = [] if all_done else chunks
    return run


def _may_start(marketplace_code: str, day: dt.date) -> bool:
    """Days close in order: every earlier run is done, and no later day is closed already."""
    runs = DayCloseRun.objects.filter(marketplace_id=marketplace_code)
    if runs.filter(day__lt=day).exclude(status=RunStatus.DONE).exists():
        return False
    if runs.filter(day__gt=day).exists():
        return False
    last = runs.aggregate(day=Max("day"))["day"]
    # A gap would leave a day of every store account unclosed forever.
    return last is None or last == day - dt.timedelta(days=1)


def _create_run(marketplace_code: str, day: dt.date, now: dt.datetime) -> DayCloseRun:
    # The month of the day and the next one, before anything is written there: the night's
    # rows then never land in the default partition.
    prepare_history_partitions(day=day)
    prepare_history_partitions(day=_next_month(day))
    ranges = store_account_id_ranges(marketplace_code, settings.DAY_CLOSE_CHUNK_SIZE)
    run = DayCloseRun.objects.create(
        marketplace_id=marketplace_code, day=day, started_at=now, chunks_total=len(ranges)
    )
    DayCloseChunk.objects.bulk_create(
        DayCloseChunk(run=run, first_id=first, last_id=last) for first, last in ranges
    )
    return run


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def prepare_history_partitions(*, day: dt.date) -> None:
    """Create the month partition holding `day` of each history table (DailyRating,
    DailyOrders), where PostgreSQL keeps them partitioned by month; rows that already went to the
    default partition for that month move into it. Safe to repeat and to run concurrently."""
    if connection.vendor != "postgresql":
        return
    first, following = day.replace(day=1), _next_month(day)
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (DailyRating, DailyOrders):
            table = model._meta.db_table
            partition = f"{table}_p{first:%Y%m}"
            cursor.execute(
                "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [table]
            )
            if cursor.fetchone() != (True,):
                continue  # a plain table: nothing to prepare
            # One creator at a time; the others then find the partition there.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [table])
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition])
            if cursor.fetchone()[0]:
                continue
            _create_partition(cursor, table, partition, first, following)


def _create_partition(
    cursor: object, table: str, partition: str, first: dt.date, following: dt.date
) -> None:
    # Names, not data, are formatted into these statements.
    cursor.execute(
        f"CREATE TABLE {partition} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    cursor.execute(
        f"WITH moved AS (DELETE FROM {table}_default WHERE day >= %s AND day < %s "  # noqa: S608
        f"RETURNING *) INSERT INTO {partition} SELECT * FROM moved",
        [first, following],
    )
    cursor.execute(
        f"ALTER TABLE {table} ATTACH PARTITION {partition} FOR VALUES FROM (%s) TO (%s)",
        [first, following],
    )


def store_account_id_ranges(marketplace_code: str, size: int) -> list[tuple[int, int]]:
    """The marketplace's store account ids cut into ranges of `size` accounts, in id order."""
    # Computed in the database: a million ids never travel to Python just to be cut.
    sql = (
        "SELECT MIN(id), MAX(id) FROM (SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %s"
        " AS bucket FROM accounts_storeaccount WHERE marketplace_id = %s) AS numbered"
        " GROUP BY bucket ORDER BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [size, marketplace_code])
        return [(int(first), int(last)) for first, last in cursor.fetchall()]


def run_chunk(*, marketplace_code: str, day: dt.date, first_id: int, last_id: int) -> bool:
    """Close one chunk of a run exactly once; True when no chunk of the run is pending any more
    (more than one caller may see that: finishing the run is safe to repeat)."""
    with transaction.atomic():
        # The chunk's work and its "done" mark commit together: a worker killed half-way leaves
        # nothing behind, and a second copy of the task waits here, then finds it done. Only the
        # chunk's row is locked, never its run's: chunks of one run close side by side.
        chunk = (
            DayCloseChunk.objects.select_for_update(of=("self",))
            .filter(run__marketplace_id=marketplace_code, run__day=day, first_id=first_id)
            .first()
        )
        if chunk is None or chunk.done_at is not None:
            return False
        # Raises ChunkIncompleteError, and nothing is kept, if store accounts were left open.
        counts = close_day_chunk(
            marketplace_code=marketplace_code, day=day, first_id=first_id, last_id=last_id
        )
        record_chunk_done(chunk=chunk, counts=counts)
    # After the commit, so that the last chunk to commit sees every other one done.
    return update_run_progress(run_id=chunk.run_id)


def record_chunk_done(*, chunk: DayCloseChunk, counts: dict[str, int]) -> None:
    """Mark a chunk done with its counts, in the transaction that closed it."""
    chunk.done_at = timezone.now()
    chunk.counts = counts
    chunk.save(update_fields=["done_at", "counts"])


def update_run_progress(*, run_id: int) -> bool:
    """Bring the run's count of done chunks up to date; True when none is pending any more.

    Run in its own short transaction after a chunk commits: taking the run's row inside the
    chunk's transaction would make every chunk of the run wait for the one before."""
    chunks = DayCloseChunk.objects.filter(run_id=run_id)
    done = chunks.exclude(done_at=None).count()
    # Never backwards: a slower caller that counted fewer leaves the higher figure alone.
    DayCloseRun.objects.filter(pk=run_id, chunks_done__lt=done).update(chunks_done=done)
    return not chunks.pending().exists()


def finish_day_close(*, marketplace_code: str, day: dt.date) -> DayCloseRun:
    """Mark the run done once every chunk is done, with the counts summed over its chunks."""
    with transaction.atomic():
        run = DayCloseRun.objects.select_for_update().get(marketplace_id=marketplace_code, day=day)
        if run.status == RunStatus.DONE or run.chunks.pending().exists():
            return run
        totals: Counter[str] = Counter()
        for counts in run.chunks.values_list("counts", flat=True):
            totals.update(counts)
        run.counts = dict(sorted(totals.items()))
        run.chunks_done = run.chunks_total
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "chunks_done", "status", "finished_at"])
        return run


@dataclass(frozen=True, slots=True)
class StaleMarketplace:
    """A marketplace that has not closed a day for longer than STALE_CLOSE_AFTER."""

    marketplace: Marketplace
    last_closed_day: dt.date | None
    last_closed_at: dt.datetime | None


def stale_marketplaces(*, now: dt.datetime) -> list[StaleMarketplace]:
    """Marketplaces whose last completed day close finished more than 26 hours ago."""
    last_runs = {
        run.marketplace_id: run
        for run in DayCloseRun.objects.filter(status=RunStatus.DONE).order_by(
            "marketplace_id", "day"
        )
    }
    first_started = dict(
        DayCloseRun.objects.values("marketplace_id")
        .annotate(at=Min("started_at"))
        .values_list("marketplace_id", "at")
    )
    stale = []
    for marketplace in Marketplace.objects.order_by("code"):
        run = last_runs.get(marketplace.code)
        # Decision: a marketplace that never closed a day counts from its first attempt; one
        # never attempted at all is not flagged (the first dispatch is minutes after deploy).
        since = run.finished_at if run else first_started.get(marketplace.code)
        if since is not None and now - since > STALE_CLOSE_AFTER:
            stale.append(
                StaleMarketplace(
                    marketplace=marketplace,
                    last_closed_day=run.day if run else None,
                    last_closed_at=since if run else None,
                )
            )
    return stale


@transaction.atomic
def warn_about_stale_runs(*, now: dt.datetime) -> int:
    """Email the operators once per stalled marketplace and last closed day; returns how many."""
    written = 0
    for stale in stale_marketplaces(now=now):
        code = stale.marketplace.code
        last_day = stale.last_closed_day.isoformat() if stale.last_closed_day else "none"
        email = queue_email(
            kind=EmailKind.STALE_RUNS,
            key=f"{EmailKind.STALE_RUNS.value}:{code}:{last_day}",
            seller=None,
            context={
                "marketplace": code,
                "marketplace_name": stale.marketplace.name,
                "last_closed_day": stale.last_closed_day,
                "last_closed_at": stale.last_closed_at,
                "stale_after_hours": STALE_CLOSE_AFTER // dt.timedelta(hours=1),
            },
        )
        written += email is not None
    return written


def close_day_in_process(
    *,
    marketplace_code: str,
    day: dt.date,
    on_chunk: Callable[[int, int], None] | None = None,
) -> DayCloseRun | None:
    """Close a day here and now, chunk after chunk, without a broker (operators, demo, bench).

    A chunk that a worker is closing at this moment is waited for, then found done.
    `on_chunk(done, total)` reports progress.
    """
    run = start_day_close(
        marketplace_code=marketplace_code, day=day, redispatch_after=dt.timedelta(0)
    )
    if run is None or run.status == RunStatus.DONE:
        return run
    total = len(run.chunks_to_dispatch)
    for done, chunk in enumerate(run.chunks_to_dispatch, start=1):
        _run_chunk_with_retries(marketplace_code, day, chunk)
        if on_chunk:
            on_chunk(done, total)
    return finish_day_close(marketplace_code=marketplace_code, day=day)


def _run_chunk_with_retries(marketplace_code: str, day: dt.date, chunk: DayCloseChunk) -> None:
    for attempt in range(IN_PROCESS_CHUNK_TRIES):
        try:
            run_chunk(
                marketplace_code=marketplace_code,
                day=day,
                first_id=chunk.first_id,
                last_id=chunk.last_id,
            )
            return
        except ChunkIncompleteError:
            if attempt == IN_PROCESS_CHUNK_TRIES - 1:
                raise
            time.sleep(1 + attempt)
