"""Closing a marketplace's day for a chunk of store accounts (rules §2-§4 and §8).

The cost of a chunk does not depend on how much history is stored: it reads each account's
HealthState (the rolling window), the orders of the day entering and of the day leaving the
180-day window, and the violations that can be active on the day; then it writes in bulk.
A rerun, or a second run at the same time, waits for the states it needs, finds them already
closed, and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from operator import attrgetter

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet, Sum
from psycopg.adapt import PyFormat

from accounts.models import Marketplace, SellingPlan, StoreAccount, StoreStatus
from health.eligibility import (
    CONTACT_REMINDER_INTERVAL,
    STAYS_ENROLLED,
    AccountFacts,
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
    is_below_aha_line,
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
from health.services.status import change_day_statuses, status_after_day
from health.state import mask_to_bytes, phone_is_valid, stored_window

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
# Positions in a closed row, ("store_account_id", *STATE_FIELDS).
_AHR = 1 + STATE_FIELDS.index("ahr")
# SQL types of the scratch table a PostgreSQL close copies the closed states into.
_CLOSED = "day_close_closed_states"
_STATE_SQL_TYPES = (
    "bigint",
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


@dataclass(slots=True)
class OpenState:
    """A HealthState row being closed with a decision (enrolled, removed, re-evaluated), with
    what the close needs of its store account and seller: made only for those few store
    accounts, from their plain row (a model instance apiece would cost more than the rules).
    Its HealthState fields keep their model names (see STATE_FIELDS)."""

    store_account_id: int
    last_closed_day: dt.date | None
    orders_in_window: int
    days_on_record: int
    below_mask: bytes | memoryview | None
    status: str
    failing: str
    first_qualifying_day: dt.date | None
    enrolled: bool
    enrolled_since: dt.date | None
    barred: bool
    contact_reminded_on: dt.date | None
    seller_id: int
    plan: str
    store_status: str
    has_valid_contact: bool
    ahr: int | None = None


@dataclass
class ChunkInputs:
    """Everything a chunk reads besides the states themselves."""

    yesterday: dt.date
    orders_entering: dict[int, int]
    orders_leaving: dict[int, int]
    window_orders: dict[int, int]
    violations: dict[int, list[ViolationFacts]]


@dataclass
class ChunkResult:
    """What a chunk decided, ready to be written in bulk."""

    at_risk: list[int] = field(default_factory=list)
    normal: list[int] = field(default_factory=list)
    low_ahr: list[int] = field(default_factory=list)
    events: list[EnrollmentEvent] = field(default_factory=list)
    emails: list[tuple[str, OpenState, object]] = field(default_factory=list)
    waiting: int = 0
    removed: int = 0


def close_day_chunk(
    *, marketplace_code: str, day: dt.date, first_id: int, last_id: int
) -> dict[str, int]:
    """Close `day` for the marketplace's store accounts with ids in [first_id, last_id].

    Raises ChunkIncompleteError, undoing the chunk, if a store account is still open after."""
    marketplace = Marketplace.objects.get(code=marketplace_code)
    # No savepoint inside a caller's transaction (run_chunk's): a failure here must undo the
    # whole chunk anyway, and the savepoint cost two round trips per chunk.
    with transaction.atomic(savepoint=False), _without_cycle_collection():
        chunk = StoreAccount.objects.filter(
            marketplace=marketplace, id__range=(first_id, last_id), opened_on__lte=day
        )
        counts = _close_open_states(marketplace, chunk, day, (first_id, last_id))
        if left_open := _accounts_left_open(chunk, day, (first_id, last_id)):
            # Store accounts with no HealthState yet (new ones): created, then closed like the
            # others. Looking for them after the close costs nothing on the nights they are not
            # there, which are most nights.
            HealthState.objects.bulk_create(
                [HealthState(store_account_id=pk) for pk in left_open], ignore_conflicts=True
            )
            more = _close_open_states(marketplace, chunk, day, (first_id, last_id))
            counts = {name: counts[name] + more[name] for name in counts}
            if _accounts_left_open(chunk, day, (first_id, last_id)):
                # A safety net: the close waits for states locked elsewhere, so none should be
                # left; marking the chunk done would leave their day unclosed forever.
                raise ChunkIncompleteError(f"{marketplace_code} {day} [{first_id}..{last_id}]")
    return counts


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a chunk. Its thousands of states and rows
    form no reference cycles, yet each collection they trigger walks them all again; the
    collector runs as usual, over whatever is left, once the chunk is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ChunkIncompleteError(Exception):
    """Some store accounts of a chunk were not closed; retry the chunk."""


def _close_open_states(
    marketplace: Marketplace,
    chunk: QuerySet[StoreAccount],
    day: dt.date,
    id_range: tuple[int, int],
) -> dict[str, int]:
    rows = _lock_open_states(marketplace, day, id_range)
    if not rows:
        return _counts(0, ChunkResult(), emails=0)
    inputs = _load_inputs(marketplace, day, chunk, rows)
    result = ChunkResult()
    closed = _close_rows(rows, inputs, WindowDecisions(day), _facts_of(marketplace), result)
    emails = _write(marketplace, day, closed, result)
    return _counts(len(rows), result, emails=emails)


def _accounts_left_open(
    chunk: QuerySet[StoreAccount], day: dt.date, id_range: tuple[int, int]
) -> list[int]:
    """The chunk's store accounts whose day is not closed: no state yet, or one still open."""
    # The closed states are looked up by their own id range: a join walked every state from the
    # first id.
    closed = HealthState.objects.filter(store_account__id__range=id_range, last_closed_day__gte=day)
    return list(
        chunk.exclude(pk__in=closed.values("store_account_id"))
        .order_by()
        .values_list("id", flat=True)
    )


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
    marketplace: Marketplace, day: dt.date, id_range: tuple[int, int]
) -> list[tuple]:
    """The states still to close for `day`, locked, with their accounts' and contacts' facts:
    rows of _OPEN_STATES_SQL, in id order."""
    sql = _OPEN_STATES_SQL if _is_postgres() else _OPEN_STATES_SQL.replace("FOR UPDATE OF s", "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*id_range, *id_range, marketplace.code, day, day])
        if _is_postgres():
            return cursor.fetchall()
        return [tuple(_from_sqlite(row)) for row in cursor.fetchall()]


# Positions in a row of _OPEN_STATES_SQL: its first columns are OpenState's fields up to the
# contact, which the row gives as its stored judgement and its number.
_OPEN_COLUMNS = tuple(field.name for field in fields(OpenState))
_SELLER = _OPEN_COLUMNS.index("seller_id")
_CONTACT = _OPEN_COLUMNS.index("has_valid_contact")
# Positions of the dates and booleans in a row of _OPEN_STATES_SQL: SQLite's declared-type
# converters do not always reach raw queries, so plain text and integers are turned back here.
_DATE_COLUMNS = (1, 7, 9, 11)
_BOOLEAN_COLUMNS = (8, 10, 15)


def _from_sqlite(row: tuple) -> list:
    values = list(row)
    for n in _DATE_COLUMNS:
        if isinstance(values[n], str):
            values[n] = dt.date.fromisoformat(values[n])
    for n in _BOOLEAN_COLUMNS:
        if isinstance(values[n], int):
            values[n] = bool(values[n])
    return values


# The open states of a chunk with their accounts' and contacts' facts, in OpenState's order (the
# contact's stored judgement last, then its number where none was stored: rows written in bulk).
# Written out so that both sides of the join carry the id range: the planner keeps to the chunk
# instead of hashing whole tables, whose size grows with the marketplace.
# Decision: plain FOR UPDATE, not SKIP LOCKED. A chunk runs once at a time (run_chunk locks it),
# so the only other lockers are a seller's or specialist's one-account writes: waiting for them
# closes every account now instead of leaving some for a retry. A row such a write has just
# closed is re-checked and left out.
_OPEN_STATES_SQL = """
SELECT s.store_account_id, s.last_closed_day, s.orders_in_window, s.days_on_record, s.below_mask,
       s.status, s.failing, s.first_qualifying_day, s.enrolled, s.enrolled_since, s.barred,
       s.contact_reminded_on, a.seller_id, a.plan, a.status, c.is_dialable,
       CASE WHEN c.is_dialable IS NULL THEN c.phone END
FROM health_healthstate s
JOIN accounts_storeaccount a ON a.id = s.store_account_id
LEFT JOIN accounts_emergencycontact c ON c.seller_id = a.seller_id
WHERE s.store_account_id BETWEEN %s AND %s AND a.id BETWEEN %s AND %s
  AND a.marketplace_id = %s AND a.opened_on <= %s
  AND (s.last_closed_day IS NULL OR s.last_closed_day < %s)
ORDER BY s.store_account_id
FOR UPDATE OF s
"""


def _contact_valid(dialable: bool | None, unjudged_phone: str | None) -> bool:
    return dialable if dialable is not None else phone_is_valid(unjudged_phone or "")


def _load_inputs(
    marketplace: Marketplace,
    day: dt.date,
    chunk: QuerySet[StoreAccount],
    rows: list[tuple],
) -> ChunkInputs:
    """The chunk's orders and violations. Filters select by the chunk (a subquery), not by lists
    of ids, which cost more to build than to run on big chunks."""
    leaving_day = day - dt.timedelta(days=WINDOW_DAYS)
    entering: dict[int, int] = {}
    leaving: dict[int, int] = {}
    # By the id range, not the chunk's subquery: an index range scan instead of a scan of whole
    # days. Ids of other marketplaces in the range are simply never looked up.
    first_id, last_id = rows[0][0], rows[-1][0]
    for pk, on, orders in DailyOrders.objects.filter(
        store_account__id__range=(first_id, last_id), day__in=[day, leaving_day]
    ).values_list("store_account_id", "day", "orders"):
        (entering if on == day else leaving)[pk] = orders
    return ChunkInputs(
        yesterday=day - dt.timedelta(days=1),
        orders_entering=entering,
        orders_leaving=leaving,
        window_orders=_window_orders_after_gap(day, rows),
        violations=_violations(marketplace, day, chunk, rows),
    )


def _window_orders_after_gap(day: dt.date, rows: list[tuple]) -> dict[int, int]:
    """The full window sum for accounts that cannot roll from yesterday (first close, or a gap
    in closing); rare, so summing their window here keeps the usual cost per day constant."""
    yesterday = day - dt.timedelta(days=1)
    gap_ids = [row[0] for row in rows if row[1] != yesterday]
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
    rows: list[tuple],
) -> dict[int, list[ViolationFacts]]:
    """Violations that can be active on `day` for each account: its own store-scope ones and
    its seller's account-wide ones (a seller has one store account per marketplace)."""
    by_seller = {row[_SELLER]: row[0] for row in rows}
    day_ends = _local_midnight(marketplace, day + dt.timedelta(days=1))
    oldest = _local_midnight(marketplace, day - dt.timedelta(days=WINDOW_DAYS - 1))
    columns = ("scope", "category", "severity", "detected_at", "resolved_at", "repeat")
    active = (
        Violation.objects.filter(detected_at__gte=oldest, detected_at__lt=day_ends)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=day_ends))
        .order_by()
    )
    # Two halves, each on its own index, in one round trip: one OR across both made PostgreSQL
    # scan every store account of the marketplace for each chunk.
    first_id, last_id = rows[0][0], rows[-1][0]
    own = (
        active.filter(store_account__id__range=(first_id, last_id))
        .exclude(scope=ViolationScope.ACCOUNT_WIDE)
        .values_list("store_account_id", *columns)
    )
    account_wide = active.filter(
        scope=ViolationScope.ACCOUNT_WIDE,
        store_account__seller__in=chunk.values("seller_id"),
    ).values_list("store_account__seller_id", *columns)
    found: dict[int, list[ViolationFacts]] = defaultdict(list)
    for owner, scope, category, severity, detected, resolved, repeat in own.union(
        account_wide, all=True
    ):
        # The owner is the store account of a store-scope row, the seller of an account-wide one.
        affected = by_seller.get(owner) if scope == ViolationScope.ACCOUNT_WIDE else owner
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


@dataclass
class ClosedRows:
    """A chunk's closed states, ready to write: most as rows in the order of
    ("store_account_id", *STATE_FIELDS), the few whose decision changes more than the window
    (or that are emailed, which can change them again) as OpenStates."""

    id_range: tuple[int, int]
    rows: list[tuple]
    decided: list[OpenState]

    def all_rows(self) -> list[tuple]:
        row_of = attrgetter("store_account_id", *STATE_FIELDS)
        return self.rows + [row_of(state) for state in self.decided]


def _close_rows(
    rows: list[tuple],
    inputs: ChunkInputs,
    decisions: WindowDecisions,
    facts_of: Callable[[tuple[str, bool, str, bool]], AccountFacts],
    result: ChunkResult,
) -> ClosedRows:
    """Close the day of every open state of a chunk (rows of _OPEN_STATES_SQL).

    One loop over plain rows, each step inline: on most nights, for most store accounts, the
    rules decide nothing beyond the window (STAYS_ENROLLED, worked out once per case), and the
    row written is the row read with the day's AHR, orders and window put in. Only the store
    accounts with a decision become OpenStates, written by apply_day as the replay's are."""
    day = decisions.day
    yesterday = inputs.yesterday
    entering = inputs.orders_entering.get
    leaving = inputs.orders_leaving.get
    violations_of = inputs.violations.get
    window_orders = inputs.window_orders
    ahr_of = decisions.ahr
    step_of = decisions.step
    contact_valid = _contact_valid
    at_risk, normal, low_ahr = result.at_risk, result.normal, result.low_ahr
    closed: list[tuple] = []
    decided: list[OpenState] = []
    for row in rows:
        (
            pk,
            last_day,
            orders,
            days_on_record,
            below_mask,
            status,
            failing,
            first_qualifying_day,
            enrolled,
            enrolled_since,
            barred,
            reminded_on,
            _seller_id,
            plan,
            store_status,
            dialable,
            unjudged_phone,
        ) = row
        if last_day == yesterday:
            orders = roll_orders(orders, entering=entering(pk, 0), leaving=leaving(pk, 0))
        else:
            orders = window_orders[pk]
        violations = violations_of(pk, ())
        ahr = ahr_of(orders, violations)
        facts_key = (plan, contact_valid(dialable, unjudged_phone), store_status, barred)
        window_days, window_mask, decision = step_of(
            ahr, last_day, days_on_record, below_mask, enrolled, facts_key, facts_of
        )
        if is_deactivation_level(ahr):
            low_ahr.append(pk)
        if (moved_to := status_after_day(store_status, ahr)) is not None:
            (at_risk if moved_to == StoreStatus.AT_RISK else normal).append(pk)
        if decision is STAYS_ENROLLED:  # most nights: nothing else to record
            closed.append(
                (
                    pk,
                    day,
                    ahr,
                    orders,
                    window_days,
                    window_mask,
                    status,
                    failing,
                    first_qualifying_day,
                    enrolled,
                    enrolled_since,
                    reminded_on,
                )
            )
            continue
        state = OpenState(*row[:_CONTACT], has_valid_contact=facts_key[1])
        step = apply_day(
            state,
            day,
            ahr=ahr,
            orders_in_window=orders,
            days_on_record=window_days,
            below_mask=window_mask,
            decision=decision,
        )
        _record_decision(state, day, step, result)
        decided.append(state)
    return ClosedRows((rows[0][0], rows[-1][0]), closed, decided)


@dataclass(slots=True)
class AccountDay:
    """What closing one store account's day decided (the state already holds the outcome).
    Not frozen, and built from positional arguments: one is made per store account a night, and
    this builds faster than a frozen dataclass or a named tuple."""

    ahr: int
    decision: DayDecision
    remind_about_contact: bool


class WindowDecisions:
    """The AHRs, window steps and enrollment decisions of one day, each distinct case worked out
    once.

    The window step and the decision depend only on whether the day's AHR is below the AHA line,
    the stored window, the enrollment and the store account's facts; the AHR of a store account
    with no violation, on its orders alone. The thousands of store accounts of a chunk share a
    few hundred such cases: the pure rules decide each case, and the store accounts in it reuse
    the result instead of computing an AHR, two windows and a decision apiece."""

    def __init__(self, day: dt.date) -> None:
        self.day = day
        self._known: dict[tuple, tuple[int, bytes, DayDecision]] = {}
        self._ahr_by_orders: dict[int, int] = {}

    def ahr(self, orders_in_window: int, violations: Iterable[ViolationFacts]) -> int:
        """compute_ahr of the day: with no violation it depends on the orders alone, so each
        count is computed once; the few store accounts with violations are computed apiece."""
        if violations:
            return compute_ahr(
                orders_in_window=orders_in_window, violations=violations, day=self.day
            )
        ahr = self._ahr_by_orders.get(orders_in_window)
        if ahr is None:
            ahr = compute_ahr(orders_in_window=orders_in_window, violations=(), day=self.day)
            self._ahr_by_orders[orders_in_window] = ahr
        return ahr

    def decide(
        self, state: OpenState | HealthState, ahr: int, facts: AccountFacts
    ) -> tuple[int, bytes, DayDecision]:
        """The days on record and stored below mask after the day, and the day's decision."""
        stored = (state.last_closed_day, state.days_on_record, state.below_mask, state.enrolled)
        return self.step(ahr, *stored, facts, _same_facts)

    def step(
        self,
        ahr: int,
        last_closed_day: dt.date | None,
        days_on_record: int,
        below_mask: bytes | None,
        enrolled: bool,
        facts_key: tuple,
        facts_of: Callable[[tuple], AccountFacts],
    ) -> tuple[int, bytes, DayDecision]:
        """decide() for a stored state's values, with the facts named by a key (`facts_of` builds
        them the first time a case is met). The nightly close keys them by plain values: hashing
        those costs a fraction of hashing the facts, and this runs once per store account."""
        case = (
            is_below_aha_line(ahr),
            last_closed_day,
            days_on_record,
            below_mask,
            enrolled,
            facts_key,
        )
        known = self._known.get(case)
        if known is None:
            window = stored_window(last_closed_day, days_on_record, below_mask)
            window = window.advance(self.day, ahr)
            facts = facts_of(facts_key)
            decision = decide_day(enrolled=enrolled, window=window, facts=facts, day=self.day)
            known = (window.days_on_record, mask_to_bytes(window.below_mask), decision)
            self._known[case] = known
        return known


def _same_facts(facts: AccountFacts) -> AccountFacts:
    """WindowDecisions.decide's facts key: the facts themselves."""
    return facts


def close_account_day(
    state: OpenState | HealthState,
    *,
    orders_in_window: int,
    violations: Iterable[ViolationFacts],
    facts: AccountFacts,
    decisions: WindowDecisions,
) -> AccountDay:
    """Close the day of `decisions` for one store account: its AHR, window and enrollment,
    written into `state`.

    The one per-account step of the demo's history replay; the nightly close takes its second
    half, apply_day, for the store accounts with a decision."""
    ahr = decisions.ahr(orders_in_window, violations)
    days_on_record, below_mask, decision = decisions.decide(state, ahr, facts)
    return apply_day(
        state,
        decisions.day,
        ahr=ahr,
        orders_in_window=orders_in_window,
        days_on_record=days_on_record,
        below_mask=below_mask,
        decision=decision,
    )


def apply_day(
    state: OpenState | HealthState,
    day: dt.date,
    *,
    ahr: int,
    orders_in_window: int,
    days_on_record: int,
    below_mask: bytes,
    decision: DayDecision,
) -> AccountDay:
    """Write one store account's closed day, as the rules decided it, into `state`."""
    state.last_closed_day = day
    state.ahr = ahr
    state.orders_in_window = orders_in_window
    state.days_on_record = days_on_record
    state.below_mask = below_mask
    if decision.enroll:
        mark_enrolled(state, day)
        return AccountDay(ahr, decision, False)
    if decision.remove is not None:
        state.enrolled = False
        state.enrolled_since = None
        if decision.eligibility is not None and decision.eligibility.waiting_for_contact:
            # Decision: the "AHA lost" email already asks for a contact; the 30-day reminder
            # interval counts from it.
            state.contact_reminded_on = day
    if decision.eligibility is None:
        return AccountDay(ahr, decision, False)
    apply_eligibility(state, decision.eligibility)
    remind = decision.waiting_for_contact and should_remind_about_contact(
        state.contact_reminded_on, day
    )
    return AccountDay(ahr, decision, remind)


def _facts_of(marketplace: Marketplace) -> Callable[[tuple[str, bool, str, bool]], AccountFacts]:
    """health.state.account_facts, from the values read with the open state: its plan, whether
    its contact is valid, its status and whether it is barred. A chunk holds a handful of distinct
    facts among thousands of accounts: each is built once and shared."""
    known: dict[tuple[str, bool, str, bool], AccountFacts] = {}

    def facts_of(key: tuple[str, bool, str, bool]) -> AccountFacts:
        facts = known.get(key)
        if facts is None:
            plan, has_valid_contact, store_status, barred = key
            facts = known[key] = AccountFacts(
                professional=plan == SellingPlan.PROFESSIONAL,
                has_valid_contact=has_valid_contact,
                deactivated=store_status == StoreStatus.DEACTIVATED,
                aha_available_from=marketplace.aha_available_from,
                barred=barred,
            )
        return facts

    return facts_of


def _record_decision(state: OpenState, day: dt.date, step: AccountDay, result: ChunkResult) -> None:
    decision = step.decision
    if decision.enroll:
        result.events.append(_event(state, EnrollmentEventKind.ENROLLED, day))
        result.emails.append((EmailKind.ENROLLED, state, None))
        return
    if decision.remove is not None:
        result.removed += 1
        result.events.append(_event(state, EnrollmentEventKind.REMOVED, day, decision.remove))
        result.emails.append((EmailKind.REMOVED, state, decision.remove))
    if state.status == EligibilityStatus.WAITING_FOR_CONTACT:
        result.waiting += 1
    if step.remind_about_contact:
        result.emails.append((EmailKind.CONTACT_NEEDED, state, None))


def _event(
    state: OpenState, kind: str, day: dt.date, reason: object | None = None
) -> EnrollmentEvent:
    return EnrollmentEvent(
        store_account_id=state.store_account_id, kind=kind, reason=reason or "", day=day
    )


# ---------------------------------------------------------------------------------------------
# Writes: in bulk, each skipping what a previous run already wrote
# ---------------------------------------------------------------------------------------------


def _write(marketplace: Marketplace, day: dt.date, closed: ClosedRows, result: ChunkResult) -> int:
    # The emails first: a reminder sent tonight is stored with the state.
    emails = _emails(marketplace, day, result)
    rows = closed.all_rows()
    if _is_postgres():
        _copy_closed_states(rows, closed.id_range)
    else:
        _write_ratings(day, rows)
        _write_states(rows)
    change_day_statuses(day=day, at_risk=result.at_risk, normal=result.normal)
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
    # The few accounts emailed tonight are loaded as models; the others never are.
    accounts = StoreAccount.objects.select_related("seller").in_bulk(
        {state.store_account_id for _kind, state, _reason in result.emails}
    )
    reminded = _sellers_reminded_recently(result, day)
    emails = []
    for kind, state, reason in result.emails:
        account = accounts[state.store_account_id]
        account.marketplace = marketplace
        if kind == EmailKind.CONTACT_NEEDED:
            if state.seller_id in reminded:
                continue
            state.contact_reminded_on = day
            emails.append(
                contact_needed_email(
                    seller=account.seller, store_account=account, marketplace=marketplace, day=day
                )
            )
            continue
        emails.append(
            account_email(
                kind=kind,
                store_account=account,
                seller=account.seller,
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
            store_account__seller_id__in={s.seller_id for s in waiting},
            contact_reminded_on__gt=since,
        )
        .exclude(store_account_id__in=[s.store_account_id for s in waiting])
        .values_list("store_account__seller_id", flat=True)
    )


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _copy_closed_states(rows: list[tuple], id_range: tuple[int, int]) -> None:
    """Save the closed states and append the day's AHRs on PostgreSQL: the rows go in by COPY
    (adapted in C) to a scratch table, then one UPDATE and one INSERT read it. Arrays bound as
    parameters were adapted in Python, element by element, and cost more than the statements."""
    columns = ("store_account_id", *STATE_FIELDS)
    definition = ", ".join(
        f"{name} {sql_type}" for name, sql_type in zip(columns, _STATE_SQL_TYPES, strict=True)
    )
    assignments = ", ".join(f"{name} = v.{name}" for name in STATE_FIELDS)
    states_table = connection.ops.quote_name(HealthState._meta.db_table)
    ratings_table = connection.ops.quote_name(DailyRating._meta.db_table)
    # Names, not data, are formatted into these statements.
    with connection.cursor() as cursor:
        # Created once per database session and emptied at every commit (a closed chunk's rows
        # never outlive it); creating it for every chunk wrote to the catalogue each time.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_CLOSED} ({definition}) ON COMMIT DELETE ROWS"
        )
        # Binary: a quarter of the CPU of the text format, on both sides.
        # Typed by name, a bytea column gets psycopg's DB-API dumper, written in Python to
        # accept its Binary wrapper; the masks are plain bytes, which its C dumper writes.
        adapters = cursor.cursor.adapters
        adapters.register_dumper(bytes, adapters.get_dumper(bytes, PyFormat.BINARY))
        with cursor.copy(
            f"COPY {_CLOSED} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_STATE_SQL_TYPES)
            for row in rows:
                copy.write_row(row)
        # One statement: the ratings, the states, and the scratch rows cleared for a next chunk
        # in the same transaction; every part sees the rows as copied.
        write = (
            f"WITH ratings AS (INSERT INTO {ratings_table} (store_account_id, day, ahr) "  # noqa: S608
            f"SELECT store_account_id, last_closed_day, ahr FROM {_CLOSED}{{on_conflict}}), "
            f"states AS (UPDATE {states_table} AS s SET {assignments} FROM {_CLOSED} AS v "
            "WHERE s.store_account_id = v.store_account_id "
            # The chunk's range on the states' side too: without it a merge join read the
            # primary key from the first id on, a cost that grew with the marketplace.
            "AND s.store_account_id BETWEEN %s AND %s) "
            f"DELETE FROM {_CLOSED}"
        )
        # A rating already recorded is never rewritten. The states are locked and still open
        # for the day, so their ratings cannot be there: a plain INSERT, at the cost of the
        # database floor. ON CONFLICT DO NOTHING, which checks before it writes and confirms
        # after, cost twice as much; it is kept for the store accounts whose rating of the day
        # was recorded some other way (an operator's repair).
        params = list(id_range)
        try:
            with transaction.atomic():
                cursor.execute(write.format(on_conflict=""), params)
        except IntegrityError:
            cursor.execute(write.format(on_conflict=" ON CONFLICT DO NOTHING"), params)


def _write_ratings(day: dt.date, rows: list[tuple]) -> None:
    """Append the day's AHRs (SQLite); a rating already recorded is never rewritten."""
    table = connection.ops.quote_name(DailyRating._meta.db_table)
    on = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT OR IGNORE INTO {table} (store_account_id, day, ahr) "  # noqa: S608
            "VALUES (%s, %s, %s)",
            [(row[0], on, row[_AHR]) for row in rows],
        )


def _write_states(rows: list[tuple]) -> None:
    """Save the closed states (SQLite): bulk_update's CASE WHEN costs more to build than to run;
    a prepared UPDATE does not."""
    table = connection.ops.quote_name(HealthState._meta.db_table)
    assignments = ", ".join(f"{name} = %s" for name in STATE_FIELDS)
    # The row's id goes last, for the WHERE.
    values = [[*map(_sqlite_value, row[1:]), row[0]] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE store_account_id = %s",  # noqa: S608
            values,
        )


def _sqlite_value(value: object) -> object:
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    # Choices are str subclasses; the driver wants plain values.
    return str(value) if isinstance(value, str) else value
