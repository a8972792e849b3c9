"""The launch-day backfill: CSV files loaded in bulk, then every day replayed up to yesterday.

Each stage is one transaction that skips what an earlier run already wrote (ON CONFLICT on the
external ids and keys), and the replay closes only store accounts never closed, a chunk per
transaction: a run killed at any point and started again finishes with nothing doubled.

A file goes into a scratch table by COPY on PostgreSQL, by batched inserts on SQLite (the demo's
database: `seed_demo` loads its data through here); everything after is the same SQL on both.

Files in the directory (each may be gzipped, `name.csv.gz`; columns in the README):
sellers.csv, store_accounts.csv, contacts.csv, orders.csv, violations.csv."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO, cast

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from accounts.models import Marketplace, StoreAccount
from api.models import ImportRun
from health.demo.replay import Story, accounts_to_replay, replay_history
from health.models import EmailKind, HealthState, Violation, ViolationScope
from health.progress import Progress
from health.rating import is_repeat
from health.services.enrollment import account_email
from health.services.outbox import queue_emails

REPLAY_CHUNK = 2000

# File -> (its columns, the SQL type of each in the staging table).
FILES: dict[str, tuple[tuple[str, str], ...]] = {
    "sellers": (("external_id", "text"), ("name", "text"), ("email", "text"), ("language", "text")),
    "store_accounts": (
        ("external_id", "text"),
        ("seller", "text"),
        ("marketplace", "text"),
        ("plan", "text"),
        ("opened_on", "date"),
    ),
    "contacts": (("seller", "text"), ("phone", "text")),
    "orders": (("store_account", "text"), ("day", "date"), ("orders", "integer")),
    "violations": (
        ("external_id", "text"),
        ("store_account", "text"),
        ("seller", "text"),
        ("category", "text"),
        ("severity", "text"),
        ("deactivation_level", "boolean"),
        ("detected_at", "timestamptz"),
        ("resolved_at", "timestamptz"),
        ("description", "text"),
        ("reference", "text"),
        ("policy_link", "text"),
    ),
}

# How each staged file goes into the real tables, and how a statement skips (or, for orders,
# replaces) rows already there.
_INSERTS = {
    "sellers": (
        """
        INSERT INTO accounts_seller (external_id, name, email, language, created_at)
        SELECT external_id, name, email, coalesce(nullif(language, ''), 'en'), CURRENT_TIMESTAMP
        FROM stage_sellers WHERE true""",
        "ON CONFLICT (external_id) DO NOTHING",
    ),
    "store_accounts": (
        """
        INSERT INTO accounts_storeaccount (external_id, seller_id, marketplace_id, plan, status,
                                           opened_on)
        SELECT t.external_id, s.id, t.marketplace, coalesce(nullif(t.plan, ''), 'PRO'),
               'NORMAL', t.opened_on
        FROM stage_store_accounts t JOIN accounts_seller s ON s.external_id = t.seller
        WHERE true""",
        "ON CONFLICT DO NOTHING",
    ),
    "contacts": (
        """
        INSERT INTO accounts_emergencycontact (seller_id, phone, updated_at)
        SELECT s.id, t.phone, CURRENT_TIMESTAMP
        FROM stage_contacts t JOIN accounts_seller s ON s.external_id = t.seller
        WHERE true""",
        "ON CONFLICT (seller_id) DO NOTHING",
    ),
    # In key order: files come day by day, and a primary key (store account, day) filled in
    # that order touches one leaf page per store account and day, far more than the cache holds.
    "orders": (
        """
        INSERT INTO health_dailyorders (store_account_id, day, orders)
        SELECT a.id, t.day, t.orders
        FROM stage_orders t JOIN accounts_storeaccount a ON a.external_id = t.store_account
        WHERE true ORDER BY a.id, t.day""",
        "ON CONFLICT (store_account_id, day) DO UPDATE SET orders = EXCLUDED.orders",
    ),
}


def _insert_staged(name: str) -> None:
    """Insert a staged file's new rows. On PostgreSQL first as a plain INSERT, at the cost of
    writing the rows: a first import has nothing to skip, and ON CONFLICT, which checks each row
    before it writes it, cost about twice as much. Rows already there (a rerun) undo it, and the
    statement runs again skipping them."""
    statement, on_conflict = _INSERTS[name]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic():
                    cursor.execute(statement)
                return
            except IntegrityError:
                pass
        cursor.execute(f"{statement} {on_conflict}")


def find_csv(directory: Path, name: str) -> Path | None:
    """`name.csv`, or else `name.csv.gz`, in the directory; None if neither is there."""
    for path in (directory / f"{name}.csv", directory / f"{name}.csv.gz"):
        if path.exists():
            return path
    return None


def open_csv(directory: Path, name: str) -> TextIO | None:
    path = find_csv(directory, name)
    return _open_text(path) if path else None


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


@contextmanager
def _open_bytes(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """The file's bytes, uncompressed as they are read if it is gzipped, and the file as stored
    (whose position tells the progress)."""
    with path.open("rb") as raw:
        if path.suffix != ".gz":
            yield raw, raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
            yield cast(BinaryIO, unpacked), raw


def _rows(stream: TextIO, name: str) -> Iterator[list[str | None]]:
    columns = [column for column, _type in FILES[name]]
    reader = csv.DictReader(stream)
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{name}.csv lacks the column(s) {', '.join(missing)}")
    for row in reader:
        yield [row[c] if row[c] != "" else None for c in columns]


def _stage_table(cursor: CursorWrapper, name: str, extra: Iterable[str] = ()) -> None:
    """A session scratch table of the file's columns (and `extra` text columns, unused)."""
    columns = [*(f"{c} {t}" for c, t in FILES[name]), *(f"{c} text" for c in extra)]
    cursor.execute(f"DROP TABLE IF EXISTS stage_{name}")
    cursor.execute(f"CREATE TEMPORARY TABLE stage_{name} ({', '.join(columns)})")


def _stage_rows(name: str, stream: TextIO, progress: Progress | None) -> int:
    """SQLite: load one file into its scratch table by batched inserts; returns its rows."""
    with connection.cursor() as cursor:
        _stage_table(cursor, name)
        rows = _counted(_rows(stream, name), progress)
        _insert_batches(cursor, name, rows)
    if progress:
        progress.advance(rows.loaded % PROGRESS_STEP)
    return rows.loaded


PROGRESS_STEP = 10000
COPY_BLOCK = 1 << 20


def _stage_by_copy(name: str, stream: BinaryIO, progress: Progress | None, stored: BinaryIO) -> int:
    """PostgreSQL: the file's bytes as they are into its scratch table by COPY (CSV), which
    parses them in the server; returns its rows. Only the header is read here: its columns are
    matched to the table's by name, others go to unused columns."""
    header = next(csv.reader([stream.readline().decode("utf-8-sig")]), [])
    known = [column for column, _type in FILES[name]]
    if missing := [c for c in known if c not in header]:
        raise ValueError(f"{name}.csv lacks the column(s) {', '.join(missing)}")
    if len(set(header)) < len(header):
        raise ValueError(f"{name}.csv names a column twice")
    # Names from the file are never formatted into SQL: unknown ones get names of ours.
    columns = [c if c in known else f"unused_{n}" for n, c in enumerate(header)]
    with connection.cursor() as cursor:
        _stage_table(cursor, name, extra=[c for c in columns if c not in known])
        listed = ", ".join(columns)
        try:
            with cursor.copy(
                f"COPY stage_{name} ({listed}) FROM STDIN (FORMAT csv, FORCE_NULL ({listed}))"
            ) as copy:
                while block := stream.read1(COPY_BLOCK):
                    copy.write(block)
                    if progress:
                        progress.advance(stored.tell() - progress.done)
            return cursor.rowcount
        except psycopg.DataError as error:
            # COPY counts the rows after the header from 1.
            found = re.search(r"line (\d+)", error.diag.context or "")
            line = f", line {int(found.group(1)) + 1}" if found else ""
            raise ValueError(f"{name}.csv{line}: {error.diag.message_primary}") from None


class _counted:
    """The rows of a file, counted as they pass, the progress bar moved every PROGRESS_STEP."""

    def __init__(self, rows: Iterator[list[str | None]], progress: Progress | None) -> None:
        self.rows, self.progress, self.loaded = rows, progress, 0

    def __iter__(self) -> Iterator[list[str | None]]:
        for row in self.rows:
            yield row
            self.loaded += 1
            if self.progress and self.loaded % PROGRESS_STEP == 0:
                self.progress.advance(PROGRESS_STEP)


def _insert_batches(cursor: CursorWrapper, name: str, rows: Iterable[list[str | None]]) -> None:
    """SQLite: the rows in batches of one prepared INSERT, each value checked and stored as
    Django stores its type there (COPY checks them on PostgreSQL)."""
    columns = FILES[name]
    convert = [_SQLITE_VALUES[sql_type] for _column, sql_type in columns]
    insert = (
        f"INSERT INTO stage_{name} ({', '.join(c for c, _t in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    batch: list[list[object]] = []
    for line, row in enumerate(rows, start=2):
        try:
            batch.append([None if v is None else f(v) for f, v in zip(convert, row, strict=True)])
        except ValueError as error:
            raise ValueError(f"{name}.csv, line {line}: {error}") from None
        if len(batch) == PROGRESS_STEP:
            cursor.executemany(insert, batch)
            batch = []
    if batch:
        cursor.executemany(insert, batch)


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "t", "1", "yes", "y", "on"):
        return True
    if value in ("false", "f", "0", "no", "n", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _timestamp(text: str) -> str:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a time without its offset: {text!r}")
    return connection.ops.adapt_datetimefield_value(moment)


_SQLITE_VALUES: dict[str, Callable[[str], object]] = {
    "text": str,
    "integer": int,
    "date": lambda text: dt.date.fromisoformat(text).isoformat(),
    "boolean": _boolean,
    "timestamptz": _timestamp,
}


def load_file(directory: Path, name: str, *, verbose: bool) -> int:
    """Stage one file and insert what is new, in one transaction."""
    path = find_csv(directory, name)
    if path is None:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Progress in bytes of the file as stored: no pass over it just to count its lines.
            sized = verbose and path.is_file()  # a named pipe has no size to count against
            progress = Progress(f"Loading {name} (bytes)", path.stat().st_size) if sized else None
            with _open_bytes(path) as (stream, stored):
                loaded = _stage_by_copy(name, stream, progress, stored)
        else:
            progress = Progress(f"Loading {name}", _count_lines(path)) if verbose else None
            with _open_text(path) as stream:
                loaded = _stage_rows(name, stream, progress)
        if name == "violations":
            _insert_violations()
        else:
            _insert_staged(name)
    return loaded


def load_files(directory: Path, *, verbose: bool) -> dict[str, int]:
    """Every file of the directory, in order, each stage in its own transaction (the loading
    step of import_history without its run record and replay)."""
    return {name: load_file(directory, name, verbose=verbose) for name in FILES}


def _count_lines(path: Path) -> int:
    with _open_text(path) as stream:
        return max(sum(1 for _line in stream) - 1, 0)


def _insert_violations() -> None:
    """Violations with their repeat status judged by their local detection day (rules §2.3)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH first_accounts AS (
                SELECT seller_id, id FROM (
                    SELECT seller_id, id, row_number() OVER (
                        PARTITION BY seller_id ORDER BY opened_on, id) AS n
                    FROM accounts_storeaccount) ranked
                WHERE n = 1)
            SELECT t.external_id, a.id, t.category, t.severity,
                   coalesce(t.deactivation_level, false) OR t.severity = 'critical',
                   t.detected_at, t.resolved_at, coalesce(t.description, ''),
                   coalesce(t.reference, ''), coalesce(t.policy_link, ''),
                   CASE WHEN t.store_account IS NULL THEN 'account' ELSE 'store' END,
                   a.seller_id, m.time_zone
            FROM stage_violations t
            LEFT JOIN accounts_storeaccount own ON own.external_id = t.store_account
            LEFT JOIN accounts_seller s ON t.store_account IS NULL AND s.external_id = t.seller
            LEFT JOIN first_accounts f ON f.seller_id = s.id
            JOIN accounts_storeaccount a ON a.id = coalesce(own.id, f.id)
            JOIN accounts_marketplace m ON m.code = a.marketplace_id
            WHERE NOT EXISTS (SELECT 1 FROM health_violation v
                              WHERE v.external_id = t.external_id)
            ORDER BY t.detected_at, t.external_id
            """
        )
        rows = cursor.fetchall()
    # As record_violation judges it: the store account's own earlier violations and its
    # seller's account-wide ones.
    own: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
    wide: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
    new = []
    for (
        external_id,
        account_id,
        category,
        severity,
        deactivation,
        detected,
        resolved,
        description,
        reference,
        link,
        scope,
        seller_id,
        zone,
    ) in rows:
        detected, resolved = _moment(detected), _moment(resolved)
        local = detected.astimezone(_zone(zone)).date()
        earlier = own[account_id] + wide[seller_id]
        new.append(
            Violation(
                external_id=external_id,
                store_account_id=account_id,
                category=category,
                severity=severity,
                deactivation_level=bool(deactivation),
                repeat=is_repeat(category, local, earlier),
                detected_at=detected,
                resolved_at=resolved,
                description=description,
                reference=reference,
                policy_link=link,
                scope=scope or ViolationScope.STORE,
            )
        )
        (wide[seller_id] if scope == ViolationScope.ACCOUNT_WIDE else own[account_id]).append(
            (category, local)
        )
    Violation.objects.bulk_create(new, batch_size=5000, ignore_conflicts=True)


def _moment(value: dt.datetime | str | None) -> dt.datetime | None:
    """A time read back from a scratch table: SQLite gives the text Django stored (UTC)."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def replay_all(*, verbose: bool, chunk_size: int = REPLAY_CHUNK) -> dict[str, int]:
    """Close every day up to each marketplace's yesterday for store accounts never closed, in
    chunks (one transaction each) through the nightly close's per-account step."""
    totals = {"ratings": 0, "events": 0, "accounts": 0}
    for marketplace in Marketplace.objects.all():
        accounts = list(
            StoreAccount.objects.filter(marketplace=marketplace)
            .select_related("marketplace", "seller")
            .order_by("id")
        )
        accounts = accounts_to_replay(accounts) if accounts else []
        if not accounts:
            continue
        yesterday = marketplace.local_date() - dt.timedelta(days=1)
        progress = Progress(f"Replaying {marketplace.code}", len(accounts)) if verbose else None
        for start in range(0, len(accounts), chunk_size):
            chunk = [a for a in accounts[start : start + chunk_size] if a.opened_on <= yesterday]
            if chunk:
                with transaction.atomic():
                    done = replay_history(
                        chunk,
                        first_day=min(a.opened_on for a in chunk),
                        last_day=yesterday,
                        story=Story(),
                        history_emails=False,
                    )
                    _confirm_enrollments(chunk)
                totals["ratings"] += done["ratings"]
                totals["events"] += done["events"]
                totals["accounts"] += len(chunk)
            if progress:
                progress.advance(len(accounts[start : start + chunk_size]))
    return totals


def _confirm_enrollments(chunk: list[StoreAccount]) -> None:
    """One enrollment confirmation for each store account enrolled at the end of the replay;
    the key is the one the nightly close would use, so a rerun queues none twice."""
    by_id = {account.pk: account for account in chunk}
    states = HealthState.objects.filter(store_account_id__in=by_id, enrolled=True)
    queue_emails(
        account_email(
            kind=EmailKind.ENROLLED,
            store_account=by_id[s.store_account_id],
            seller=by_id[s.store_account_id].seller,
            marketplace=by_id[s.store_account_id].marketplace,
            day=s.enrolled_since,
        )
        for s in states
    )


def import_history(
    directory: Path,
    *,
    verbose: bool = True,
    replay_chunk: int | None = None,
    after_stage: Callable[[str], None] = lambda _stage: None,
) -> ImportRun:
    """Load the directory's files and replay their history; the run is kept for the admin."""
    run = ImportRun.objects.create(directory=str(directory))
    try:
        for name in FILES:
            run.stage = name
            run.save(update_fields=["stage"])
            run.counts[name] = load_file(directory, name, verbose=verbose)
            run.save(update_fields=["counts"])
            after_stage(name)
        run.stage = "replay"
        run.save(update_fields=["stage"])
        run.counts |= replay_all(verbose=verbose, chunk_size=replay_chunk or REPLAY_CHUNK)
        run.status = "done"
    except Exception as error:
        run.status = "failed"
        run.error = str(error)[:2000]
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
    return run
