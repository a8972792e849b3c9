"""Shared fixtures. Services (PostgreSQL, Redis) and Chromium are used where they are reachable;
REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 turn their absence into a failure instead of a skip."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.cache import caches

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM = "/usr/bin/chromium"


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def redis_available() -> bool:
    return bool(settings.REDIS_URL) and reachable(settings.REDIS_URL, 6379)


# Personal data and secrets that must never reach a log line, written independently of the
# site's own redaction (aha_site.observability.logs) so that they check it.
LEAKS = {
    "email address": re.compile(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", re.IGNORECASE),
    "phone number": re.compile(r"\+\d[\d \-]{7,}\d"),
    "bearer token": re.compile(r"(?i)\bbearer\s+(?!\[redacted\])\S"),
    "secret field": re.compile(
        r"(?i)\b(?:token|password|secret|sessionid|csrftoken)[\"']?\s*[=:]\s*[\"']?(?!\[redacted\])"
        r"[^\s\"',\[]{6,}"
    ),
}


def leaks_in(line: str) -> list[str]:
    """What kinds of personal data or secret the text holds."""
    return [kind for kind, pattern in LEAKS.items() if pattern.search(line)]


class LeakWatcher(logging.Handler):
    """Sees every record of the suite as the site would write it (a JSON line) and keeps those
    that hold personal data or a secret, with the test that logged them."""

    def __init__(self) -> None:
        from aha_site.observability.logs import JsonLinesFormatter

        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonLinesFormatter())
        self.leaks: list[tuple[str, list[str], str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = json.loads(self.format(record))
        except Exception as error:
            fields = {"message": f"unformattable record {record.msg!r}: {error}"}
        fields.pop("time", None)
        line = json.dumps(fields, ensure_ascii=False)
        if kinds := leaks_in(line):
            test = os.environ.get("PYTEST_CURRENT_TEST", "outside any test")
            self.leaks.append((test, kinds, line))


LEAK_WATCHER = LeakWatcher()


@pytest.fixture(autouse=True)
def no_personal_data_in_logs():
    """Fails a test whose log records hold an email address, a phone number or a token."""
    root = logging.getLogger()
    if LEAK_WATCHER not in root.handlers:
        root.addHandler(LEAK_WATCHER)
    before = len(LEAK_WATCHER.leaks)
    yield
    new = LEAK_WATCHER.leaks[before:]
    if new:
        pytest.fail(
            "personal data or a secret in the logs:\n"
            + "\n".join(f"{', '.join(kinds)}: {line}" for _test, kinds, line in new)
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Records logged outside any test (start-up, fixtures of the session) count too."""
    if LEAK_WATCHER.leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("Personal data or secrets in the logs:", red=True)
            for test, kinds, line in LEAK_WATCHER.leaks[:50]:
                reporter.write_line(f"  {test}: {', '.join(kinds)}: {line}")


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(LEAK_WATCHER)
    if REQUIRE_SERVICES:
        missing = []
        if not uses_postgres():
            missing.append("PostgreSQL (DATABASE_URL is not a reachable postgres:// URL)")
        if not redis_available():
            missing.append("Redis (REDIS_URL unset or unreachable)")
        if missing:
            pytest.exit("REQUIRE_SERVICES=1 but missing: " + "; ".join(missing), returncode=3)
    if REQUIRE_BROWSER and not shutil.which(CHROMIUM):
        pytest.exit(f"REQUIRE_BROWSER=1 but {CHROMIUM} is not installed", returncode=3)


@pytest.fixture(autouse=True)
def empty_cache(settings):
    """Every test starts with an empty in-process cache: a test database reuses the ids of an
    earlier run, so a chart cached in Redis under the same key would be served stale."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    caches["default"].clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Transactional tests restore the migrated data (marketplaces, the specialists group) when
    they end: a plain flush would leave every later test without it."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None or not marker.kwargs.get("transaction"):
            continue
        if not marker.kwargs.get("serialized_rollback"):
            kwargs = {**marker.kwargs, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


@pytest.fixture(autouse=True)
def migrated_data_restored(request: pytest.FixtureRequest) -> None:
    """A test that restores the migrated data must have found it to restore; otherwise its flush
    leaves every later test without marketplaces, and the failures show up far from here.
    Runs after the database set-up (pytest-django's autouse fixtures come first) and before the
    test's own fixtures, in the context the set-up ran in."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("serialized_rollback"):
        return
    from django.db import connection

    if not hasattr(connection, "_test_serialized_contents"):
        pytest.fail(
            "the database set-up ran on a connection without the serialized migrated data: was "
            "something that switches context (Playwright's sync API) started before it, in a "
            "module- or session-scoped fixture?"
        )


def skip_or_fail(reason: str, *, required: bool) -> None:
    if required:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def postgres() -> None:
    """Marks a test that needs PostgreSQL."""
    if not uses_postgres():
        skip_or_fail("needs PostgreSQL (set DATABASE_URL)", required=REQUIRE_SERVICES)


@pytest.fixture
def redis_url() -> str:
    """The broker URL of a reachable Redis."""
    if not redis_available():
        skip_or_fail("needs Redis (set REDIS_URL)", required=REQUIRE_SERVICES)
    return settings.REDIS_URL


@pytest.fixture
def client():
    """pytest-django's client, posting forms URL-encoded as a browser does (tests/client.py)."""
    from tests.client import Client

    return Client()


@pytest.fixture
def verified_staff_client():
    """A factory: a test client signed in as a staff user whose second factor is verified."""
    from tests.client import Client
    from tests.security.two_factor import verified_login

    def sign_in(user, *, enforce_csrf_checks: bool = False) -> Client:
        return verified_login(Client(enforce_csrf_checks=enforce_csrf_checks), user)

    return sign_in


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        skip_or_fail(f"needs Chromium at {CHROMIUM}", required=REQUIRE_BROWSER)
    return CHROMIUM


AXE = "node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script for the accessibility tests, from the npm registry as package-lock.json
    pins it: `npm ci` installs it when node_modules lacks it. Never from a CDN: the test runs
    offline, and the pages' CSP would refuse a third-party script anyway."""
    path = settings.BASE_DIR / AXE
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None:
            skip_or_fail(
                "needs npm to install axe-core (package-lock.json)", required=REQUIRE_BROWSER
            )
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not path.exists():
            pytest.fail(f"npm ci did not install axe-core: {done.stderr[-2000:]}")
    return path.read_text()


def database_url_for_subprocess() -> str:
    """The URL of the database this test is using (the test database), for child processes."""
    from django.db import connection

    params = connection.settings_dict
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


@pytest.fixture
def flush_redis(redis_url: str) -> str:
    """A clean broker database for this test."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


@pytest.fixture
def start_worker(postgres, flush_redis):
    """Starts real `celery worker` processes on the test database; all are killed afterwards.

    Needs `@pytest.mark.django_db(transaction=True)` so the worker sees committed rows."""
    import signal
    import subprocess
    import sys
    import threading
    import time

    processes: list[subprocess.Popen[str]] = []

    def start(*, concurrency: int = 1, extra_env: dict[str, str] | None = None):
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "REDIS_URL": flush_redis,
            "DJANGO_SETTINGS_MODULE": "aha_site.settings",
            **(extra_env or {}),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "aha_site",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test{len(processes)}@%h",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=settings.BASE_DIR,
            start_new_session=True,
        )
        processes.append(process)
        ready = threading.Event()
        process.log = []  # type: ignore[attr-defined]

        def pump() -> None:
            for line in process.stdout:  # type: ignore[union-attr]
                process.log.append(line)  # type: ignore[attr-defined]
                if " ready." in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 30
        while not ready.is_set():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start:\n" + "".join(process.log))
            time.sleep(0.05)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
