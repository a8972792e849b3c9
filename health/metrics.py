"""The domain's gauges, computed from the database each time /metrics is scraped: nothing is kept
in a process that a restart would lose, and every worker reports the same figures.

One scrape costs four indexed queries, whatever the number of rows: the marketplaces with their
latest runs (correlated subqueries on the one-run-per-day index), the unsent outbox (partial
index), the callback queue (partial index) and the cases waiting for the seller by deadline
(partial index). The queries live here rather than on the QuerySets because nothing else reads
these aggregates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from accounts.models import Marketplace
from health.eligibility import ENGAGEMENT_REMINDERS
from health.models import (
    AHACase,
    CallbackRequest,
    CallbackStatus,
    CaseStatus,
    DayCloseRun,
    EmailStatus,
    OutboxEmail,
    RunStatus,
)

UNSENT = (EmailStatus.PENDING, EmailStatus.SENDING, EmailStatus.FAILED)
WAITING = (CallbackStatus.QUEUED, CallbackStatus.CLAIMED)
# The two reminder windows of rules §5 (24 h and 4 h before the deadline).
SOON, VERY_SOON = sorted(ENGAGEMENT_REMINDERS, reverse=True)


def _seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return max((later - earlier).total_seconds(), 0.0)


def _day_start(day: dt.date, marketplace: Marketplace) -> float:
    """The local midnight that starts `day`, as a Unix time (Grafana shows it as a date)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=marketplace.zone).timestamp()


@dataclass
class Gauges:
    """The families of one scrape, built up by the readers below."""

    families: dict[str, GaugeMetricFamily]

    def add(self, name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, documentation, labels=labels)
        self.families[name] = family
        return family


class DomainCollector:
    """A prometheus-client collector whose `collect()` reads the domain's state."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        gauges = Gauges({})
        _nights(gauges, now)
        _outbox(gauges, now)
        _callbacks(gauges, now)
        _cases(gauges, now)
        yield from gauges.families.values()


def _nights(gauges: Gauges, now: dt.datetime) -> None:
    runs = DayCloseRun.objects.filter(marketplace=OuterRef("code")).order_by("-day")
    last_done = runs.filter(status=RunStatus.DONE)
    marketplaces = Marketplace.objects.annotate(
        closed_day=Subquery(last_done.values("day")[:1]),
        closed_at=Subquery(last_done.values("finished_at")[:1]),
        closed_started=Subquery(last_done.values("started_at")[:1]),
        closed_counts=Subquery(last_done.values("counts")[:1]),
        latest_day=Subquery(runs.values("day")[:1]),
        latest_status=Subquery(runs.values("status")[:1]),
        latest_started=Subquery(runs.values("started_at")[:1]),
        latest_chunks_total=Subquery(runs.values("chunks_total")[:1]),
        latest_chunks_done=Subquery(runs.values("chunks_done")[:1]),
    ).order_by("code")
    day = gauges.add(
        "aha_day_close_last_closed_day",
        "Start of the marketplace's last closed day (local midnight, Unix time).",
        ["marketplace"],
    )
    age = gauges.add(
        "aha_day_close_last_closed_age_seconds",
        "Seconds since the marketplace's last day close finished (stale-run mail after 26 h).",
        ["marketplace"],
    )
    duration = gauges.add(
        "aha_day_close_last_duration_seconds",
        "How long the marketplace's last finished day close took.",
        ["marketplace"],
    )
    counts = gauges.add(
        "aha_day_close_last_count",
        "What the marketplace's last finished day close did (accounts closed, cases opened, ...).",
        ["marketplace", "count"],
    )
    running = gauges.add(
        "aha_day_close_running_seconds",
        "Seconds the marketplace's latest day close has been running (0 when none runs).",
        ["marketplace"],
    )
    failed = gauges.add(
        "aha_day_close_latest_failed",
        "1 when the marketplace's latest day close failed.",
        ["marketplace"],
    )
    chunks = gauges.add(
        "aha_day_close_latest_chunks",
        "Chunks of the marketplace's latest day close, by state (done, total).",
        ["marketplace", "state"],
    )
    for market in marketplaces:
        code = [market.code]
        if market.closed_day is not None:
            day.add_metric(code, _day_start(market.closed_day, market))
            age.add_metric(code, _seconds(now, market.closed_at))
            duration.add_metric(code, _seconds(market.closed_at, market.closed_started))
            for name, value in sorted((market.closed_counts or {}).items()):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    counts.add_metric([market.code, name], value)
        is_running = market.latest_status == RunStatus.RUNNING
        running.add_metric(code, _seconds(now, market.latest_started) if is_running else 0.0)
        failed.add_metric(code, 1.0 if market.latest_status == RunStatus.FAILED else 0.0)
        if market.latest_day is not None:
            chunks.add_metric([market.code, "done"], market.latest_chunks_done)
            chunks.add_metric([market.code, "total"], market.latest_chunks_total)


def _outbox(gauges: Gauges, now: dt.datetime) -> None:
    _waiting_rows(
        gauges,
        now,
        OutboxEmail.objects.filter(status__in=UNSENT),
        statuses=UNSENT,
        oldest_of=EmailStatus.PENDING,
        count=(
            "aha_outbox_emails",
            "Outbox emails not sent yet, by status (sent ones: aha_emails_sent_total).",
        ),
        oldest=(
            "aha_outbox_oldest_pending_age_seconds",
            "Age of the oldest email waiting to be sent (0 when none waits).",
        ),
    )


def _callbacks(gauges: Gauges, now: dt.datetime) -> None:
    _waiting_rows(
        gauges,
        now,
        CallbackRequest.objects.filter(status__in=WAITING),
        statuses=WAITING,
        oldest_of=CallbackStatus.QUEUED,
        count=(
            "aha_callback_requests",
            "Open Call me now requests, by status (queued: no specialist yet; claimed: calling).",
        ),
        oldest=(
            "aha_callback_oldest_wait_seconds",
            "How long the longest-waiting queued request has waited (0 when the queue is empty).",
        ),
    )


def _waiting_rows(
    gauges: Gauges,
    now: dt.datetime,
    rows: QuerySet,
    *,
    statuses: Iterable[str],
    oldest_of: str,
    count: tuple[str, str],
    oldest: tuple[str, str],
) -> None:
    """A queue's rows counted by status, and the age of the oldest row of one status, in one
    query: the outbox and the callback queue are both read this way."""
    by_status = {
        row["status"]: row
        for row in rows.order_by()
        .values("status")
        .annotate(n=Count("id"), oldest=Min("created_at"))
    }
    counted = gauges.add(*count, ["status"])
    for status in statuses:
        counted.add_metric([str(status)], by_status.get(status, {}).get("n", 0))
    first = by_status.get(oldest_of, {}).get("oldest")
    gauges.add(*oldest, []).add_metric([], _seconds(now, first) if first else 0.0)


def _cases(gauges: Gauges, now: dt.datetime) -> None:
    waiting = AHACase.objects.filter(status=CaseStatus.OPEN)
    figures = waiting.aggregate(
        missed=Count("id", filter=Q(deadline_at__lte=now)),
        under_4h=Count("id", filter=Q(deadline_at__gt=now, deadline_at__lte=now + VERY_SOON)),
        under_24h=Count(
            "id", filter=Q(deadline_at__gt=now + VERY_SOON, deadline_at__lte=now + SOON)
        ),
        later=Count("id", filter=Q(deadline_at__gt=now + SOON)),
        no_deadline=Count("id", filter=Q(deadline_at__isnull=True)),
    )
    cases = gauges.add(
        "aha_cases_waiting",
        "AHA cases waiting for the seller, by time to their deadline: missed (past it, not yet"
        " closed by the watcher), under_4h, under_24h (4-24 h), later, no_deadline.",
        ["due"],
    )
    for due, count in figures.items():
        cases.add_metric([due], count)
