"""`manage.py bench_dashboard`: the seller dashboard under gunicorn with pooled connections
against a trivial one-query view (/healthz/db) on the same server in the same run, and the
dashboard's page weight (quality.md, Performance). PostgreSQL only; it builds and drops its own
scratch database on the server of DATABASE_URL."""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.utils import get_random_secret_key
from django.db import connection
from django.test import override_settings

from health.loadtest import bench
from health.loadtest import server as servers
from health.loadtest.data import SimulatedSeller, create_sellers
from health.loadtest.http import HttpClient
from health.loadtest.stats import Recorder
from health.management.commands.bench_day_close import scratch_database

# The goals of quality.md.
GOAL_SHARE_OF_TRIVIAL = 0.35
GOAL_P99_MS = 30.0
GOAL_PAGE_KB = 120
TRIVIAL = "/healthz/db"
WARM_UP_SECONDS = 2.0
# The two views take turns, so drift on a shared machine hits both alike.
ROUNDS = 2


class Command(BaseCommand):
    help = "Benchmark the seller dashboard against a one-query view under gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=8, help="Concurrent clients.")
        parser.add_argument("--seconds", type=float, default=10, help="Seconds per view.")
        servers.add_server_arguments(parser)
        parser.add_argument(
            "--profile", type=int, default=0, help="Also cProfile this many dashboard requests."
        )
        parser.add_argument("--database", default="aha_bench_dashboard", help="Scratch database.")

    def handle(self, *args: object, **options: object) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "The benchmark needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/db "
                "(it creates and drops its own scratch database on that server)."
            )
        clients, seconds = int(options["clients"]), float(options["seconds"])
        server_options = servers.server_options(options)
        secret_key = get_random_secret_key()
        cache_url = settings.CACHE_URL
        with (
            scratch_database(str(options["database"])),
            servers.scratch_cache_prefix(cache_url) as cache_prefix,
        ):
            with override_settings(SECRET_KEY=secret_key):
                sellers = create_sellers(clients, prefix="bench")
            # As in production: the shared cache when there is one (CACHE_URL, else REDIS_URL),
            # which also holds the sessions; tasks run in-process.
            env = servers.server_env(
                database_url=servers.database_url(),
                secret_key=secret_key,
                redis_url=None,
                cache_url=cache_url,
                cache_prefix=cache_prefix,
            )
            servers.collect_static(env)
            with servers.gunicorn(env, server_options) as server:
                self.stdout.write(
                    f"gunicorn on port {server.port}: {server_options.workers} workers x"
                    f" {server_options.threads} threads; {clients} clients, {seconds:g} s a view;"
                    f" cache: {'Redis (sessions too)' if cache_url else 'in-process memory'}"
                )
                trivial, dashboard, weight = asyncio.run(
                    self.measure(sellers, server.port, seconds)
                )
            if options["profile"]:
                self.stdout.write(bench.profile_dashboard(sellers[0], requests=options["profile"]))
        self.report(trivial, dashboard, weight)

    async def measure(
        self, sellers: list[SimulatedSeller], port: int, seconds: float
    ) -> tuple[Recorder, Recorder, bench.PageWeight]:
        clients = [HttpClient(port, cookies=seller.cookies) for seller in sellers]
        dashboards = [f"/stores/{seller.store_account_id}/" for seller in sellers]
        trivials = [TRIVIAL] * len(sellers)
        try:
            warm = Recorder()
            for paths in (trivials, dashboards):
                await bench.closed_loop(
                    clients, paths, seconds=WARM_UP_SECONDS, recorder=warm, name="warm-up"
                )
            trivial, dashboard = Recorder(), Recorder()
            for _ in range(ROUNDS):
                for recorder, paths in ((trivial, trivials), (dashboard, dashboards)):
                    self.stdout.write(f"  {'dashboard' if paths is dashboards else TRIVIAL} ...")
                    await self.timed_round(clients, paths, recorder, seconds / ROUNDS)
            weight = await bench.page_weight(clients[0], dashboards[0])
        finally:
            for client in clients:
                await client.close()
        return trivial, dashboard, weight

    @staticmethod
    async def timed_round(
        clients: list[HttpClient], paths: list[str], recorder: Recorder, seconds: float
    ) -> None:
        one_round = Recorder()
        await bench.closed_loop(clients, paths, seconds=seconds, recorder=one_round, name="view")
        one_round.stop()
        recorder.merge(one_round)

    def report(self, trivial: Recorder, dashboard: Recorder, weight: bench.PageWeight) -> None:
        t, d = trivial.summary("view"), dashboard.summary("view")
        self.stdout.write(
            f"\n  {'view':<22} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        )
        for label, s in ((f"trivial {TRIVIAL}", t), ("seller dashboard", d)):
            self.stdout.write(
                f"  {label:<22} {s['requests']:>9,.0f} {s['rps']:>8.1f} {s['p50']:>8.1f}"
                f" {s['p99']:>8.1f}"
            )
        errors = trivial.error_count + dashboard.error_count
        self.stdout.write(f"  errors: {errors}")
        self.stdout.write("\nPage weight of the dashboard (as transferred, br/gzip accepted)")
        self.stdout.write(f"  HTML {weight.html:>9,} bytes")
        for url, size in weight.assets.items():
            self.stdout.write(f"  {url} {size:,} bytes")
        if weight.foreign:
            self.stdout.write(f"  third-party: {', '.join(weight.foreign)}")
        share = d["rps"] / t["rps"] if t["rps"] else 0.0
        checks = [
            (
                "dashboard req/s / trivial req/s",
                share * 100,
                "%",
                ">=",
                GOAL_SHARE_OF_TRIVIAL * 100,
            ),
            ("dashboard p99", d["p99"], "ms", "<=", GOAL_P99_MS),
            ("page weight", weight.total / 1024, "KB", "<=", GOAL_PAGE_KB),
            ("third-party hosts", len(weight.foreign), "", "<=", 0),
        ]
        self.stdout.write("\nAgainst the goals of quality.md")
        for label, value, unit, sense, goal in checks:
            met = value <= goal if sense == "<=" else value >= goal
            verdict = self.style.SUCCESS("met") if met else self.style.WARNING("NOT met")
            self.stdout.write(
                f"  {label:<34} {value:8.1f} {unit:<2}  goal {sense} {goal:g}  {verdict}"
            )
        if errors:
            raise CommandError("Requests failed during the benchmark.")
