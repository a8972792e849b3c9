"""`manage.py bench_dashboard`: the seller dashboard under gunicorn with pooled connections
against a trivial one-query view (/healthz/db) on the same server in the same run, cached and on
a cache miss (each request another seller's page, as the morning after a close), and the
dashboard's page weight (quality.md, Performance). Locust drives the clients, headless, and its
CPU use is reported beside the server's. PostgreSQL only; it builds and drops its own scratch
database on the server of DATABASE_URL."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.utils import get_random_secret_key
from django.db import connection
from django.test import override_settings

from health.loadtest import bench
from health.loadtest import server as servers
from health.loadtest.data import create_sellers
from health.loadtest.locust import AGGREGATED, Figures, LoadRun, Phase, bench_phases, run_locust
from health.management.commands.bench_day_close import scratch_database

# The goals of quality.md (Performance): the dashboard's requests/s as a share of the trivial
# view's, cached and on a cache miss, and its p99 against the trivial view's p99.
GOAL_SHARE_OF_TRIVIAL = 0.35
GOAL_COLD_SHARE_OF_TRIVIAL = 0.20
GOAL_P99_OF_TRIVIAL = 1.5
GOAL_P99_MS = 30.0
GOAL_PAGE_KB = 120
TRIVIAL = "/healthz/db"
# A cold page per request: more than the cold phases can request at the rates measured here
# (about 10 s in all at a few hundred requests a second); a repeat is reported, not hidden.
DEFAULT_COLD_PAGES = 2000


class Command(BaseCommand):
    help = "Benchmark the seller dashboard (cached and on a cache miss) against a one-query view."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=8, help="Concurrent clients.")
        parser.add_argument("--seconds", type=float, default=10, help="Seconds per view.")
        parser.add_argument(
            "--cold-pages",
            type=int,
            default=DEFAULT_COLD_PAGES,
            help="Sellers whose pages are each requested once (the cache-miss view).",
        )
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
        cold_pages = int(options["cold_pages"])
        if clients < 1 or seconds <= 0 or cold_pages < clients:
            raise CommandError("--clients and --seconds must be positive, --cold-pages >= clients.")
        server_options = servers.server_options(options)
        secret_key = get_random_secret_key()
        cache_url = settings.CACHE_URL
        with (
            scratch_database(str(options["database"])),
            servers.scratch_cache_prefix(cache_url) as cache_prefix,
        ):
            with override_settings(SECRET_KEY=secret_key):
                self.stdout.write(f"Creating {clients} + {cold_pages} sellers")
                sellers = create_sellers(clients, prefix="bench")
                cold = create_sellers(cold_pages, prefix="cold")
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
            phases = bench_phases(seconds)
            with servers.gunicorn(env, server_options) as server:
                self.stdout.write(
                    f"gunicorn on port {server.port}: {server_options.workers} workers x"
                    f" {server_options.threads} threads; {clients} clients (Locust users),"
                    f" {seconds:g} s a view; cache:"
                    f" {'Redis (sessions too)' if cache_url else 'in-process memory'}"
                )
                load = run_locust(
                    plan={
                        "mode": "bench",
                        "host": servers.HOST,
                        "clients": clients,
                        "trivial": TRIVIAL,
                        "sellers": [asdict(seller) for seller in sellers],
                        "cold_sellers": [asdict(seller) for seller in cold],
                        "phases": [list(phase) for phase in phases],
                    },
                    users=clients,
                    seconds=phases[-1].end,
                    base_url=server.base_url,
                    server_pid=server.process.pid,
                    seconds_by_name=Phase.seconds_by_name(phases),
                    label="Benchmark",
                )
                first = sellers[0]
                cookie = f"sessionid={first.session_key}; csrftoken={first.csrf_token}"
                weight = bench.page_weight(
                    server.base_url, f"/stores/{first.store_account_id}/", cookie=cookie
                )
            if options["profile"]:
                self.stdout.write(bench.profile_dashboard(sellers[0], requests=options["profile"]))
        self.report(load, weight)

    def report(self, load: LoadRun, weight: bench.PageWeight) -> None:
        views = load.figures
        t, d, c = (views.get(name) or _none(name) for name in ("trivial", "dashboard", "cold"))
        self.stdout.write(
            f"\n  {'view':<30} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        )
        for label, f in (
            (f"trivial {TRIVIAL}", t),
            ("seller dashboard (cached)", d),
            ("dashboard, cache miss", c),
        ):
            self.stdout.write(
                f"  {label:<30} {f.requests:>9,} {f.rps:>8.1f} {f.p50:>8.0f} {f.p99:>8.0f}"
            )
        repeats = views.get("cold pages used up")
        if repeats:
            self.stdout.write(
                self.style.WARNING(
                    f"  {repeats.requests} requests after the cold pages ran out (not counted);"
                    " raise --cold-pages"
                )
            )
        errors = views[AGGREGATED].failures if AGGREGATED in views else 0
        self.stdout.write(f"  errors: {errors}")
        for line in load.error_lines[:10]:
            self.stdout.write(self.style.ERROR(f"    {line}"))
        self.stdout.write("\nCPU while measuring (the server, not Locust, should be the limit)")
        for line in load.cpu.lines():
            self.stdout.write(line)
        self.stdout.write("\nPage weight of the dashboard (as transferred, br/gzip accepted)")
        self.stdout.write(f"  HTML {weight.html:>9,} bytes")
        for url, size in weight.assets.items():
            self.stdout.write(f"  {url} {size:,} bytes")
        if weight.foreign:
            self.stdout.write(f"  third-party: {', '.join(weight.foreign)}")
        self.goals(t, d, c, weight)
        if errors:
            raise CommandError("Requests failed during the benchmark.")

    def goals(self, t: Figures, d: Figures, c: Figures, weight: bench.PageWeight) -> None:
        def ratio(a: float, b: float) -> float:
            return a / b if b else 0.0

        checks = [
            (
                "dashboard req/s / trivial req/s",
                100 * ratio(d.rps, t.rps),
                "%",
                ">=",
                100 * GOAL_SHARE_OF_TRIVIAL,
            ),
            ("dashboard p99 / trivial p99", ratio(d.p99, t.p99), "x", "<=", GOAL_P99_OF_TRIVIAL),
            ("dashboard p99", d.p99, "ms", "<=", GOAL_P99_MS),
            (
                "cache miss req/s / trivial req/s",
                100 * ratio(c.rps, t.rps),
                "%",
                ">=",
                100 * GOAL_COLD_SHARE_OF_TRIVIAL,
            ),
            ("cache miss p99 / trivial p99", ratio(c.p99, t.p99), "x", "<=", GOAL_P99_OF_TRIVIAL),
            ("page weight", weight.total / 1024, "KB", "<=", GOAL_PAGE_KB),
            ("third-party hosts", len(weight.foreign), "", "<=", 0),
        ]
        self.stdout.write("\nAgainst the goals of quality.md")
        for label, value, unit, sense, goal in checks:
            met = value <= goal if sense == "<=" else value >= goal
            verdict = self.style.SUCCESS("met") if met else self.style.WARNING("NOT met")
            self.stdout.write(
                f"  {label:<34} {value:8.2f} {unit:<2}  goal {sense} {goal:g}  {verdict}"
            )


def _none(name: str) -> Figures:
    return Figures(name=name, requests=0, failures=0, rps=0.0, p50=0.0, p90=0.0, p99=0.0, max=0.0)
