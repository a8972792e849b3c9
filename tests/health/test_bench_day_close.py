"""`manage.py bench_day_close` on PostgreSQL at a tiny N: every step of the benchmark runs, every
goal is judged, and its scratch databases are gone afterwards. The figures themselves are not
checked here (performance goals are met in the benchmark, never in timed tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import database_url_for_subprocess

ROOT = Path(__file__).resolve().parents[2]
GOAL_LINES = (
    "1 process, scaled to 1M accounts",
    "2 processes, scaled to 1M accounts",
    "2 processes / database floor",
    "ORM loop / our day close",
    "speed-up with 2 processes",
    "400 / 30 days of history",
)
REPEATED = re.compile(r"\b(best|median) of \d+\.\d\d, \d+\.\d\d, \d+\.\d\d$")


def scratch_databases(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{prefix}%"])
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.django_db
def test_the_benchmark_runs_every_measurement_and_judges_every_goal(postgres) -> None:
    name = f"aha_bench_smoke_{os.getpid()}"
    command = [
        sys.executable,
        "manage.py",
        "bench_day_close",
        "--accounts=300",
        "--orm-sample=30",
        "--history-accounts=60",
        f"--database={name}",
        "--verbosity=0",
    ]
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess()}

    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "Closing one day for 300 store accounts (PostgreSQL)" in done.stdout
    for line in GOAL_LINES:
        assert line in done.stdout
    judged = [line for line in done.stdout.splitlines() if " goal " in line]
    assert len(judged) == len(GOAL_LINES)
    assert all(line.endswith(("met", "NOT met")) for line in judged)
    # The floor is the best of three, each of our figures the median of three nights, and each
    # is shown with the measurements it was chosen from.
    repeated = [REPEATED.search(line) for line in done.stdout.splitlines()]
    assert [found.group(1) for found in repeated if found] == ["best"] + ["median"] * 4
    assert scratch_databases(name) == []


@pytest.mark.django_db
def test_the_scratch_database_cannot_be_the_projects_own(postgres) -> None:
    # The test database stands for the project's own: were the check missing, only it is lost.
    own = connection.settings_dict["NAME"]
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess()}

    done = subprocess.run(
        [sys.executable, "manage.py", "bench_day_close", "--accounts=10", f"--database={own}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert "must not be the project's own" in done.stderr
