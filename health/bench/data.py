"""Benchmark data: N store accounts in one marketplace with sellers, emergency contacts, their
rolling HealthState and a stored history of daily ratings and orders, loaded with COPY.

The mix is a plausible night: most store accounts are enrolled and stay so, some are building
their 180 days, some wait for an emergency contact, and a few qualify or have an open violation.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from django.db import connection

from health.eligibility import REQUIRED_DAYS_ON_RECORD
from health.rating import WINDOW_DAYS
from health.services.pipeline import prepare_history_partitions
from health.state import mask_to_bytes

MARKETPLACE = "PL"
# Rows per COPY block: big enough to amortise the call, small enough to keep memory flat.
BLOCK_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class BenchData:
    """What was built: the accounts' id range and the first day that is still open."""

    accounts: int
    first_open_day: dt.date
    history_days: int


def account_kind(account_id: int) -> str:
    """A fixed mix of store accounts, the same for every N (by id)."""
    slot = account_id % 100
    if slot < 84:
        return "enrolled"
    if slot < 94:
        return "building"
    if slot < 98:
        return "no_contact"
    return "qualifies"


def build(
    *,
    accounts: int,
    history_days: int,
    first_open_day: dt.date,
    nights: int,
    progress: Callable[[str, int], Callable[[int], None]],
) -> BenchData:
    """Load `accounts` store accounts with `history_days` of stored history before the day, and
    the orders of the `nights` days the benchmark closes from it (and of the days leaving the
    window then)."""
    opened_on = first_open_day - dt.timedelta(days=max(history_days, WINDOW_DAYS) + 1)
    # Every month the history, the orders leaving the window and the closed days fall in.
    _prepare_months(opened_on - dt.timedelta(days=WINDOW_DAYS), first_open_day)
    _copy(
        "accounts_seller",
        ("id", "name", "email", "language", "created_at"),
        _sellers(accounts),
        accounts,
        progress("Sellers", accounts),
    )
    _copy(
        "accounts_emergencycontact",
        ("seller_id", "phone", "is_dialable", "updated_at"),
        _contacts(accounts),
        accounts,
        progress("Emergency contacts", accounts),
    )
    _copy(
        "accounts_storeaccount",
        ("id", "seller_id", "marketplace_id", "plan", "status", "opened_on"),
        _store_accounts(accounts, opened_on),
        accounts,
        progress("Store accounts", accounts),
    )
    _copy(
        "health_healthstate",
        STATE_COLUMNS,
        _states(accounts, first_open_day),
        accounts,
        progress("Health states", accounts),
    )
    add_history(
        accounts=accounts, first_open_day=first_open_day, days=history_days, progress=progress
    )
    _copy_orders(accounts, _open_and_leaving_days(first_open_day, nights), progress)
    _copy(
        "health_violation",
        VIOLATION_COLUMNS,
        _violations(accounts, first_open_day),
        accounts // 200,
        progress("Violations", accounts // 200),
    )
    with connection.cursor() as cursor:
        for table in ("accounts_seller", "accounts_storeaccount", "health_violation"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    return BenchData(accounts=accounts, first_open_day=first_open_day, history_days=history_days)


def add_history(
    *,
    accounts: int,
    first_open_day: dt.date,
    days: int,
    progress: Callable[[str, int], Callable[[int], None]],
    skip_days: int = 0,
) -> None:
    """Store `days` days of ratings and orders, ending `skip_days` + 1 days before the open day
    (so more history can be added further back later)."""
    last = first_open_day - dt.timedelta(days=1 + skip_days)
    history = [last - dt.timedelta(days=n) for n in range(days)]
    _prepare_months(history[-1], last)
    # The AHR depends on the account only, so each day is the same text with another date.
    _copy_days(
        "health_dailyrating",
        ("store_account_id", "day", "ahr"),
        [(pk, 250 + pk % 50) for pk in range(1, accounts + 1)],
        history,
        progress(f"Ratings ({days} days)", accounts * len(history)),
    )
    _copy_orders(accounts, history, progress)


def _prepare_months(first: dt.date, last: dt.date) -> None:
    """The month partitions from `first` to a month after `last`, as the pipeline makes them."""
    month = first.replace(day=1)
    while month <= last + dt.timedelta(days=31):
        prepare_history_partitions(day=month)
        month = (month + dt.timedelta(days=31)).replace(day=1)


def _copy_orders(
    accounts: int,
    days: list[dt.date],
    progress: Callable[[str, int], Callable[[int], None]],
) -> None:
    advance = progress(f"Orders ({len(days)} days)", accounts * len(days) // 2)
    # Sparse, as in life: an account sells on about every other day.
    for parity in (0, 1):
        _copy_days(
            "health_dailyorders",
            ("store_account_id", "day", "orders"),
            [(pk, 5 + pk % 40) for pk in range(1 + parity, accounts + 1, 2)],
            days[parity::2],
            advance,
        )


def add_nights(
    *,
    accounts: int,
    first: dt.date,
    nights: int,
    progress: Callable[[str, int], Callable[[int], None]],
) -> None:
    """The orders of `nights` more days to close from `first`, after those of build: their
    leaving days must already be in the stored history (see add_history)."""
    _copy_orders(accounts, [first + dt.timedelta(days=n) for n in range(nights)], progress)


def _open_and_leaving_days(first_open_day: dt.date, nights: int) -> list[dt.date]:
    """Orders of the days the benchmark closes, and of the days leaving the window then."""
    open_days = [first_open_day + dt.timedelta(days=n) for n in range(nights)]
    return open_days + [day - dt.timedelta(days=WINDOW_DAYS) for day in open_days]


STATE_COLUMNS = (
    "store_account_id",
    "last_closed_day",
    "ahr",
    "orders_in_window",
    "days_on_record",
    "below_mask",
    "status",
    "failing",
    "first_qualifying_day",
    "enrolled",
    "enrolled_since",
    "barred",
    "contact_reminded_on",
)
VIOLATION_COLUMNS = (
    "store_account_id",
    "category",
    "severity",
    "scope",
    "deactivation_level",
    "repeat",
    "description",
    "detected_at",
    "resolved_at",
)


def _sellers(accounts: int) -> Iterator[tuple]:
    created = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for pk in range(1, accounts + 1):
        yield pk, f"Bench seller {pk}", f"seller{pk}@bench.example", "pl", created


def _contacts(accounts: int) -> Iterator[tuple]:
    updated = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for pk in range(1, accounts + 1):
        if account_kind(pk) != "no_contact":
            # Every number is a valid Polish mobile, judged as set_emergency_contact would.
            yield pk, f"+48512{pk % 1_000_000:06d}", True, updated


def _store_accounts(accounts: int, opened_on: dt.date) -> Iterator[tuple]:
    for pk in range(1, accounts + 1):
        yield pk, pk, MARKETPLACE, "PRO", "NORMAL", opened_on


def _states(accounts: int, first_open_day: dt.date) -> Iterator[tuple]:
    rng = random.Random(2026)
    last = first_open_day - dt.timedelta(days=1)
    since = last - dt.timedelta(days=90)
    for pk in range(1, accounts + 1):
        kind = account_kind(pk)
        orders = rng.randint(2_700, 9_000)
        days = REQUIRED_DAYS_ON_RECORD
        if kind == "building":
            days = rng.randint(1, REQUIRED_DAYS_ON_RECORD - 2)
        elif kind == "qualifies":
            days = REQUIRED_DAYS_ON_RECORD - 1
        mask = mask_to_bytes(1 << rng.randrange(WINDOW_DAYS) if rng.random() < 0.1 else 0)
        enrolled = kind == "enrolled"
        status = {"enrolled": "enrolled", "no_contact": "waiting"}.get(kind, "not_eligible")
        yield (
            pk,
            last,
            260,
            orders,
            days,
            mask,
            status,
            "" if enrolled else "E3",
            None,
            enrolled,
            since if enrolled else None,
            False,
            last if kind == "no_contact" else None,
        )


def _violations(accounts: int, first_open_day: dt.date) -> Iterator[tuple]:
    detected = dt.datetime.combine(
        first_open_day - dt.timedelta(days=20), dt.time(12), tzinfo=dt.UTC
    )
    for pk in range(1, accounts + 1, 200):
        yield pk, "listing", "low", "store", False, False, "", detected, None


def _copy(
    table: str,
    columns: tuple[str, ...],
    rows: Iterator[tuple],
    total: int,
    advance: Callable[[int], None],
) -> None:
    """COPY rows into a table in blocks, reporting progress."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        written = 0
        for row in rows:
            copy.write_row(row)
            written += 1
            if written % BLOCK_ROWS == 0:
                advance(BLOCK_ROWS)
        if written % BLOCK_ROWS:
            advance(written % BLOCK_ROWS)


def _copy_days(
    table: str,
    columns: tuple[str, str, str],
    pairs: list[tuple[int, int]],
    days: list[dt.date],
    advance: Callable[[int], None],
) -> None:
    """COPY (id, day, value) rows for every pair on every day, one text block per day.

    A day's block is its date joined between pre-rendered pieces ("1\t", "\t250\n2\t", ...):
    millions of lines come from one C-level join instead of a Python loop."""
    if not pairs:
        return
    pieces = [f"{pairs[0][0]}\t"]
    pieces += [f"\t{value}\n{next_id}\t" for (_, value), (next_id, _) in pairwise(pairs)]
    pieces.append(f"\t{pairs[-1][1]}\n")
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for day in days:
            copy.write(day.isoformat().join(pieces))
            advance(len(pairs))
