"""Daily order counts from upstream, in batches applied whole or not at all (rules §10).

A count for a day the store account has already closed replaces the stored count and corrects
the rolling 180-day sum of its HealthState in the same transaction: the AHR of the closed day
stays as recorded, and the corrected sum counts from the next close on."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction

from accounts.models import StoreAccount
from api.errors import BadRow, InvalidInput
from api.models import ApiClient
from api.services.audit import record_api_write
from health.models import DailyOrders, HealthState
from health.rating import WINDOW_DAYS

MAX_BATCH_ROWS = 10_000
# A sane ceiling for one store account's orders on one day: above it a row is a feed error.
MAX_DAILY_ORDERS = 1_000_000


@dataclass(frozen=True, slots=True)
class OrdersRow:
    store_account: str
    day: dt.date
    orders: int


@dataclass(frozen=True, slots=True)
class OrdersResult:
    rows: int
    store_accounts: int
    corrected_closed_days: int


@dataclass(frozen=True, slots=True)
class _Account:
    id: int
    opened_on: dt.date
    today: dt.date


def _accounts(external_ids: set[str]) -> dict[str, _Account]:
    found: dict[str, _Account] = {}
    today_of: dict[str, dt.date] = {}
    rows = StoreAccount.objects.filter(external_id__in=external_ids).values_list(
        "external_id", "id", "opened_on", "marketplace__code", "marketplace__time_zone"
    )
    for external_id, pk, opened_on, code, _zone in rows:
        if code not in today_of:
            today_of[code] = StoreAccount(marketplace_id=code).marketplace.local_date()
        found[external_id] = _Account(pk, opened_on, today_of[code])
    return found


def validate_orders(rows: list[OrdersRow]) -> dict[tuple[int, dt.date], int]:
    """The batch as {(store account id, day): orders}, or InvalidInput with every bad row."""
    if len(rows) > MAX_BATCH_ROWS:
        raise InvalidInput(f"A batch holds at most {MAX_BATCH_ROWS} rows (this one {len(rows)}).")
    accounts = _accounts({row.store_account for row in rows})
    errors: list[BadRow] = []
    counts: dict[tuple[int, dt.date], int] = {}
    for index, row in enumerate(rows):
        account = accounts.get(row.store_account)
        if account is None:
            errors.append(
                BadRow(
                    index,
                    "store_account",
                    f"No store account has external id {row.store_account!r}.",
                )
            )
            continue
        if row.day < account.opened_on:
            errors.append(
                BadRow(
                    index,
                    "day",
                    f"{row.day} is before the store account opened ({account.opened_on}).",
                )
            )
        elif row.day > account.today:
            errors.append(
                BadRow(
                    index,
                    "day",
                    f"{row.day} is in the future in the store "
                    f"account's marketplace (today is {account.today}).",
                )
            )
        if not 0 <= row.orders <= MAX_DAILY_ORDERS:
            errors.append(
                BadRow(index, "orders", f"Orders must be between 0 and {MAX_DAILY_ORDERS}.")
            )
        key = (account.id, row.day)
        if key in counts and counts[key] != row.orders:
            errors.append(
                BadRow(
                    index,
                    "day",
                    "The batch has this store account and day twice with different counts.",
                )
            )
        counts[key] = row.orders
    if errors:
        raise InvalidInput(f"{len(errors)} bad row(s); nothing was saved.", errors)
    return counts


@transaction.atomic
def record_daily_orders(*, client: ApiClient, rows: list[OrdersRow]) -> OrdersResult:
    """Validate the whole batch, then upsert every count and correct closed windows."""
    counts = validate_orders(rows)
    corrected = apply_daily_orders(counts)
    record_api_write(
        client=client,
        action="daily_orders",
        details={"rows": len(rows), "corrected_closed_days": corrected},
    )
    return OrdersResult(len(rows), len({pk for pk, _day in counts}), corrected)


def apply_daily_orders(counts: dict[tuple[int, dt.date], int]) -> int:
    """Upsert validated counts; returns how many fell on closed days of a window."""
    if not counts:
        return 0
    ids = sorted({pk for pk, _day in counts})
    # Lock the states first, in id order (as the day close does): a close of one of these
    # accounts waits for this batch, or this batch for it, so no correction is lost.
    closed_through = dict(
        HealthState.objects.select_for_update()
        .filter(store_account_id__in=ids, last_closed_day__isnull=False)
        .order_by("store_account_id")
        .values_list("store_account_id", "last_closed_day")
    )
    deltas = _window_deltas(counts, closed_through)
    _upsert(counts)
    for pk, delta in deltas.items():
        if delta:
            HealthState.objects.filter(store_account_id=pk).update(orders_in_window=_plus(delta))
    return sum(1 for pk, day in counts if _in_closed_window(day, closed_through.get(pk)))


def _plus(delta: int):
    from django.db.models import F

    return F("orders_in_window") + delta


def _in_closed_window(day: dt.date, last_closed: dt.date | None) -> bool:
    return last_closed is not None and last_closed - dt.timedelta(days=WINDOW_DAYS) < day <= (
        last_closed
    )


def _window_deltas(
    counts: dict[tuple[int, dt.date], int], closed_through: dict[int, dt.date]
) -> dict[int, int]:
    """How much each state's rolling sum moves: new minus stored count, for closed window days."""
    late = {
        key: n for key, n in counts.items() if _in_closed_window(key[1], closed_through.get(key[0]))
    }
    if not late:
        return {}
    stored = _stored_counts(list(late))
    deltas: dict[int, int] = defaultdict(int)
    for (pk, day), n in late.items():
        deltas[pk] += n - stored.get((pk, day), 0)
    return deltas


def _stored_counts(keys: list[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], int]:
    by_account: dict[int, list[dt.date]] = defaultdict(list)
    for pk, day in keys:
        by_account[pk].append(day)
    found = {}
    first, last = min(day for _pk, day in keys), max(day for _pk, day in keys)
    rows = DailyOrders.objects.filter(
        store_account_id__in=list(by_account), day__range=(first, last)
    ).values_list("store_account_id", "day", "orders")
    wanted = set(keys)
    for pk, day, n in rows:
        if (pk, day) in wanted:
            found[(pk, day)] = n
    return found


def _upsert(counts: dict[tuple[int, dt.date], int]) -> None:
    table = connection.ops.quote_name(DailyOrders._meta.db_table)
    if connection.vendor == "postgresql":
        ids, days, orders = [], [], []
        for (pk, day), n in counts.items():
            ids.append(pk)
            days.append(day)
            orders.append(n)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (store_account_id, day, orders) "  # noqa: S608
                "SELECT * FROM unnest(%s::bigint[], %s::date[], %s::integer[]) "
                "ON CONFLICT (store_account_id, day) DO UPDATE SET orders = EXCLUDED.orders "
                f"WHERE {table}.orders IS DISTINCT FROM EXCLUDED.orders",
                [ids, days, orders],
            )
        return
    DailyOrders.objects.bulk_create(
        [DailyOrders(store_account_id=pk, day=day, orders=n) for (pk, day), n in counts.items()],
        update_conflicts=True,
        unique_fields=["store_account", "day"],
        update_fields=["orders"],
    )
