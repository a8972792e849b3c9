"""The load test: its parts on any database, and a short run against gunicorn on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from health.loadtest.data import CSRF_COOKIE, SESSION_COOKIE, create_sellers
from health.loadtest.locust import AGGREGATED, Phase, bench_phases, read_stats
from health.loadtest.outcomes import Outcomes
from health.loadtest.verify import verify
from health.models import CallbackRequest, CaseStatus, OutboxEmail
from tests.client import Client
from tests.conftest import redis_available

STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,"
    "80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def test_figures_are_read_from_locusts_statistics_with_each_rate_over_its_own_seconds(
    tmp_path,
) -> None:
    stats = tmp_path / "run_stats.csv"
    stats.write_text(
        STATS_HEADER
        + "\nGET,trivial,1000,0,9,9.5,2,40,50,99.0,0,9,10,11,12,14,16,20,25,38,40,40"
        + "\nGET,cold,100,2,150,160,80,300,9000,9.9,0,150,160,170,180,200,220,250,290,300,300,300"
        + "\n,Aggregated,1100,2,10,20,2,300,800,110,0,10,11,12,13,20,30,150,200,300,300,300\n"
    )
    figures = read_stats(stats, {"trivial": 10.0, "cold": 5.0}, seconds=40.0)
    assert (figures["trivial"].rps, figures["trivial"].p50, figures["trivial"].p99) == (
        100.0,
        9.0,
        25.0,
    )
    assert (figures["cold"].rps, figures["cold"].failures, figures["cold"].max) == (20.0, 2, 300.0)
    # A name without seconds of its own (the total) is over the whole run.
    assert figures[AGGREGATED].rps == 1100 / 40.0


def test_the_benchmark_warms_up_then_takes_turns_between_its_three_views() -> None:
    phases = bench_phases(10.0)
    assert [phase.view for phase in phases] == [
        "trivial",
        "dashboard",
        *(["trivial", "dashboard", "cold"] * 2),
    ]
    assert all(a.end == b.start for a, b in itertools.pairwise(phases))
    assert Phase.seconds_by_name(phases) == {
        "warm-up": 4.0,
        "trivial": 10.0,
        "dashboard": 10.0,
        "cold": 10.0,
    }


def test_outcomes_come_back_from_the_locust_process_as_they_were(tmp_path) -> None:
    outcomes = Outcomes(refused=2, already_open=3)
    outcomes.created[7].update({11, 12})
    outcomes.cancelled[7].add(12)
    outcomes.acknowledged.add(99)
    outcomes.save(tmp_path / "outcomes.json")
    again = Outcomes.load(tmp_path / "outcomes.json")
    assert again == outcomes
    assert again.accepted == 4


@pytest.mark.django_db
def test_ready_made_sessions_sign_in_and_pass_the_csrf_check() -> None:
    [seller] = create_sellers(1)
    client = Client(enforce_csrf_checks=True)
    client.cookies[SESSION_COOKIE] = seller.session_key
    client.cookies[CSRF_COOKIE] = seller.csrf_token
    dashboard = reverse("health:dashboard", args=[seller.store_account_id])
    assert client.get(dashboard).status_code == 200
    answer = client.post(
        reverse("health:request_callback", args=[seller.store_account_id]),
        {"phone": "", "topic": "help"},
        headers={"HX-Request": "true", **seller.csrf_headers},
    )
    assert answer.status_code == 200 and b"message-success" in answer.content
    callback = CallbackRequest.objects.get(seller_id=seller.seller_id)
    assert OutboxEmail.objects.filter(key=f"callback_received:{callback.pk}").exists()


@pytest.mark.django_db
def test_verification_finds_lost_and_unanswered_requests() -> None:
    sellers = create_sellers(2)
    first, second = sellers
    answered = CallbackRequest.objects.create(
        seller_id=first.seller_id, phone="+48512345678", topic=""
    )
    unanswered = CallbackRequest.objects.create(
        seller_id=second.seller_id, phone="+48512345678", topic=""
    )
    outcomes = Outcomes()
    outcomes.created[first.seller_id] = {answered.pk, 999_999}
    outcomes.acknowledged = {second.case_id}
    result = verify(sellers, outcomes)
    # Lost: a callback answered as created but missing, its email, and the acknowledgement.
    assert result.lost == 4
    assert any(f"callback {unanswered.pk}" in problem for problem in result.problems)
    assert all(str(first.case_id) not in p for p in result.problems if "case" in p)
    assert CaseStatus.OPEN in " ".join(result.problems)


def test_load_test_command_needs_postgresql() -> None:
    env = {**os.environ, "DATABASE_URL": "sqlite:///:memory:"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "loadtest", "--sellers", "1", "--duration", "1"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "needs PostgreSQL" in result.stderr


def test_short_load_test_against_gunicorn_loses_nothing(postgres) -> None:
    env = dict(os.environ)
    if not redis_available():
        env.pop("REDIS_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "loadtest",
            "--sellers=20",
            "--duration=5",
            "--database=aha_loadtest_short",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "errors: 0" in result.stdout
    assert "lost: 0" in result.stdout
    assert "dashboard" in result.stdout
    # Locust measured itself beside the server.
    assert "Locust (load generator):" in result.stdout
    assert "gunicorn (master+workers):" in result.stdout


def test_short_dashboard_benchmark_measures_the_three_views(postgres) -> None:
    env = {**os.environ}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "bench_dashboard",
            "--clients=2",
            "--seconds=2",
            "--cold-pages=200",
            "--database=aha_bench_dashboard_short",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for line in (
        "trivial /healthz/db",
        "seller dashboard (cached)",
        "dashboard, cache miss",
        "errors: 0",
        "cache miss req/s / trivial req/s",
        "cache miss p99 / trivial p99",
        "Locust (load generator):",
    ):
        assert line in result.stdout, line
    assert "cold pages ran out" not in result.stdout


def test_the_load_test_server_socket_is_bound_by_the_system() -> None:
    from health.loadtest.server import bound_socket

    with bound_socket() as first, bound_socket() as second:
        ports = {first.getsockname()[1], second.getsockname()[1]}
        assert len(ports) == 2 and 0 not in ports
        # Bound from the start: nothing else can take the port before gunicorn listens on it.
        with pytest.raises(OSError), bound_socket(first.getsockname()[1]) as _again:
            pass
