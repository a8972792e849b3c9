"""Real server processes for the load test: gunicorn on a port the system picks, and a Celery worker
when there is a broker, both on the database the caller names."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection

HOST = "127.0.0.1"
STARTUP_SECONDS = 60
STOP_SECONDS = 10


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How gunicorn runs: sync workers (threads=1) or gthread workers with threads."""

    # Measured on the 2-core machine with the load test: 2 gthread workers x 4 threads served
    # about 1.5x the requests of 4 sync workers, and 4 x 4 less than both (keep-alive, and
    # threads overlap database round trips; more processes only fight over the two cores).
    # The dashboard benchmark agrees: with sessions from Redis, 2 x 4 served about 1.5x the
    # requests of 4 (and of 3) sync workers, with a lower p99, on both views (each sync request
    # also pays for a new connection).
    workers: int = 2
    threads: int = 4
    port: int | None = None


def add_server_arguments(parser: Any) -> None:
    """The gunicorn flags the load test and the dashboard benchmark share."""
    defaults = ServerOptions()
    parser.add_argument(
        "--workers", type=int, default=defaults.workers, help="gunicorn worker processes."
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=defaults.threads,
        help="Threads per worker (>1: gthread workers).",
    )


def server_options(options: dict[str, Any]) -> ServerOptions:
    """ServerOptions from the parsed --workers and --threads."""
    return ServerOptions(workers=int(options["workers"]), threads=int(options["threads"]))


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def database_url() -> str:
    """The URL of the database this process is connected to, for the child processes."""
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or HOST
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def bound_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound on HOST, to port 0 unless asked: the system picks a free port and it is
    ours from that moment, so no other process can take it between a probe and the bind."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, port))
    sock.set_inheritable(True)
    return sock


def server_env(
    *,
    database_url: str,
    secret_key: str,
    redis_url: str | None,
    cache_url: str | None = None,
    cache_prefix: str = "",
) -> dict[str, str]:
    """Production settings over plain HTTP on 127.0.0.1, pooled connections, no real email;
    with `cache_url`, the shared cache (and so sessions from it) under its own key prefix."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("REDIS_URL", "TEST_DATABASE_NAME", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="aha_site.settings",
        DEBUG="0",
        # Plain HTTP on the loopback: without HTTPS the cookies keep their plain names.
        SECURE_HTTPS="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url,
        DB_POOL="1",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    if cache_url:
        env.update(CACHE_URL=cache_url, CACHE_KEY_PREFIX=cache_prefix or "aha-cache")
    return env


@contextmanager
def scratch_cache_prefix(cache_url: str | None) -> Iterator[str]:
    """A key prefix of the server's own in the shared cache, its keys deleted afterwards, so no
    page or session of the scratch database (whose ids repeat) is left for a real one."""
    prefix = f"aha-scratch-{os.getpid()}-{int(time.time())}"
    try:
        yield prefix
    finally:
        if cache_url:
            client = redis.Redis.from_url(cache_url, socket_timeout=5)
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])


def collect_static(env: dict[str, str]) -> None:
    """DEBUG=0 serves the hashed files of the manifest, so they must be collected first."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
    )


@contextmanager
def gunicorn(env: dict[str, str], options: ServerOptions = ServerOptions()) -> Iterator[Server]:
    """gunicorn serving the site until the block ends; waits for /healthz before yielding."""
    # gunicorn takes the socket already bound (--bind fd://N) and listens on it.
    with bound_socket(options.port or 0) as sock:
        port = sock.getsockname()[1]
        worker_class = "gthread" if options.threads > 1 else "sync"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "aha_site.wsgi",
            f"--bind=fd://{sock.fileno()}",
            f"--workers={options.workers}",
            f"--worker-class={worker_class}",
            f"--threads={options.threads}",
            "--keep-alive=5",
            "--backlog=2048",
            "--timeout=60",
            "--graceful-timeout=5",
        ]
        with _process(command, env, "gunicorn", pass_fds=(sock.fileno(),)) as (process, log_path):
            sock.close()  # gunicorn holds its own copy now
            server = Server(port=port, process=process, log_path=log_path)
            wait_until_serving(server)
            yield server


@contextmanager
def celery_worker(env: dict[str, str], *, concurrency: int = 1) -> Iterator[Server]:
    """One Celery worker on the same database and broker as the server."""
    command = [
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
        f"--hostname=loadtest{os.getpid()}@%h",
    ]
    with _process(command, env, "celery") as (process, log_path):
        worker = Server(port=0, process=process, log_path=log_path)
        _wait_for_log(worker, " ready.")
        yield worker


@contextmanager
def _process(
    command: list[str], env: dict[str, str], name: str, *, pass_fds: tuple[int, ...] = ()
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    with tempfile.NamedTemporaryFile(prefix=f"aha-{name}-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        # The command is built here from fixed arguments and this interpreter's path.
        process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )
    try:
        yield process, log_path
    finally:
        stop(process)
        log_path.unlink(missing_ok=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    """TERM the process group (the master and its workers), KILL it if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


def wait_until_serving(server: Server, *, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("gunicorn exited at start:\n" + server.log_tail())
        try:
            with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz:\n" + server.log_tail())


def _wait_for_log(server: Server, text: str, *, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while text not in server.log_path.read_text(errors="replace"):
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the worker did not start:\n" + server.log_tail())
        time.sleep(0.1)
