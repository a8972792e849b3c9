"""`manage.py bench_ingest` (`make bench-ingest`): the upstream API's daily-orders rate against a
COPY of the same rows, and import_history against its floor; each in a scratch database on the
server of DATABASE_URL, dropped after. Every figure is printed with its same-run reference."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import http.client
import json
import tempfile
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.utils import get_random_secret_key
from django.db import connection
from django.test.utils import override_settings

from accounts.models import Marketplace, Seller, StoreAccount
from api.imports import import_history
from api.services.clients import create_api_client
from health.loadtest import server as servers
from health.management.commands.bench_day_close import scratch_database

MARKETPLACE = "PL"
BATCH = 10_000
DAYS = 200
API_GOAL = 0.20  # of the COPY rate
IMPORT_GOAL = 4.0  # times the floor


class Command(BaseCommand):
    help = "Benchmark the daily-orders API against COPY, and import_history against its floor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rows", type=int, default=1_000_000, help="Daily-order rows posted (0: no API run)."
        )
        parser.add_argument("--clients", type=int, default=2, help="Concurrent API clients.")
        parser.add_argument(
            "--import-accounts", type=int, default=100_000, help="Store accounts imported."
        )
        parser.add_argument("--database", default="aha_bench_ingest", help="Scratch database.")

    def handle(self, *args: object, **options: object) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL (DATABASE_URL).")
        name = str(options["database"])
        with override_settings(DEBUG=False):
            if int(options["rows"]) > 0:
                self.api_figures_printed(name, int(options["rows"]), int(options["clients"]))
            with scratch_database(f"{name}_import"):
                imported, floor = self.import_figures(int(options["import_accounts"]))
        self.stdout.write(
            f"import_history: {imported:.1f} s; floor (COPY of the input + one "
            f"INSERT of the ratings): {floor:.1f} s; ratio {imported / floor:.2f}x "
            f"(goal <= {IMPORT_GOAL:g}x)"
        )

    # -- the API against COPY ------------------------------------------------------------------

    def api_figures_printed(self, name: str, rows: int, clients: int) -> None:
        with scratch_database(name):
            api_rate, copy_rate = self.api_figures(rows, clients)
        # Printed at once: a later failure must not lose the figure.
        self.stdout.write(
            f"API daily orders: {api_rate:,.0f} rows/s; COPY of the same rows: "
            f"{copy_rate:,.0f} rows/s; ratio {api_rate / copy_rate:.1%} "
            f"(goal >= {API_GOAL:.0%})"
        )

    def api_figures(self, rows: int, clients: int) -> tuple[float, float]:
        accounts = max(1, rows // DAYS)
        marketplace = Marketplace.objects.get(code=MARKETPLACE)
        last = marketplace.local_date() - dt.timedelta(days=1)
        first = last - dt.timedelta(days=DAYS - 1)
        self.make_accounts(accounts, opened_on=first)
        _client, token = create_api_client(name="bench", scopes=["orders:write"])
        batches = self.batches(accounts, first, rows)
        env = servers.server_env(
            database_url=servers.database_url(), secret_key=get_random_secret_key(), redis_url=None
        )
        env |= {"API_RATE_LIMIT": "1000000", "API_MAX_BODY_BYTES": "4000000"}
        servers.collect_static(env)
        with servers.gunicorn(env) as server:
            self.say(f"Posting {rows:,} rows in batches of {BATCH:,} from {clients} clients ...")
            seconds = self.post_all(server.port, token, batches, clients)
        api_rate = rows / seconds
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM health_dailyorders")
            stored = cursor.fetchone()[0]
            if stored != rows:
                raise CommandError(f"the API stored {stored} rows, not {rows}")
            cursor.execute("TRUNCATE health_dailyorders")
        copy_seconds = self.copy_orders(accounts, first, rows)
        return api_rate, rows / copy_seconds

    def make_accounts(self, accounts: int, *, opened_on: dt.date) -> None:
        sellers = Seller.objects.bulk_create(
            [
                Seller(name=f"Bench {n}", email=f"b{n}@example.com", external_id=f"s{n}")
                for n in range(accounts)
            ],
            batch_size=5000,
        )
        StoreAccount.objects.bulk_create(
            [
                StoreAccount(
                    seller=s, marketplace_id=MARKETPLACE, opened_on=opened_on, external_id=f"a{n}"
                )
                for n, s in enumerate(sellers)
            ],
            batch_size=5000,
        )

    @staticmethod
    def rows(accounts: int, first: dt.date, rows: int):
        n = 0
        for day in range(DAYS):
            on = first + dt.timedelta(days=day)
            for account in range(accounts):
                if n == rows:
                    return
                yield account, on, 1 + (account + day) % 40
                n += 1

    def batches(self, accounts: int, first: dt.date, rows: int) -> list[bytes]:
        out, batch = [], []
        for account, on, orders in self.rows(accounts, first, rows):
            batch.append({"store_account": f"a{account}", "day": on.isoformat(), "orders": orders})
            if len(batch) == BATCH:
                out.append(json.dumps({"rows": batch}).encode())
                batch = []
        if batch:
            out.append(json.dumps({"rows": batch}).encode())
        return out

    def post_all(self, port: int, token: str, batches: list[bytes], clients: int) -> float:
        errors: list[str] = []
        lanes = [batches[n::clients] for n in range(clients)]

        def post(lane: list[bytes]) -> None:
            conn = http.client.HTTPConnection(servers.HOST, port, timeout=120)
            for body in lane:
                conn.request(
                    "POST",
                    "/api/v1/daily-orders",
                    body=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                response = conn.getresponse()
                payload = response.read()
                if response.status != 200:
                    errors.append(f"{response.status}: {payload[:200]!r}")
            conn.close()

        threads = [threading.Thread(target=post, args=(lane,)) for lane in lanes]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        if errors:
            raise CommandError(f"{len(errors)} batches failed, e.g. {errors[0]}")
        return seconds

    def copy_orders(self, accounts: int, first: dt.date, rows: int) -> float:
        ids = dict(StoreAccount.objects.values_list("external_id", "id"))
        data = [(ids[f"a{a}"], on, n) for a, on, n in self.rows(accounts, first, rows)]
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY health_dailyorders (store_account_id, day, orders) FROM STDIN"
            ) as copy,
        ):
            for row in data:
                copy.write_row(row)
        return time.perf_counter() - started

    # -- import_history against its floor --------------------------------------------------------

    def import_figures(self, accounts: int) -> tuple[float, float]:
        marketplace = Marketplace.objects.get(code=MARKETPLACE)
        last = marketplace.local_date() - dt.timedelta(days=1)
        first = last - dt.timedelta(days=DAYS - 1)
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            self.say(f"Writing the CSV files of {accounts:,} store accounts x {DAYS} days ...")
            input_rows = self.write_csv(directory, accounts, first)
            floor = self.floor(directory, accounts)
            self.say("import_history ...")
            started = time.perf_counter()
            import_history(directory, verbose=self.verbosity_on())
            imported = time.perf_counter() - started
        self.say(f"  {input_rows:,} input rows")
        return imported, floor

    def verbosity_on(self) -> bool:
        return True

    def write_csv(self, directory: Path, accounts: int, first: dt.date) -> int:
        def write(name: str, header: list[str], rows) -> int:
            count = 0
            with gzip.open(
                directory / f"{name}.csv.gz", "wt", newline="", compresslevel=1
            ) as stream:
                writer = csv.writer(stream)
                writer.writerow(header)
                for row in rows:
                    writer.writerow(row)
                    count += 1
            return count

        total = write(
            "sellers",
            ["external_id", "name", "email", "language"],
            ((f"s{n}", f"Seller {n}", f"s{n}@example.com", "en") for n in range(accounts)),
        )
        total += write(
            "store_accounts",
            ["external_id", "seller", "marketplace", "plan", "opened_on"],
            ((f"a{n}", f"s{n}", MARKETPLACE, "PRO", first.isoformat()) for n in range(accounts)),
        )
        total += write(
            "contacts", ["seller", "phone"], ((f"s{n}", "+48512345678") for n in range(accounts))
        )
        total += write(
            "orders",
            ["store_account", "day", "orders"],
            (
                (f"a{a}", on.isoformat(), n)
                for a, on, n in self.rows(accounts, first, accounts * DAYS)
            ),
        )
        detected = dt.datetime.combine(first + dt.timedelta(days=50), dt.time(12), dt.UTC)
        total += write(
            "violations",
            [
                "external_id",
                "store_account",
                "seller",
                "category",
                "severity",
                "deactivation_level",
                "detected_at",
                "resolved_at",
                "description",
                "reference",
                "policy_link",
            ],
            (
                (
                    f"v{n}",
                    f"a{n}",
                    "",
                    "listing",
                    "low",
                    "false",
                    detected.isoformat(),
                    "",
                    "",
                    "",
                    "",
                )
                for n in range(0, accounts, 20)
            ),
        )
        return total

    def floor(self, directory: Path, accounts: int) -> float:
        """COPY of the input rows into tables of the same shape, plus one bare INSERT of all the
        rating rows the import must write."""
        from api.imports import FILES, _rows, open_csv

        started = time.perf_counter()
        with connection.cursor() as cursor:
            for name, columns in FILES.items():
                definition = ", ".join(f"{c} {t}" for c, t in columns)
                cursor.execute(f"CREATE TEMPORARY TABLE floor_{name} ({definition})")
                stream = open_csv(directory, name)
                with stream, cursor.copy(f"COPY floor_{name} FROM STDIN") as copy:
                    for row in _rows(stream, name):
                        copy.write_row(row)
            cursor.execute(
                "CREATE TEMPORARY TABLE floor_ratings (store_account_id bigint, day date, "
                "ahr smallint, PRIMARY KEY (store_account_id, day))"
            )
            cursor.execute(
                "INSERT INTO floor_ratings SELECT a, current_date - d, 250 "
                "FROM generate_series(1, %s) a, generate_series(1, %s) d",
                [accounts, DAYS],
            )
            for name in [*FILES, "ratings"]:
                cursor.execute(f"DROP TABLE floor_{name}")
        return time.perf_counter() - started

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
