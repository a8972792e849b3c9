"""The demo's history replayed in memory, then written in bulk.

Closing 230 days for 8 marketplaces one chunk at a time costs ~1,840 transactions of fixed
cost; here every day of every store account goes through the same pure rules the day close
applies (health.rating.compute_ahr and roll_orders, RatingWindow.advance, decide_day,
should_remind_about_contact) on inputs held in memory, and only the outcome is written: daily
ratings, the states, the enrollment events, the store statuses and the emails. The last day is
then closed by the real day close (health/demo/history.py), so the live state is the service's
own. tests/health/test_seed_demo.py checks that replaying the last 30 days gives exactly what
closing them with close_day_chunk gives.

Decisions:
- History emails (enrolled, AHA lost, add a contact) are written to the outbox as already sent:
  they went out on their day in the story, and a fresh `make run` should not print a hundred of
  them to the console. Emails caused by the real close of the last day and by the scenarios
  after it are sent normally.
- An AHR below 100 in the replayed history opens no AHA case or warning (its deadline would be
  long past); the demo's generated violations are never critical, so the AHR of its history never
  goes that low, and the real close of the last day opens what the live state calls for.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import EmergencyContact, Marketplace, StoreAccount
from health.eligibility import (
    CONTACT_REMINDER_INTERVAL,
    STAYS_ENROLLED,
    AccountFacts,
    RemovalReason,
)
from health.models import (
    DailyOrders,
    DailyRating,
    EmailKind,
    EmailStatus,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
    OutboxEmail,
    StatusCause,
    StatusChange,
    Violation,
    ViolationScope,
)
from health.rating import (
    WINDOW_DAYS,
    Severity,
    ViolationFacts,
    roll_orders,
)
from health.services.day_close import (
    STATE_FIELDS,
    AccountDay,
    WindowDecisions,
    close_account_day,
)
from health.services.enrollment import (
    account_email,
    contact_needed_email,
)
from health.services.outbox import EmailDraft, queue_emails
from health.services.status import status_after_day
from health.state import account_facts, phone_is_valid

BATCH = 5000


@dataclass(frozen=True)
class Story:
    """What people change during the replayed days (a day closes after its changes)."""

    plan_changes: dict[int, tuple[dt.date, str]] = field(default_factory=dict)  # account: plan
    contacts_lost: dict[int, dt.date] = field(default_factory=dict)  # seller id: day


@dataclass
class Replay:
    """The accounts being replayed and what the replay has decided so far."""

    accounts: list[StoreAccount]
    story: Story
    orders: dict[int, dict[dt.date, int]]
    violations: dict[int, list[ViolationFacts]]
    valid_contact: set[int]
    states: dict[int, HealthState] = field(default_factory=dict)
    states_by_seller: dict[int, list[HealthState]] = field(default_factory=dict)
    ratings: list[tuple[int, dt.date, int]] = field(default_factory=list)
    events: list[EnrollmentEvent] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    emails: list[EmailDraft] = field(default_factory=list)
    # Each marketplace's AccountFacts by (plan, valid contact, status, barred).
    facts: dict[str, dict[tuple[str, bool, str, bool], AccountFacts]] = field(default_factory=dict)


def accounts_to_replay(accounts: list[StoreAccount]) -> list[StoreAccount]:
    """The accounts never closed: a rerun, or a later day, goes through the real day close."""
    closed = set(
        HealthState.objects.filter(
            store_account__in=accounts, last_closed_day__isnull=False
        ).values_list("store_account_id", flat=True)
    )
    return [account for account in accounts if account.pk not in closed]


def replay_history(
    accounts: list[StoreAccount],
    *,
    first_day: dt.date,
    last_day: dt.date,
    story: Story,
    on_day: Callable[[], None] = lambda: None,
    history_emails: bool = True,
) -> dict[str, int]:
    """Close `first_day`..`last_day` for never-closed accounts in memory; write the outcome.

    With `history_emails` off (a backfill) the past's emails are not written at all."""
    markets = _by_marketplace(accounts)
    replay = _load(accounts, first_day=first_day, story=story)
    day = first_day
    while day <= last_day:
        _act_out(replay, day)
        for code in sorted(markets):
            marketplace, members = markets[code]
            _close_market_day(replay, marketplace, members, day)
        on_day()
        day += dt.timedelta(days=1)
    if not history_emails:
        replay.emails.clear()
    _write(replay)
    return {"ratings": len(replay.ratings), "events": len(replay.events)}


# ---------------------------------------------------------------------------------------------
# Inputs, read once
# ---------------------------------------------------------------------------------------------


def _load(accounts: list[StoreAccount], *, first_day: dt.date, story: Story) -> Replay:
    orders: dict[int, dict[dt.date, int]] = defaultdict(dict)
    rows = DailyOrders.objects.filter(
        store_account__in=accounts, day__gt=first_day - dt.timedelta(days=WINDOW_DAYS)
    ).values_list("store_account_id", "day", "orders")
    for pk, on, count in rows.iterator(chunk_size=BATCH):
        orders[pk][on] = count
    sellers = {account.seller_id for account in accounts}
    contacts = EmergencyContact.objects.filter(seller_id__in=sellers).values_list(
        "seller_id", "phone"
    )
    return Replay(
        accounts=accounts,
        story=story,
        orders=orders,
        violations=_violation_facts(accounts),
        valid_contact={seller for seller, phone in contacts if phone_is_valid(str(phone))},
    )


def _violation_facts(accounts: list[StoreAccount]) -> dict[int, list[ViolationFacts]]:
    """Each account's own store-scope violations and its seller's account-wide ones, on the
    local days of the account's marketplace (as the day close reads them)."""
    by_seller: dict[int, list[StoreAccount]] = defaultdict(list)
    for account in accounts:
        by_seller[account.seller_id].append(account)
    found: dict[int, list[ViolationFacts]] = defaultdict(list)
    rows = Violation.objects.filter(store_account__seller_id__in=by_seller).values_list(
        "store_account_id",
        "store_account__seller_id",
        "scope",
        "category",
        "severity",
        "detected_at",
        "resolved_at",
        "repeat",
    )
    for pk, seller_id, scope, category, severity, detected, resolved, repeat in rows:
        for account in by_seller[seller_id]:
            if scope != ViolationScope.ACCOUNT_WIDE and account.pk != pk:
                continue
            local = account.marketplace.local_date
            found[account.pk].append(
                ViolationFacts(
                    category=category,
                    severity=Severity(severity),
                    detected_on=local(detected),
                    resolved_on=local(resolved) if resolved else None,
                    repeat=repeat,
                )
            )
    return found


def _by_marketplace(
    accounts: list[StoreAccount],
) -> dict[str, tuple[Marketplace, list[StoreAccount]]]:
    markets: dict[str, tuple[Marketplace, list[StoreAccount]]] = {}
    for account in sorted(accounts, key=lambda a: a.pk):
        marketplace, members = markets.setdefault(account.marketplace_id, (account.marketplace, []))
        # One instance per marketplace, as the day close shares it across a chunk.
        account.marketplace = marketplace
        members.append(account)
    return markets


def _act_out(replay: Replay, day: dt.date) -> None:
    """The story's changes made during `day`, before it closes."""
    for account in replay.accounts:
        change = replay.story.plan_changes.get(account.pk)
        if change and change[0] == day:
            account.plan = change[1]
    for seller_id, lost_on in replay.story.contacts_lost.items():
        if lost_on == day:
            replay.valid_contact.discard(seller_id)


# ---------------------------------------------------------------------------------------------
# One marketplace's day, as close_day_chunk decides it
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Day:
    """What every store account's close of one marketplace's day shares, worked out once."""

    decisions: WindowDecisions
    yesterday: dt.date
    leaving: dt.date
    closed_at: dt.datetime
    facts: dict[tuple[str, bool, str, bool], AccountFacts]


def _close_market_day(
    replay: Replay,
    marketplace: Marketplace,
    members: list[StoreAccount],
    day: dt.date,
) -> None:
    shared = _Day(
        decisions=WindowDecisions(day),
        yesterday=day - dt.timedelta(days=1),
        leaving=day - dt.timedelta(days=WINDOW_DAYS),
        closed_at=_closed_at(marketplace, day),
        facts=replay.facts.setdefault(marketplace.code, {}),
    )
    for account in members:
        if account.opened_on <= day:
            _close_account_day(replay, account, _state(replay, account), marketplace, shared)


def _state(replay: Replay, account: StoreAccount) -> HealthState:
    # `.id`, not `.pk`: the pk property costs more than the rules on a hundred thousand days.
    state = replay.states.get(account.id)
    if state is None:
        state = replay.states[account.id] = HealthState(store_account=account)
        replay.states_by_seller.setdefault(account.seller_id, []).append(state)
    return state


def _close_account_day(
    replay: Replay,
    account: StoreAccount,
    state: HealthState,
    marketplace: Marketplace,
    shared: _Day,
) -> None:
    """One store account's day, decided as close_day_chunk decides it."""
    decisions = shared.decisions
    day = decisions.day
    orders = replay.orders[account.id]
    if state.last_closed_day == shared.yesterday:
        in_window = roll_orders(
            state.orders_in_window,
            entering=orders.get(day, 0),
            leaving=orders.get(shared.leaving, 0),
        )
    else:
        in_window = _window_sum(orders, day)
    has_contact = account.seller_id in replay.valid_contact
    # The facts change only with the story (a plan, a contact): shared by every account alike.
    key = (account.plan, has_contact, account.status, state.barred)
    facts = shared.facts.get(key)
    if facts is None:
        facts = shared.facts[key] = account_facts(account, state, has_valid_contact=has_contact)
    step = close_account_day(
        state,
        orders_in_window=in_window,
        violations=replay.violations.get(account.id, ()),
        facts=facts,
        decisions=decisions,
    )
    replay.ratings.append((account.id, day, step.ahr))
    if (wanted := status_after_day(account.status, step.ahr)) is not None:
        replay.status_changes.append(
            StatusChange(
                store_account=account,
                previous=account.status,
                status=wanted,
                cause=StatusCause.AHR,
                day=day,
                at=shared.closed_at,
            )
        )
        account.status = wanted
    if step.decision is not STAYS_ENROLLED or step.remind_about_contact:
        _record_decision(replay, state, marketplace, day, step)


def _record_decision(
    replay: Replay, state: HealthState, marketplace: Marketplace, day: dt.date, step: AccountDay
) -> None:
    decision = step.decision
    if decision.enroll:
        _event_and_email(replay, state, marketplace, day, EnrollmentEventKind.ENROLLED)
        return
    if decision.remove is not None:
        _event_and_email(
            replay, state, marketplace, day, EnrollmentEventKind.REMOVED, decision.remove
        )
    if step.remind_about_contact and not _seller_reminded_recently(replay, state, day):
        state.contact_reminded_on = day
        account = state.store_account
        replay.emails.append(
            contact_needed_email(
                seller=account.seller, store_account=account, marketplace=marketplace, day=day
            )
        )


def _event_and_email(
    replay: Replay,
    state: HealthState,
    marketplace: Marketplace,
    day: dt.date,
    kind: str,
    reason: RemovalReason | None = None,
) -> None:
    account = state.store_account
    replay.events.append(
        EnrollmentEvent(
            store_account=account,
            kind=kind,
            reason=reason or "",
            day=day,
            at=_closed_at(marketplace, day),
        )
    )
    email_kind = EmailKind.ENROLLED if kind == EnrollmentEventKind.ENROLLED else EmailKind.REMOVED
    replay.emails.append(
        account_email(
            kind=email_kind,
            store_account=account,
            seller=account.seller,
            marketplace=marketplace,
            day=day,
            reason=reason,
        )
    )


def _closed_at(marketplace: Marketplace, day: dt.date) -> dt.datetime:
    """When the night's close would have written a change of `day`, not when it was replayed."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, marketplace.zone)


def _window_sum(orders: dict[dt.date, int], day: dt.date) -> int:
    first = day - dt.timedelta(days=WINDOW_DAYS - 1)
    return sum(count for on, count in orders.items() if first <= on <= day)


def _seller_reminded_recently(replay: Replay, state: HealthState, day: dt.date) -> bool:
    """The reminder is per seller: asked within the interval through another store account."""
    since = day - CONTACT_REMINDER_INTERVAL
    return any(
        other is not state
        and other.contact_reminded_on is not None
        and other.contact_reminded_on > since
        for other in replay.states_by_seller[state.store_account.seller_id]
    )


# ---------------------------------------------------------------------------------------------
# Writes, in bulk
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def _write(replay: Replay) -> None:
    insert_ignoring_duplicates(DailyRating, ("store_account_id", "day", "ahr"), replay.ratings)
    HealthState.objects.bulk_create(
        replay.states.values(),
        update_conflicts=True,
        unique_fields=["store_account"],
        update_fields=list(STATE_FIELDS),
        batch_size=BATCH,
    )
    # Only the store accounts whose status moved are written (the replay moves no other).
    moved = {change.store_account_id for change in replay.status_changes}
    by_status: dict[str, list[int]] = defaultdict(list)
    for state in replay.states.values():
        if state.store_account_id in moved:
            by_status[state.store_account.status].append(state.store_account_id)
    for status, ids in by_status.items():
        StoreAccount.objects.filter(pk__in=ids).update(status=status)
    EnrollmentEvent.objects.bulk_create(replay.events, ignore_conflicts=True, batch_size=BATCH)
    StatusChange.objects.bulk_create(replay.status_changes, batch_size=BATCH)
    queue_emails(replay.emails)
    OutboxEmail.objects.filter(
        key__in=[draft.key for draft in replay.emails], status=EmailStatus.PENDING
    ).update(status=EmailStatus.SENT, sent_at=timezone.now())


def insert_ignoring_duplicates(
    model: type[Model], columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]
) -> None:
    """Insert plain rows, skipping keys already there (a model instance per row is slow)."""
    table = connection.ops.quote_name(model._meta.db_table)
    postgres = connection.vendor == "postgresql"
    if postgres:
        types = [model._meta.get_field(name).db_type(connection) for name in columns]
        _copy_ignoring_duplicates(table, columns, sorted(rows), types)
        return
    insert = "INSERT INTO" if postgres else "INSERT OR IGNORE INTO"
    suffix = " ON CONFLICT DO NOTHING" if postgres else ""
    placeholders = ", ".join(["%s"] * len(columns))
    adapt = functools.cache(connection.ops.adapt_datefield_value)  # a few hundred distinct days

    def adapted(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(adapt(value) if isinstance(value, dt.date) else value for value in row)

    with connection.cursor() as cursor:
        cursor.executemany(
            f"{insert} {table} ({', '.join(columns)}) VALUES ({placeholders}){suffix}",
            [adapted(row) for row in rows],
        )


def _copy_ignoring_duplicates(
    table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]], types: list[str]
) -> None:
    """PostgreSQL: the rows, in key order, by binary COPY straight into the table: the rows of
    store accounts never closed are not there, so this is the cost of writing them. If some are
    (an operator's repair), that is undone and they go by COPY into a scratch copy of the table,
    then one INSERT that skips keys already there. (Half the time of a backfill once went into
    a pipelined INSERT per row.)"""
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        try:
            copying = cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)")
            with transaction.atomic(), copying as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            return
        # COPY is psycopg's own: its errors come unwrapped by Django.
        except (IntegrityError, psycopg.IntegrityError):
            pass
    scratch = "replay_scratch_rows"
    with connection.cursor() as cursor:
        # Names, not data, are formatted into these statements.
        cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {scratch} AS SELECT {names} FROM {table} LIMIT 0"  # noqa: S608
        )
        with cursor.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"DROP TABLE {scratch}")
