"""Fault drills with real processes: PostgreSQL restarted under load (the site recovers by
itself), and Redis stopped and started under load ("Call me now" is saved while it is down and
its emails go out exactly once when it is back). Each drill restores the service it stops.

They stop services other test runs may share, so they run only with PostgreSQL and Redis
reachable and are skipped otherwise (a failure with REQUIRE_SERVICES=1)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings

from accounts.models import StoreAccount
from health.loadtest import server as servers
from health.loadtest.data import SimulatedSeller, create_sellers
from health.loadtest.outcomes import CANCEL_URL, CREATED
from health.models import CallbackRequest, EmailStatus, OutboxEmail
from health.tasks.emails import send_due_emails
from tests.conftest import REQUIRE_SERVICES, reachable, skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CONSOLE = {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
RECOVERY_SECONDS = 30
REDIS_PORT = 6379
HTMX = {"HX-Request": "true"}


@dataclass
class Traffic:
    """Dashboard requests from a few sellers in a background thread: (time, status or 0)."""

    results: list[tuple[float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def since(self, moment: float) -> list[int]:
        return [status for at, status in list(self.results) if at >= moment]

    def wait_for_successes(self, count: int, *, after: float, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            recent = self.since(after)
            if len(recent) >= count and all(status == 200 for status in recent[-count:]):
                return True
            time.sleep(0.1)
        return False


@contextmanager
def dashboard_traffic(sellers: list[SimulatedSeller], port: int) -> Iterator[Traffic]:
    traffic = Traffic()

    def one(seller: SimulatedSeller) -> None:
        while not traffic.stop.is_set():
            try:
                status, _body = http(port, seller, f"/stores/{seller.store_account_id}/")
            except (OSError, TimeoutError):
                status = 0
            traffic.results.append((time.monotonic(), status))
            time.sleep(0.05)

    threads = [threading.Thread(target=one, args=(seller,), daemon=True) for seller in sellers]
    for thread in threads:
        thread.start()
    try:
        yield traffic
    finally:
        traffic.stop.set()
        for thread in threads:
            thread.join(timeout=30)


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect (say, to the sign-in page) is an answer to see, not to follow."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


NO_REDIRECTS = urllib.request.build_opener(KeepRedirects)


def http(
    port: int,
    seller: SimulatedSeller,
    path: str,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, bytes]:
    """One request as the seller (its session and CSRF cookies): the status and the body."""
    cookie = "; ".join(f"{name}={value}" for name, value in seller.cookies.items())
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=urllib.parse.urlencode(form).encode() if form is not None else None,
        headers={"Cookie": cookie, **(headers or {})},
    )
    try:
        with NO_REDIRECTS.open(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def live_sellers(postgres) -> list[SimulatedSeller]:
    with override_settings(SECRET_KEY=settings.SECRET_KEY):
        return create_sellers(3, prefix="drill")


def server_env(redis_url: str | None) -> dict[str, str]:
    env = servers.server_env(
        database_url=servers.database_url(), secret_key=settings.SECRET_KEY, redis_url=redis_url
    )
    servers.collect_static(env)
    return env


# --- (a) PostgreSQL restarted under load ------------------------------------------------------


def postgres_version() -> str:
    versions = (
        sorted(Path("/etc/postgresql").glob("*/main")) if Path("/etc/postgresql").exists() else []
    )
    if not shutil.which("pg_ctlcluster") or not versions:
        skip_or_fail(
            "needs pg_ctlcluster and a local cluster to restart", required=REQUIRE_SERVICES
        )
    return versions[-1].parent.name


def pg_ctlcluster(version: str, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_postgresql_restart_under_load_the_site_recovers_by_itself(live_sellers) -> None:
    version = postgres_version()
    env = server_env(redis_url=None)
    try:
        with servers.gunicorn(env, servers.ServerOptions(workers=2)) as server:
            master = server.process.pid
            with dashboard_traffic(live_sellers, server.port) as traffic:
                assert traffic.wait_for_successes(10, after=0, seconds=RECOVERY_SECONDS)
                began = time.monotonic()
                restarted = pg_ctlcluster(version, "restart")
                assert restarted.returncode == 0, restarted.stderr
                back_at = time.monotonic()
                recovered = traffic.wait_for_successes(20, after=back_at, seconds=RECOVERY_SECONDS)
                failed = sum(status != 200 for status in traffic.since(began))
                answered = len(traffic.since(began))
            # The same gunicorn master served before and after: nothing was restarted for it.
            assert server.process.poll() is None and server.process.pid == master
            print(
                f"\nPostgreSQL restart took {back_at - began:.1f} s; since it began"
                f" {answered} requests, {failed} failed; recovered: {recovered}"
            )
            assert recovered, f"still failing {RECOVERY_SECONDS} s after the restart"
    finally:
        if pg_ctlcluster(version, "status").returncode != 0:
            pg_ctlcluster(version, "start")
        # This process's own connection died with the server: open a new one.
        connections.close_all()
    assert StoreAccount.objects.filter(pk=live_sellers[0].store_account_id).exists()


# --- (b) Redis stopped and started under load -------------------------------------------------


def redis_up() -> bool:
    return reachable(f"redis://127.0.0.1:{REDIS_PORT}", REDIS_PORT)


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextmanager
def redis_stopped() -> Iterator[None]:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], timeout=30)
    try:
        wait_until(lambda: not redis_up(), seconds=10, what="Redis to stop")
        yield
    finally:
        if not redis_up():
            subprocess.run(
                [
                    "redis-server",
                    "--daemonize",
                    "yes",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(REDIS_PORT),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                check=True,
                timeout=30,
            )
        wait_until(redis_up, seconds=10, what="Redis to start")


def call_me_now(port: int, seller: SimulatedSeller) -> int:
    """Press "Call me now" the way htmx does; the id of the request the server created."""

    status, body = http(
        port,
        seller,
        f"/stores/{seller.store_account_id}/callback/",
        {"phone": "", "topic": "Redis is down"},
        headers={**HTMX, **seller.csrf_headers},
        timeout=30,
    )
    assert status == 200 and CREATED in body, body[:500]
    return int(CANCEL_URL.search(body).group(1))


def test_redis_down_under_load_call_me_now_is_saved_and_emailed_once_when_back(
    live_sellers, start_worker, flush_redis
) -> None:
    env = server_env(redis_url=flush_redis)
    with (
        servers.gunicorn(env, servers.ServerOptions(workers=2)) as server,
        dashboard_traffic(live_sellers, server.port) as traffic,
    ):
        assert traffic.wait_for_successes(5, after=0, seconds=RECOVERY_SECONDS)
        with redis_stopped():
            down_at = time.monotonic()
            callbacks = [call_me_now(server.port, seller) for seller in live_sellers]
            during = traffic.since(down_at)
            # Saved with their outbox rows while the broker is away; nothing sent yet.
            assert CallbackRequest.objects.filter(pk__in=callbacks).count() == len(callbacks)
            keys = [f"callback_received:{pk}" for pk in callbacks]
            emails = OutboxEmail.objects.filter(key__in=keys)
            assert emails.count() == len(callbacks)
            assert set(emails.values_list("status", flat=True)) == {EmailStatus.PENDING}
        assert during and all(status == 200 for status in during), during
    print(f"\nRedis down: {len(during)} dashboard requests all answered, {len(callbacks)} saved")
    worker = start_worker(extra_env=CONSOLE)
    # The beat's sweeper sends what lost its kick; here the test plays the beat.
    send_due_emails.delay()
    wait_until(
        lambda: emails.filter(status=EmailStatus.SENT).count() == len(callbacks),
        seconds=RECOVERY_SECONDS,
        what="the worker to send the emails",
    )
    send_due_emails.delay()
    time.sleep(1.5)
    assert set(emails.values_list("attempts", flat=True)) == {1}
    subjects = set(emails.values_list("subject", flat=True))
    sent_lines = sum(
        any(f"Subject: {subject}" in line for subject in subjects) for line in worker.log
    )
    assert sent_lines == len(callbacks)
