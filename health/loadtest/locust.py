"""Runs Locust headless in a process of its own against a running server, with a progress bar,
and reads back its figures (from its CSV statistics), the outcomes its users saw, and the CPU it
used beside the server's: the load generator must not be what limits the figures."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import psutil
from django.conf import settings
from django.db import connection

from health.loadtest.outcomes import Outcomes
from health.progress import progress_bar

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STOP_SECONDS = 10
AGGREGATED = "Aggregated"
WARM_UP_SECONDS = 2.0
# The views take turns, so drift on a shared machine hits them alike.
ROUNDS = 2


class Phase(NamedTuple):
    """A stretch of the benchmark: its request name, the view requested, from and to (s)."""

    name: str
    view: str
    start: float
    end: float

    @staticmethod
    def seconds_by_name(phases: list[Phase]) -> dict[str, float]:
        seconds: dict[str, float] = {}
        for phase in phases:
            seconds[phase.name] = seconds.get(phase.name, 0.0) + phase.end - phase.start
        return seconds


def bench_phases(seconds: float) -> list[Phase]:
    """Warm-up on the trivial view and the cached dashboard, then ROUNDS turns of the trivial
    view, the cached dashboard and the dashboard on a cache miss, `seconds` each in all."""
    steps = [("warm-up", "trivial", WARM_UP_SECONDS), ("warm-up", "dashboard", WARM_UP_SECONDS)]
    for _ in range(ROUNDS):
        for view in ("trivial", "dashboard", "cold"):
            steps.append((view, view, seconds / ROUNDS))
    phases, at = [], 0.0
    for name, view, length in steps:
        phases.append(Phase(name, view, at, at + length))
        at += length
    return phases


@dataclass(frozen=True, slots=True)
class Figures:
    """One request name's figures: count, failures, rate over its seconds, percentiles in ms."""

    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p90: float
    p99: float
    max: float


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds over one run's wall time: Locust's, the server's and the whole machine's."""

    seconds: float
    locust: float
    server: float
    database: float
    machine_busy: float
    cores: int

    def share(self, cpu_seconds: float) -> float:
        """Percent of one core."""
        return 100 * cpu_seconds / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        cores = self.cores
        return [
            f"  Locust (load generator): {self.locust:6.1f} CPU s = {self.share(self.locust):5.1f}%"
            " of one core",
            f"  gunicorn (master+workers): {self.server:4.1f} CPU s ="
            f" {self.share(self.server):5.1f}% of one core"
            f" ({self.share(self.server) / cores:.0f}% of the {cores} cores)",
            f"  PostgreSQL (the server's connections): {self.database:4.1f} CPU s ="
            f" {self.share(self.database):5.1f}% of one core",
            f"  server and database together:"
            f" {self.share(self.server + self.database) / cores:.0f}% of the {cores} cores",
            f"  whole machine busy: {self.share(self.machine_busy) / cores:.0f}% of {cores} cores"
            " (PostgreSQL, Redis and any other work included)",
        ]


@dataclass(frozen=True, slots=True)
class LoadRun:
    figures: dict[str, Figures]
    errors: int
    error_lines: list[str]
    outcomes: Outcomes
    cpu: CpuUse


def run_locust(
    *,
    plan: dict[str, Any],
    users: int,
    seconds: float,
    base_url: str,
    server_pid: int,
    seconds_by_name: dict[str, float] | None = None,
    label: str = "Load",
) -> LoadRun:
    """Locust with `users` users for `seconds` against `base_url`; rates per name over the seconds
    that name was requested (`seconds_by_name`), else over the whole run."""
    with tempfile.TemporaryDirectory(prefix="aha-locust-") as scratch:
        directory = Path(scratch)
        plan_path, outcomes_path = directory / "plan.json", directory / "outcomes.json"
        plan_path.write_text(
            json.dumps({**plan, "outcomes": str(outcomes_path), "marks": str(directory)})
        )
        command = [
            str(Path(sys.executable).with_name("locust")),
            f"--locustfile={LOCUSTFILE}",
            "--headless",
            f"--users={users}",
            f"--spawn-rate={users}",
            f"--run-time={seconds:g}s",
            f"--host={base_url}",
            f"--csv={directory / 'run'}",
            "--only-summary",
            f"--stop-timeout={STOP_SECONDS}",
            "--loglevel=WARNING",
        ]
        env = {**os.environ, "AHA_LOAD_PLAN": str(plan_path), "PYTHONPATH": str(settings.BASE_DIR)}
        server = _process_tree(server_pid)
        log_path = directory / "locust.log"
        with log_path.open("wb") as log:
            # The command is this interpreter's locust script with fixed arguments.
            process = subprocess.Popen(  # noqa: S603
                command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT
            )
            meter = CpuMeter(psutil.Process(process.pid), server, directory)
            _wait_with_progress(process, seconds, label, meter)
        cpu = meter.use()
        if process.returncode not in (0, 1) or not outcomes_path.exists():
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"Locust failed (exit {process.returncode}):\n{tail}")
        figures = read_stats(directory / "run_stats.csv", seconds_by_name or {}, seconds)
        error_lines = read_failures(directory / "run_failures.csv")
        errors = figures[AGGREGATED].failures if AGGREGATED in figures else 0
        return LoadRun(figures, errors, error_lines, Outcomes.load(outcomes_path), cpu)


def read_stats(path: Path, seconds_by_name: dict[str, float], seconds: float) -> dict[str, Figures]:
    """Locust's per-name statistics (its CSV), with each name's rate over its own seconds."""
    figures = {}
    with path.open(newline="") as rows:
        for row in csv.DictReader(rows):
            name = row["Name"]
            requests = int(row["Request Count"])
            span = seconds_by_name.get(name, seconds)
            figures[name] = Figures(
                name=name,
                requests=requests,
                failures=int(row["Failure Count"]),
                rps=requests / span if span else 0.0,
                p50=_ms(row["50%"]),
                p90=_ms(row["90%"]),
                p99=_ms(row["99%"]),
                max=_ms(row["Max Response Time"]),
            )
    return figures


def read_failures(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(newline="") as rows:
        return [
            f"{row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(rows)
        ]


def _ms(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "N/A" for a name with no request
        return 0.0


class CpuMeter:
    """CPU times of Locust, the server and the machine at the marks the Locust users leave when
    the load starts and stops, so Locust's own start-up and shutdown are not counted."""

    def __init__(
        self,
        locust: psutil.Process,
        server: list[psutil.Process],
        marks: Path,
    ) -> None:
        self.locust, self.server, self.marks = locust, server, marks
        self.readings: dict[str, tuple[float, float, float, dict[int, float], float]] = {}

    def poll(self) -> None:
        for mark in ("started", "stopped"):
            if mark not in self.readings and (self.marks / mark).exists():
                self.readings[mark] = (
                    time.monotonic(),
                    _cpu([self.locust]),
                    _cpu(self.server),
                    _backend_cpu(),
                    _busy(),
                )

    def use(self) -> CpuUse:
        if len(self.readings) < 2:
            raise RuntimeError("Locust did not report the start and the end of the load.")
        (t0, locust0, server0, db0, busy0), (t1, locust1, server1, db1, busy1) = (
            self.readings["started"],
            self.readings["stopped"],
        )
        return CpuUse(
            seconds=t1 - t0,
            locust=locust1 - locust0,
            server=server1 - server0,
            # A connection opened during the load counts from zero.
            database=sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items()),
            machine_busy=busy1 - busy0,
            cores=psutil.cpu_count() or 1,
        )


def _wait_with_progress(
    process: subprocess.Popen[bytes], seconds: float, label: str, meter: CpuMeter
) -> None:
    deadline = time.monotonic() + seconds + STOP_SECONDS + 30
    with progress_bar(f"{label} ({seconds:g} s)", total=seconds) as advance:
        started = time.monotonic()
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                break
            time.sleep(0.1)
            meter.poll()
            advance(min(time.monotonic() - started, seconds), absolute=True)
    process.wait()


def _backend_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend of the scratch database the server uses (its
    pooled connections), when PostgreSQL runs on this machine."""
    cpu = {}
    for pid in _database_backends():
        try:
            cpu[pid] = _cpu([psutil.Process(pid)])
        except psutil.Error:
            continue
    return cpu


def _database_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    return [pid for pid in pids if psutil.pid_exists(pid)]


def _process_tree(pid: int) -> list[psutil.Process]:
    master = psutil.Process(pid)
    return [master, *master.children(recursive=True)]


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _busy() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)
