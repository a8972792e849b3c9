"""The launch-day backfill: CSV files loaded in bulk, then every day replayed up to yesterday.

Each stage is one transaction that skips what an earlier run already wrote (ON CONFLICT on the
external ids and keys), and the replay closes only store accounts never closed, a chunk per
transaction: a run killed at any point and started again finishes with nothing doubled.

A file goes into a scratch table by COPY on PostgreSQL, by batched inserts on SQLite (the demo's
database: `seed_demo` loads its data through here; api/staging.py); everything after is the same
SQL on both.

Files in the directory (each may be gzipped, `name.csv.gz`; columns in the README):
sellers.csv, store_accounts.csv, contacts.csv, orders.csv, violations.csv."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Marketplace, StoreAccount
from api.models import ImportRun
from api.staging import csv_rows, find_csv, open_text, stage_file
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


def open_csv(directory: Path, name: str) -> TextIO | None:
    path = find_csv(directory, name)
    return open_text(path) if path else None


def _rows(stream: TextIO, name: str) -> Iterator[list[str | None]]:
    return csv_rows(stream, name, FILES[name])


def load_file(directory: Path, name: str, *, verbose: bool) -> int:
    """Stage one file and insert what is new, in one transaction."""
    path = find_csv(directory, name)
    if path is None:
        return 0
    with transaction.atomic():
        loaded = stage_file(path, name, FILES[name], verbose=verbose)
        if name == "violations":
            _insert_violations()
        else:
            _insert_staged(name)
    return loaded


def load_files(directory: Path, *, verbose: bool) -> dict[str, int]:
    """Every file of the directory, in order, each stage in its own transaction (the loading
    step of import_history without its run record and replay)."""
    return {name: load_file(directory, name, verbose=verbose) for name in FILES}


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
