"""Celery's side: the request id of the request that enqueued a task (a message header) and the
task id on every log line the task writes; task run times and failures; and the worker's own metrics
port (CELERY_METRICS_PORT). With the prefork pool the tasks run in child processes, so set
PROMETHEUS_MULTIPROC_DIR (a directory of the worker's own, not the web's) for the port to serve
what the children counted."""

from __future__ import annotations

import contextvars
import logging
import os
import time
from pathlib import Path
from typing import Any

from celery import signals
from prometheus_client import start_http_server
from prometheus_client.multiprocess import mark_process_dead

from aha_site.observability.logs import REQUEST_ID, TASK_ID
from aha_site.observability.metrics import (
    TASK_FAILURES,
    TASK_RUNTIME,
    multiprocess_dir,
    process_collector,
)

logger = logging.getLogger(__name__)
REQUEST_ID_HEADER = "aha_request_id"
_started: dict[str, float] = {}
_context: dict[str, tuple[contextvars.Token[str], contextvars.Token[str]]] = {}


@signals.before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = REQUEST_ID.get()
    if headers is not None and request_id != "-":
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if not task_id:
        return
    _started[task_id] = time.perf_counter()
    # A task run in-process (eager) keeps the request id of the code that called it.
    carried = _header(task, REQUEST_ID_HEADER) or REQUEST_ID.get()
    _context[task_id] = (REQUEST_ID.set(carried), TASK_ID.set(task_id))


def _header(task: Any, name: str) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    value = getattr(request, name, None) or (getattr(request, "headers", None) or {}).get(name)
    return str(value) if value else None


@signals.task_postrun.connect
def _task_finished(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    tokens = _context.pop(task_id or "", None)
    if tokens is not None:
        REQUEST_ID.reset(tokens[0])
        TASK_ID.reset(tokens[1])
    started = _started.pop(task_id or "", None)
    if started is None or task is None:
        return
    outcome = (state or "unknown").lower()
    TASK_RUNTIME.labels(task=task.name, outcome=outcome).observe(time.perf_counter() - started)


@signals.task_failure.connect
def _task_failed(sender: Any = None, **_: Any) -> None:
    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


@signals.worker_init.connect
def _empty_metrics_directory(**_: Any) -> None:
    """Files a previous run of this worker left would be added to this run's figures."""
    if directory := multiprocess_dir():
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


@signals.worker_ready.connect
def _serve_worker_metrics(**_: Any) -> None:
    """Serve this worker's metrics on CELERY_METRICS_PORT (on CELERY_METRICS_ADDR) if set."""
    port = os.environ.get("CELERY_METRICS_PORT", "").strip()
    if not port:
        return
    address = os.environ.get("CELERY_METRICS_ADDR", "127.0.0.1")
    if not multiprocess_dir():
        logger.warning(
            "CELERY_METRICS_PORT without PROMETHEUS_MULTIPROC_DIR: the pool's child processes"
            " run the tasks, so their metrics will be missing"
        )
    start_http_server(int(port), addr=address, registry=process_collector())
    logger.info("Worker metrics on http://%s:%s/metrics", address, port)


@signals.worker_process_shutdown.connect
def _child_exited(pid: int | None = None, **_: Any) -> None:
    if multiprocess_dir():
        mark_process_dead(pid or os.getpid())
