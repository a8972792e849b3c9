"""gunicorn reads this file from the working directory: with PROMETHEUS_MULTIPROC_DIR set, the
workers' metric files start empty and a dead worker's live gauges are dropped (prometheus-client's
multiprocess mode; see README, Metrics)."""

import os
from pathlib import Path


def on_starting(server):
    """Empty the metrics directory: files of a previous run would be added to this one's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
