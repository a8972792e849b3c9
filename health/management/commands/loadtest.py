"""`manage.py loadtest`: N simulated sellers (Locust users, headless) against gunicorn for a
while, then a check that every request the server accepted is in the database (quality.md,
Reliability: Load), and the CPU Locust used beside the server's. PostgreSQL only; it builds and
drops its own scratch database on the server of DATABASE_URL.

With REDIS_URL set, the server enqueues emails there and a worker started here sends them: point
REDIS_URL at a broker database no other worker uses, or a stranger's worker takes the tasks."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import asdict

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.utils import get_random_secret_key
from django.db import connection
from django.test import override_settings

from health.loadtest import server as servers
from health.loadtest.data import SimulatedSeller, create_sellers
from health.loadtest.locust import AGGREGATED, LoadRun, run_locust
from health.loadtest.verify import Verification, verify, wait_for_emails
from health.management.commands.bench_day_close import scratch_database

EMAIL_WAIT_SECONDS = 60


class Command(BaseCommand):
    help = "Load test: N simulated sellers against gunicorn, then check nothing was lost."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sellers", type=int, default=200, help="Concurrent sellers.")
        parser.add_argument("--duration", type=float, default=60, help="Seconds of load.")
        servers.add_server_arguments(parser)
        parser.add_argument("--database", default="aha_loadtest", help="Scratch database name.")

    def handle(self, *args: object, **options: object) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "The load test needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/db "
                "(it creates and drops its own scratch database on that server)."
            )
        count, seconds = int(options["sellers"]), float(options["duration"])
        if count < 1 or seconds <= 0:
            raise CommandError("--sellers and --duration must be positive.")
        server_options = servers.server_options(options)
        secret_key = get_random_secret_key()
        with scratch_database(str(options["database"])):
            # The sessions are signed with the key the server will run with.
            with override_settings(SECRET_KEY=secret_key):
                self.stdout.write(f"Creating {count} sellers in {options['database']}")
                sellers = create_sellers(count)
            env = servers.server_env(
                database_url=servers.database_url(),
                secret_key=secret_key,
                redis_url=settings.REDIS_URL,
            )
            servers.collect_static(env)
            load, verification = self.run_load(sellers, env, server_options, seconds)
        self.report(load, verification, count, seconds, server_options)
        if load.errors or verification.lost or verification.problems:
            raise CommandError("The load test failed: errors or lost requests (see above).")

    def run_load(
        self,
        sellers: list[SimulatedSeller],
        env: dict[str, str],
        options: servers.ServerOptions,
        seconds: float,
    ) -> tuple[LoadRun, Verification]:
        with ExitStack() as stack:
            server = stack.enter_context(servers.gunicorn(env, options))
            if settings.REDIS_URL:
                stack.enter_context(servers.celery_worker(env))
            self.stdout.write(
                f"gunicorn on port {server.port}: {options.workers} workers x"
                f" {options.threads} threads; {len(sellers)} sellers (Locust users) for"
                f" {seconds:g} s"
            )
            plan = {
                "mode": "loadtest",
                "host": servers.HOST,
                "sellers": [asdict(seller) for seller in sellers],
            }
            load = run_locust(
                plan=plan,
                users=len(sellers),
                seconds=seconds,
                base_url=server.base_url,
                server_pid=server.process.pid,
            )
            if server.process.poll() is not None:
                raise CommandError("gunicorn died during the load:\n" + server.log_tail())
            verification = verify(sellers, load.outcomes)
            if settings.REDIS_URL:
                wait_for_emails(load.outcomes, verification, seconds=EMAIL_WAIT_SECONDS)
        return load, verification

    def report(
        self,
        load: LoadRun,
        verification: Verification,
        count: int,
        seconds: float,
        options: servers.ServerOptions,
    ) -> None:
        self.stdout.write(
            f"\nLoad: {count} sellers for {seconds:g} s against gunicorn"
            f" ({options.workers} workers x {options.threads} threads), driven by Locust"
        )
        self.stdout.write(
            f"  {'endpoint':<20} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8}"
            f" {'p99 ms':>8} {'max ms':>8}"
        )
        for name, f in sorted(load.figures.items(), key=lambda item: item[0] == AGGREGATED):
            label = "all" if name == AGGREGATED else name
            self.stdout.write(
                f"  {label:<20} {f.requests:>9,} {f.rps:>8.1f} {f.p50:>8.0f} {f.p90:>8.0f}"
                f" {f.p99:>8.0f} {f.max:>8.0f}"
            )
        self.stdout.write(f"  errors: {load.errors}")
        for line in load.error_lines[:10]:
            self.stdout.write(self.style.ERROR(f"    {line}"))
        self.stdout.write("\nCPU during the load (the server, not Locust, should be the limit)")
        for line in load.cpu.lines():
            self.stdout.write(line)
        outcomes = load.outcomes
        created = sum(len(ids) for ids in outcomes.created.values())
        cancelled = sum(len(ids) for ids in outcomes.cancelled.values())
        self.stdout.write(
            f"\nAccepted: {created} callback requests, {cancelled} cancellations,"
            f" {len(outcomes.acknowledged)} acknowledged cases; refused by the limits:"
            f" {outcomes.refused}; shown the open request instead: {outcomes.already_open}"
        )
        self.stdout.write(
            f"Outbox: {verification.emails_queued} of {created} callback emails queued"
            + (f", {verification.emails_sent} sent by the worker" if settings.REDIS_URL else "")
        )
        for problem in verification.problems[:20]:
            self.stdout.write(self.style.ERROR(f"  {problem}"))
        verdict = self.style.SUCCESS if not verification.lost else self.style.ERROR
        self.stdout.write(verdict(f"lost: {verification.lost}"))
