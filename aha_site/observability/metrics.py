"""The metrics this process counts itself, and the registry /metrics serves.

Under gunicorn (and Celery's prefork pool) each worker is a process of its own: with
PROMETHEUS_MULTIPROC_DIR set, prometheus-client keeps every process's samples in files there and
the scrape adds them up, so the workers report as one. The domain's gauges (nights, outbox,
callbacks, cases) are not kept here at all: health.metrics computes them from the database when
scraped."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# Seconds; a page should answer well under 100 ms, the slow admin pages take a second or two.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Tasks range from an email (tens of ms) to a day-close chunk (minutes).
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0)

HTTP_REQUESTS = Counter(
    "aha_http_requests",
    "HTTP requests answered, by view (URL name), method and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "aha_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by view and status.",
    ["view", "status"],
    buckets=REQUEST_BUCKETS,
)
TASK_RUNTIME = Histogram(
    "aha_celery_task_duration_seconds",
    "Run time of Celery tasks, by task name and outcome.",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
)
TASK_FAILURES = Counter(
    "aha_celery_task_failures", "Celery tasks that raised, by task name.", ["task"]
)
API_ROWS = Counter(
    "aha_api_rows_ingested",
    "Rows the upstream API accepted, by kind (orders, violations, ...).",
    ["kind"],
)
EMAILS_SENT = Counter(
    "aha_emails_sent", "Outbox emails handed to the mail server, by kind.", ["kind"]
)


def count_api_rows(kind: str, rows: int) -> None:
    """Count rows the upstream API accepted: call once per request with the rows it stored."""
    if rows > 0:
        API_ROWS.labels(kind=kind).inc(rows)


def count_email_sent(kind: str) -> None:
    """Count one outbox email handed to the mail server."""
    EMAILS_SENT.labels(kind=kind).inc()


def multiprocess_dir() -> str:
    """PROMETHEUS_MULTIPROC_DIR, or '' when this process reports alone."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_collector() -> Collector:
    """This process's metrics, or every process's from the shared directory in multiprocess mode."""
    if directory := multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return registry
    return REGISTRY


class Registries:
    """Several collectors scraped as one: generate_latest only needs `collect()`."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator:
        for collector in self.collectors:
            yield from collector.collect()
