"""Celery tasks of the nightly day close: the dispatcher, one task per chunk of store accounts, and
the stale-run check. Each is safe to run twice; the services keep the state."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from accounts.models import Marketplace
from health.models import RunStatus
from health.services.pipeline import (
    ChunkIncompleteError,
    days_to_close,
    finish_day_close,
    run_chunk,
    start_day_close,
    warn_about_stale_runs,
)

__all__ = ["check_stale_runs", "close_day_chunk_task", "dispatch_day_closes"]


@shared_task
def dispatch_day_closes() -> int:
    """Start the oldest due day of every marketplace and enqueue its chunks; returns how many."""
    now = timezone.now()
    return sum(_dispatch_marketplace(marketplace, now) for marketplace in Marketplace.objects.all())


@shared_task(autoretry_for=(ChunkIncompleteError,), retry_backoff=True, max_retries=8)
def close_day_chunk_task(marketplace_code: str, day_iso: str, first_id: int, last_id: int) -> None:
    """Close one chunk; the last chunk of a run finishes it and starts the next due day."""
    day = dt.date.fromisoformat(day_iso)
    was_last = run_chunk(
        marketplace_code=marketplace_code, day=day, first_id=first_id, last_id=last_id
    )
    if was_last:
        run = finish_day_close(marketplace_code=marketplace_code, day=day)
        if run.status == RunStatus.DONE:
            # Catching up a missed night goes on at once instead of waiting for the next beat.
            _dispatch_marketplace(Marketplace.objects.get(code=marketplace_code), timezone.now())


@shared_task
def check_stale_runs() -> int:
    """Email the operators about marketplaces that have stopped closing days."""
    return warn_about_stale_runs(now=timezone.now())


def _dispatch_marketplace(marketplace: Marketplace, now: dt.datetime) -> int:
    """Enqueue the chunks of the oldest unfinished day; days with nothing to do close here."""
    dispatched = 0
    for day in days_to_close(marketplace, now):
        run = start_day_close(marketplace_code=marketplace.code, day=day, now=now)
        if run is None:
            break
        for chunk in run.chunks_to_dispatch:
            close_day_chunk_task.delay_on_commit(
                marketplace.code, day.isoformat(), chunk.first_id, chunk.last_id
            )
        dispatched += len(run.chunks_to_dispatch)
        # One day at a time: the next one starts when this one is done.
        if run.status != RunStatus.DONE:
            break
    return dispatched
