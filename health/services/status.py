"""A store account's status (NORMAL, AT_RISK, DEACTIVATED) changed, and the change recorded in
the same transaction, for the upstream events feed."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus
from health.models import StatusCause, StatusChange
from health.rating import is_at_risk


def status_after_day(status: str, ahr: int) -> StoreStatus | None:
    """The status a closed day's AHR moves a store account to, or None if it keeps its own.
    An enforcement decides DEACTIVATED; the AHR only moves between NORMAL and AT_RISK."""
    if status == StoreStatus.DEACTIVATED:
        return None
    wanted = StoreStatus.AT_RISK if is_at_risk(ahr) else StoreStatus.NORMAL
    return None if status == wanted else wanted


def change_status(
    *, store_account: StoreAccount, status: str, cause: str, now: dt.datetime | None = None
) -> bool:
    """Set one store account's status and record the change; False if it already had it."""
    now = now or timezone.now()
    with transaction.atomic():
        previous = (
            StoreAccount.objects.select_for_update()
            .filter(pk=store_account.pk)
            .values_list("status", flat=True)
            .first()
        )
        store_account.status = status
        if previous is None or previous == status:
            return False
        StoreAccount.objects.filter(pk=store_account.pk).update(status=status)
        StatusChange.objects.create(
            store_account_id=store_account.pk,
            previous=previous,
            status=status,
            cause=cause,
            day=store_account.marketplace.local_date(now),
            at=now,
        )
    return True


def change_day_statuses(*, day: dt.date, at_risk: list[int], normal: list[int]) -> None:
    """The day close's NORMAL <-> AT_RISK moves for a chunk, with their changes recorded: one
    statement on PostgreSQL, whatever the number of accounts. A store account deactivated
    meanwhile keeps its status and records nothing."""
    if not at_risk and not normal:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        _change_day_statuses_in_one_statement(day, now, at_risk, normal)
        return
    changes = []
    for status, previous, ids in (
        (StoreStatus.AT_RISK, StoreStatus.NORMAL, at_risk),
        (StoreStatus.NORMAL, StoreStatus.AT_RISK, normal),
    ):
        if not ids:
            continue
        moving = StoreAccount.objects.filter(id__in=ids, status=previous)
        moved = list(moving.values_list("id", flat=True))
        moving.update(status=status)
        changes += [
            StatusChange(
                store_account_id=pk,
                previous=previous,
                status=status,
                cause=StatusCause.AHR,
                day=day,
                at=now,
            )
            for pk in moved
        ]
    StatusChange.objects.bulk_create(changes)


def _change_day_statuses_in_one_statement(
    day: dt.date, now: dt.datetime, at_risk: list[int], normal: list[int]
) -> None:
    accounts = connection.ops.quote_name(StoreAccount._meta.db_table)
    changes = connection.ops.quote_name(StatusChange._meta.db_table)
    ids = at_risk + normal
    statuses = [StoreStatus.AT_RISK.value] * len(at_risk) + [StoreStatus.NORMAL.value] * len(normal)
    with connection.cursor() as cursor:
        # Names, not data, are formatted into the statement. The wanted statuses are joined, not
        # looked up in an array per row: a night that moves thousands stays linear.
        cursor.execute(
            "WITH wanted AS (SELECT * FROM unnest(%(ids)s::bigint[], %(statuses)s::text[]) "  # noqa: S608
            "AS w (id, status)), "
            f"moved AS (UPDATE {accounts} AS a SET status = w.status FROM wanted AS w "
            "WHERE a.id = w.id AND a.status <> 'DEACTIVATED' AND a.status <> w.status "
            "RETURNING a.id, a.status) "
            f"INSERT INTO {changes} (store_account_id, previous, status, cause, day, at) "
            "SELECT id, CASE WHEN status = 'AT_RISK' THEN 'NORMAL' ELSE 'AT_RISK' END, status, "
            "%(cause)s, %(day)s, %(at)s FROM moved",
            {
                "ids": ids,
                "statuses": statuses,
                "cause": StatusCause.AHR.value,
                "day": day,
                "at": now,
            },
        )
