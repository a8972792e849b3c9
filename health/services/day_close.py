"""Closing a marketplace's day for a chunk of store accounts (rules §2-§4 and §8).

The cost of a chunk does not depend on how much history is stored: it reads each account's
HealthState (the rolling window), the orders of the day entering and of the day leaving the
180-day window, and the violations that can be active on the day; then it writes in bulk.
A rerun, or a second run at the same time, finds every state already closed or locked and
writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import CharField, Q, QuerySet, Sum
from django.db.models.functions import Cast

from accounts.models import EmergencyContact, Marketplace, Seller, StoreAccount, StoreStatus
from health.eligibility import (
    CONTACT_REMINDER_INTERVAL,
    DayDecision,
    decide_day,
    should_remind_about_contact,
)
from health.models import (
    DailyOrders,
    DailyRating,
    EligibilityStatus,
    EmailKind,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
    Violation,
    ViolationScope,
)
from health.rating import (
    WINDOW_DAYS,
    Severity,
    ViolationFacts,
    compute_ahr,
    is_at_risk,
    is_deactivation_level,
    roll_orders,
)
from health.services.enrollment import (
    account_email,
    apply_eligibility,
    contact_needed_email,
    mark_enrolled,
)
from health.services.outbox import EmailDraft, queue_emails
from health.services.protection import handle_low_ratings
from health.state import account_facts, mask_to_bytes, phone_is_valid, rating_window

# The HealthState columns a close of day rewrites (never `barred`: only specialists change it).
STATE_FIELDS = (
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
    "contact_reminded_on",
)
_STATE_SQL_TYPES = (
    "date",
    "smallint",
    "integer",
    "smallint",
    "bytea",
    "text",
    "text",
    "date",
    "boolean",
    "date",
    "date",
)


@dataclass
class ChunkInputs:
    """Everything a chunk reads besides the states themselves."""

    orders_entering: dict[int, int]
    orders_leaving: dict[int, int]
    window_orders: dict[int, int]
    violations: dict[int, list[ViolationFacts]]
    valid_contact: set[int]


@dataclass
class ChunkResult:
    """What a chunk decided, ready to be written in bulk."""

    ratings: list[tuple[int, int]] = field(default_factory=list)
    at_risk: list[int] = field(default_factory=list)
    normal: list[int] = field(default_factory=list)
    low_ahr: list[int] = field(default_factory=list)
    events: list[EnrollmentEvent] = field(default_factory=list)
    emails: list[tuple[str, HealthState, object]] = field(default_factory=list)
    waiting: int = 0
    removed: int = 0


def close_day_chunk(
    *, marketplace_code: str, day: dt.date, first_id: int, last_id: int
) -> dict[str, int]:
    """Close `day` for the marketplace's store accounts with ids in [first_id, last_id]."""
    marketplace = Marketplace.objects.get(code=marketplace_code)
    with transaction.atomic():
        chunk = StoreAccount.objects.filter(
            marketplace=marketplace, id__range=(first_id, last_id), opened_on__lte=day
        )
        states = _lock_open_states(marketplace, chunk, day)
        if not states:
            return _counts(0, ChunkResult(), emails=0)
        inputs = _load_inputs(marketplace, day, chunk, states)
        result = ChunkResult()
        for state in states:
            _close_one(state, day, inputs, result)
        emails = _write(marketplace, day, states, result)
    return _counts(len(states), result, emails=emails)


def _counts(closed: int, result: ChunkResult, *, emails: int) -> dict[str, int]:
    enrolled = sum(1 for e in result.events if e.kind == EnrollmentEventKind.ENROLLED)
    return {
        "closed": closed,
        "enrolled": enrolled,
        "removed": result.removed,
        "waiting": result.waiting,
        "emails": emails,
        "low_ahr": len(result.low_ahr),
    }


# ---------------------------------------------------------------------------------------------
# Reads: a constant number of queries per chunk
# ---------------------------------------------------------------------------------------------


def _lock_open_states(
    marketplace: Marketplace, accounts: QuerySet[StoreAccount], day: dt.date
) -> list[HealthState]:
    """The states still to close for `day`, locked; rows another run holds are left to it."""
    missing = list(accounts.filter(health__isnull=True).values_list("id", flat=True))
    if missing:
        HealthState.objects.bulk_create(
            [HealthState(store_account_id=pk) for pk in missing], ignore_conflicts=True
        )
    states = list(
        HealthState.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("store_account")
        .filter(store_account__in=accounts)
        .filter(Q(last_closed_day__isnull=True) | Q(last_closed_day__lt=day))
        .order_by("store_account_id")
    )
    for state in states:
        # Every account of the chunk is in this marketplace: share the one instance.
        state.store_account.marketplace = marketplace
    return states


def _load_inputs(
    marketplace: Marketplace,
    day: dt.date,
    chunk: QuerySet[StoreAccount],
    states: list[HealthState],
) -> ChunkInputs:
    """The chunk's orders, violations and contacts. Filters select by the chunk (a subquery),
    not by lists of ids, which cost more to build than to run on big chunks."""
    leaving_day = day - dt.timedelta(days=WINDOW_DAYS)
    entering: dict[int, int] = {}
    leaving: dict[int, int] = {}
    for pk, on, orders in DailyOrders.objects.filter(
        store_account__in=chunk, day__in=[day, leaving_day]
    ).values_list("store_account_id", "day", "orders"):
        (entering if on == day else leaving)[pk] = orders
    return ChunkInputs(
        orders_entering=entering,
        orders_leaving=leaving,
        window_orders=_window_orders_after_gap(day, states),
        violations=_violations(marketplace, day, chunk, states),
        valid_contact={
            seller_id
            for seller_id, phone in EmergencyContact.objects.filter(
                seller__in=chunk.values("seller_id")
            ).values_list("seller_id", Cast("phone", CharField()))
            if phone_is_valid(phone)
        },
    )


def _window_orders_after_gap(day: dt.date, states: list[HealthState]) -> dict[int, int]:
    """The full window sum for accounts that cannot roll from yesterday (first close, or a gap
    in closing); rare, so summing their window here keeps the usual cost per day constant."""
    yesterday = day - dt.timedelta(days=1)
    gap_ids = [s.store_account_id for s in states if s.last_closed_day != yesterday]
    if not gap_ids:
        return {}
    first = day - dt.timedelta(days=WINDOW_DAYS - 1)
    rows = (
        DailyOrders.objects.filter(store_account_id__in=gap_ids, day__range=(first, day))
        .values("store_account_id")
        .annotate(total=Sum("orders"))
        .values_list("store_account_id", "total")
    )
    return dict.fromkeys(gap_ids, 0) | dict(rows)


def _local_midnight(marketplace: Marketplace, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=marketplace.zone)


def _violations(
    marketplace: Marketplace,
    day: dt.date,
    chunk: QuerySet[StoreAccount],
    states: list[HealthState],
) -> dict[int, list[ViolationFacts]]:
    """Violations that can be active on `day` for each account: its own store-scope ones and
    its seller's account-wide ones (a seller has one store account per marketplace)."""
    by_seller = {state.store_account.seller_id: state.store_account_id for state in states}
    day_ends = _local_midnight(marketplace, day + dt.timedelta(days=1))
    oldest = _local_midnight(marketplace, day - dt.timedelta(days=WINDOW_DAYS - 1))
    rows = (
        Violation.objects.filter(
            Q(store_account__in=chunk)
            | Q(
                scope=ViolationScope.ACCOUNT_WIDE,
                store_account__seller__in=chunk.values("seller_id"),
            )
        )
        .filter(detected_at__gte=oldest, detected_at__lt=day_ends)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=day_ends))
        .values_list(
            "store_account_id",
            "store_account__seller_id",
            "scope",
            "category",
            "severity",
            "detected_at",
            "resolved_at",
            "repeat",
        )
    )
    found: dict[int, list[ViolationFacts]] = defaultdict(list)
    for pk, seller_id, scope, category, severity, detected, resolved, repeat in rows:
        affected = by_seller.get(seller_id) if scope == ViolationScope.ACCOUNT_WIDE else pk
        if affected is None:
            continue  # a seller whose store account here another run is closing
        found[affected].append(
            ViolationFacts(
                category=category,
                severity=Severity(severity),
                # Days are the marketplace's own: the same instant can be different dates.
                detected_on=marketplace.local_date(detected),
                resolved_on=marketplace.local_date(resolved) if resolved else None,
                repeat=repeat,
            )
        )
    return found


# ---------------------------------------------------------------------------------------------
# The decision for one store account (pure computation on loaded rows)
# ---------------------------------------------------------------------------------------------


def _close_one(state: HealthState, day: dt.date, inputs: ChunkInputs, result: ChunkResult) -> None:
    account = state.store_account
    pk = state.store_account_id
    if state.last_closed_day == day - dt.timedelta(days=1):
        orders = roll_orders(
            state.orders_in_window,
            entering=inputs.orders_entering.get(pk, 0),
            leaving=inputs.orders_leaving.get(pk, 0),
        )
    else:
        orders = inputs.window_orders[pk]
    ahr = compute_ahr(orders_in_window=orders, violations=inputs.violations.get(pk, ()), day=day)
    window = rating_window(state).advance(day, ahr)
    has_contact = account.seller_id in inputs.valid_contact
    decision = decide_day(
        enrolled=state.enrolled,
        window=window,
        facts=account_facts(account, state, has_valid_contact=has_contact),
        day=day,
    )
    state.last_closed_day = day
    state.ahr = ahr
    state.orders_in_window = orders
    state.days_on_record = window.days_on_record
    state.below_mask = mask_to_bytes(window.below_mask)
    result.ratings.append((pk, ahr))
    _record_status(account, ahr, result)
    _apply_decision(state, day, decision, result)


def _record_status(account: StoreAccount, ahr: int, result: ChunkResult) -> None:
    if is_deactivation_level(ahr):
        result.low_ahr.append(account.pk)
    # An enforcement decides DEACTIVATED; the AHR only moves between NORMAL and AT_RISK.
    if account.status == StoreStatus.DEACTIVATED:
        return
    wanted = StoreStatus.AT_RISK if is_at_risk(ahr) else StoreStatus.NORMAL
    if account.status != wanted:
        (result.at_risk if wanted == StoreStatus.AT_RISK else result.normal).append(account.pk)


def _apply_decision(
    state: HealthState, day: dt.date, decision: DayDecision, result: ChunkResult
) -> None:
    if decision.enroll:
        mark_enrolled(state, day)
        result.events.append(_event(state, EnrollmentEventKind.ENROLLED, day))
        result.emails.append((EmailKind.ENROLLED, state, None))
        return
    if decision.remove is not None:
        state.enrolled = False
        state.enrolled_since = None
        result.removed += 1
        result.events.append(_event(state, EnrollmentEventKind.REMOVED, day, decision.remove))
        result.emails.append((EmailKind.REMOVED, state, decision.remove))
        if decision.eligibility is not None and decision.eligibility.waiting_for_contact:
            # Decision: the "AHA lost" email already asks for a contact; the 30-day reminder
            # interval counts from it.
            state.contact_reminded_on = day
    if decision.eligibility is None:
        return
    apply_eligibility(state, decision.eligibility)
    if state.status == EligibilityStatus.WAITING_FOR_CONTACT:
        result.waiting += 1
    if decision.waiting_for_contact and should_remind_about_contact(state.contact_reminded_on, day):
        result.emails.append((EmailKind.CONTACT_NEEDED, state, None))


def _event(
    state: HealthState, kind: str, day: dt.date, reason: object | None = None
) -> EnrollmentEvent:
    return EnrollmentEvent(
        store_account_id=state.store_account_id, kind=kind, reason=reason or "", day=day
    )


# ---------------------------------------------------------------------------------------------
# Writes: in bulk, each skipping what a previous run already wrote
# ---------------------------------------------------------------------------------------------


def _write(
    marketplace: Marketplace, day: dt.date, states: list[HealthState], result: ChunkResult
) -> int:
    emails = _emails(marketplace, day, result)
    _write_ratings(day, result.ratings)
    _write_states(states)
    for status, ids in ((StoreStatus.AT_RISK, result.at_risk), (StoreStatus.NORMAL, result.normal)):
        if ids:
            StoreAccount.objects.filter(id__in=ids).exclude(status=StoreStatus.DEACTIVATED).update(
                status=status
            )
    if result.events:
        EnrollmentEvent.objects.bulk_create(result.events, ignore_conflicts=True)
    written = queue_emails(emails) if emails else 0
    if result.low_ahr:
        handle_low_ratings(
            marketplace_code=marketplace.code, day=day, store_account_ids=result.low_ahr
        )
    return written


def _emails(marketplace: Marketplace, day: dt.date, result: ChunkResult) -> list[EmailDraft]:
    if not result.emails:
        return []
    seller_ids = {state.store_account.seller_id for _kind, state, _reason in result.emails}
    sellers = Seller.objects.in_bulk(seller_ids)
    reminded = _sellers_reminded_recently(result, day)
    emails = []
    for kind, state, reason in result.emails:
        seller = sellers[state.store_account.seller_id]
        if kind == EmailKind.CONTACT_NEEDED:
            if seller.pk in reminded:
                continue
            state.contact_reminded_on = day
            emails.append(
                contact_needed_email(
                    seller=seller,
                    store_account=state.store_account,
                    marketplace=marketplace,
                    day=day,
                )
            )
            continue
        emails.append(
            account_email(
                kind=kind,
                store_account=state.store_account,
                seller=seller,
                marketplace=marketplace,
                day=day,
                reason=reason,
            )
        )
    return emails


def _sellers_reminded_recently(result: ChunkResult, day: dt.date) -> set[int]:
    """Sellers asked for a contact within the interval through another of their store accounts
    (in another marketplace): the reminder is per seller, not per store account."""
    waiting = [s for kind, s, _r in result.emails if kind == EmailKind.CONTACT_NEEDED]
    if not waiting:
        return set()
    since = day - CONTACT_REMINDER_INTERVAL
    return set(
        HealthState.objects.filter(
            store_account__seller_id__in={s.store_account.seller_id for s in waiting},
            contact_reminded_on__gt=since,
        )
        .exclude(store_account_id__in=[s.store_account_id for s in waiting])
        .values_list("store_account__seller_id", flat=True)
    )


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _write_ratings(day: dt.date, ratings: list[tuple[int, int]]) -> None:
    """Append the day's AHRs; a rating already recorded is never rewritten."""
    table = connection.ops.quote_name(DailyRating._meta.db_table)
    if not _is_postgres():
        on = connection.ops.adapt_datefield_value(day)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT OR IGNORE INTO {table} (store_account_id, day, ahr) "  # noqa: S608
                "VALUES (%s, %s, %s)",
                [(pk, on, ahr) for pk, ahr in ratings],
            )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (store_account_id, day, ahr) "  # noqa: S608 - names, not data
            "SELECT id, %s::date, ahr FROM unnest(%s::bigint[], %s::smallint[]) AS r(id, ahr) "
            "ON CONFLICT DO NOTHING",
            [day, [pk for pk, _ in ratings], [ahr for _, ahr in ratings]],
        )


def _write_states(states: list[HealthState]) -> None:
    """Save the closed states: one UPDATE ... FROM unnest on PostgreSQL."""
    table = connection.ops.quote_name(HealthState._meta.db_table)
    if not _is_postgres():
        # bulk_update's CASE WHEN costs more to build than to run; a prepared UPDATE does not.
        assignments = ", ".join(f"{name} = %s" for name in STATE_FIELDS)
        rows = [[_sqlite_value(getattr(s, name)) for name in STATE_FIELDS] for s in states]
        for row, state in zip(rows, states, strict=True):
            row.append(state.store_account_id)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE store_account_id = %s",  # noqa: S608
                rows,
            )
        return
    columns = ", ".join(STATE_FIELDS)
    assignments = ", ".join(f"{name} = v.{name}" for name in STATE_FIELDS)
    arrays = ", ".join(f"%s::{sql_type}[]" for sql_type in ("bigint", *_STATE_SQL_TYPES))
    values = [[s.store_account_id for s in states]]
    values += [[_column_value(s, name) for s in states] for name in STATE_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET {assignments} "  # noqa: S608 - names, not data
            f"FROM unnest({arrays}) AS v(store_account_id, {columns}) "
            "WHERE s.store_account_id = v.store_account_id",
            values,
        )


def _sqlite_value(value: object) -> object:
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    # Choices are str subclasses; the driver wants plain values.
    return str(value) if isinstance(value, str) else value


def _column_value(state: HealthState, name: str) -> object:
    value = getattr(state, name)
    return bytes(value) if name == "below_mask" else value
