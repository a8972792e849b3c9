"""Deterministic demo history: daily orders and violations for the demo store accounts, the days
replayed in memory with the day close's own rules (health/demo/replay.py), the last day closed by
the real day close, and the people's actions of health/demo/scenarios.py.

Together with the showcase sellers of health/demo/seed.py this puts every state of rules §3-§4
in the demo: enrolled, waiting for a contact, not eligible for each of E1-E6, removed for each
of R1-R7, barred, brand new. Running it again adds nothing; run on a later day, it closes the
days in between through the real day close.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from accounts.models import Marketplace, StoreAccount, User
from health.demo import scenarios
from health.demo.replay import (
    Story,
    accounts_to_replay,
    replay_history,
)
from health.demo.seed import SHOWCASES
from health.eligibility import MAX_CONSECUTIVE_DAYS_BELOW
from health.models import (
    DailyOrders,
    HealthState,
    Severity,
    Violation,
    ViolationCategory,
    ViolationScope,
)
from health.progress import Progress
from health.rating import WINDOW_DAYS
from health.services.day_close import close_day_chunk

# How many days back the demo closes: enough for an account to enroll (180 days on record) and
# then live through 50 days of enrollment, removals and re-enrollments.
HISTORY_DAYS = 230
# The last days closed by the real day close (the ones before are replayed in memory).
REAL_CLOSE_DAYS = 1
# Showcase scenarios happen this many days before the last closed day.
SLUMP_STARTS = 30
SEVERITY_WEIGHTS = {Severity.LOW: 50, Severity.MEDIUM: 35, Severity.HIGH: 15}
BATCH = 5000
DAYS_PER_COMMIT = 30
LAUNCH_DAYS = 10


@dataclass(frozen=True)
class Profile:
    """How a demo store account sells: mean daily orders and daily chance of a violation."""

    daily_orders: int
    violation_chance: float
    launch_orders: int = 0  # extra daily orders in the first LAUNCH_DAYS after opening


def role_of(account: StoreAccount) -> str:
    """The showcase role of a demo store account, or "" for the random crowd."""
    index = int(account.seller.email.removeprefix("seller").split("@")[0])
    showcase = SHOWCASES.get(index)
    return showcase.role if showcase else ""


def profile_for(account: StoreAccount, rng: random.Random) -> Profile:
    role = role_of(account)
    if role == "r1":
        # Just above the line (about 256), so that its slump violations take it below 250.
        return Profile(daily_orders=15, violation_chance=0)
    if role == "dashboard" and account.marketplace_id == "DE":
        # A strong launch keeps its days below 250 within the allowance: only time (E3) is
        # missing, which the dashboard shows as progress.
        return Profile(daily_orders=20, violation_chance=0, launch_orders=320)
    if role:
        return Profile(daily_orders=35, violation_chance=0)
    kind = rng.random()
    if kind < 0.15:
        return Profile(daily_orders=rng.randint(3, 12), violation_chance=0.01)
    if kind < 0.25:
        return Profile(daily_orders=rng.randint(15, 40), violation_chance=0.04)
    return Profile(daily_orders=rng.randint(18, 45), violation_chance=0.008)


def seed_history(
    *, last_day: dt.date, seed: int, seller_user: User, specialist: User, verbosity: int = 1
) -> dict[str, int]:
    """Replay and close the days of the loaded orders and violations, act out R2-R7."""
    accounts = list(
        StoreAccount.objects.filter(seller__email__endswith="@demo.example")
        .select_related("seller", "marketplace")
        .order_by("id")
    )
    by_role = {role_of(account): account for account in accounts}
    told = scenarios.story(by_role, last_day)
    replayed = replay_days(accounts, last_day=last_day, told=told, verbosity=verbosity)
    closed = close_history(accounts, last_day=last_day, told=told, verbosity=verbosity)
    decisions = scenarios.play_specialist_decisions(by_role, specialist)
    dashboard = next(a for a in accounts if role_of(a) == "dashboard" and a.marketplace_id == "US")
    scenarios.stage_dashboard(dashboard, seller_user=seller_user, specialist=specialist)
    return {"days": replayed + closed, "decisions": decisions}


def replay_days(
    accounts: list[StoreAccount], *, last_day: dt.date, told: Story, verbosity: int
) -> int:
    """Replay the history up to the days the real close takes; accounts closed before skip it."""
    fresh = accounts_to_replay(accounts)
    first = last_day - dt.timedelta(days=HISTORY_DAYS - 1)
    until = last_day - dt.timedelta(days=REAL_CLOSE_DAYS)
    if not fresh or until < first:
        return 0
    days = (until - first).days + 1
    progress = Progress("Replaying history", days) if verbosity else None
    replay_history(
        fresh,
        first_day=first,
        last_day=until,
        story=told,
        on_day=progress.advance if progress else lambda: None,
    )
    scenarios.make_story_changes(told, until=until)
    return days


# ---------------------------------------------------------------------------------------------
# Orders and violations
# ---------------------------------------------------------------------------------------------


def generate_inputs(
    accounts: list[StoreAccount], *, last_day: dt.date, seed: int
) -> tuple[list[list[object]], list[list[object]]]:
    """Rows of the import's orders.csv and violations.csv: daily orders up to `last_day` for days
    not generated yet, violations on the first run. The store accounts need not be saved: they
    are named by their external ids."""
    generated_until = dict(
        DailyOrders.objects.filter(store_account__external_id__in=[a.external_id for a in accounts])
        .values("store_account__external_id")
        .annotate(last=Max("day"))
        .values_list("store_account__external_id", "last")
    )
    first_possible = last_day - dt.timedelta(days=HISTORY_DAYS + WINDOW_DAYS - 1)
    order_rows: list[list[object]] = []
    violation_rows: list[list[object]] = []
    for account in accounts:
        rng = random.Random(f"{seed}:{account.seller.email}:{account.marketplace_id}")
        profile = profile_for(account, rng)
        done = generated_until.get(account.external_id)
        start = max(account.opened_on, first_possible)
        # Keyed by names, not ids: ids depend on the database (sequences are not rolled back).
        day_rng = random.Random(f"{seed}:{account.seller.email}:{account.marketplace_id}:{start}")
        # Drawn from the first day every time, so a day that sold nothing (no row) draws nothing
        # again on a rerun; only the days after the last one stored are new.
        order_rows += [
            [account.external_id, on.isoformat(), count]
            for on, count in _daily_orders(profile, start, last_day, day_rng)
            if done is None or on > done
        ]
        if done is None:
            violation_rows += [
                violation_row(account, n, violation)
                for n, violation in enumerate(_violations(account, profile, last_day, rng))
            ]
    return order_rows, violation_rows


def violation_row(account: StoreAccount, n: int, violation: Violation) -> list[object]:
    """A violation as a row of the import's violations.csv; account-wide ones name the seller."""
    wide = violation.scope == ViolationScope.ACCOUNT_WIDE
    resolved = violation.resolved_at
    return [
        f"{account.external_id}-v{n}",
        "" if wide else account.external_id,
        account.seller.external_id if wide else "",
        violation.category,
        violation.severity,
        "false",
        violation.detected_at.isoformat(),
        resolved.isoformat() if resolved else "",
        violation.description,
        "",
        "",
    ]


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _daily_orders(
    profile: Profile, first: dt.date, last: dt.date, rng: random.Random
) -> Iterator[tuple[dt.date, int]]:
    spread = max(profile.daily_orders // 4, 1)
    launch_ends = first + dt.timedelta(days=LAUNCH_DAYS)
    for on in _days(first, last):
        # Weekends sell a little more; some days sell nothing (no row).
        weekend = 1.2 if on.weekday() >= 5 else 1.0
        count = round(rng.gauss(profile.daily_orders * weekend, spread))
        count += profile.launch_orders if on < launch_ends else 0
        if count > 0:
            yield on, count


def _violations(
    account: StoreAccount, profile: Profile, last_day: dt.date, rng: random.Random
) -> list[Violation]:
    found = [*_scripted_violations(account, last_day)]
    for on in _days(max(account.opened_on, last_day - dt.timedelta(days=HISTORY_DAYS)), last_day):
        if rng.random() >= profile.violation_chance:
            continue
        category = rng.choice(ViolationCategory.values)
        lasting = rng.randint(2, 40)
        resolved = on + dt.timedelta(days=lasting)
        found.append(
            _violation(
                account,
                on,
                resolved if resolved <= last_day else None,
                severity=rng.choices(list(SEVERITY_WEIGHTS), list(SEVERITY_WEIGHTS.values()))[0],
                category=category,
                scope=ViolationScope.ACCOUNT_WIDE if rng.random() < 0.1 else ViolationScope.STORE,
                hour=rng.randint(0, 23),
            )
        )
    return found


def _scripted_violations(account: StoreAccount, last_day: dt.date) -> Iterator[Violation]:
    role = role_of(account)
    if role == "r1":
        # Violations (12 points) open long enough for the 11th consecutive day below 250.
        slump = last_day - dt.timedelta(days=SLUMP_STARTS)
        resolved = slump + dt.timedelta(days=MAX_CONSECUTIVE_DAYS_BELOW + 4)
        yield _violation(account, slump, resolved, severity=Severity.HIGH)
        yield _violation(account, slump, resolved, category=ViolationCategory.OTHER)
    if role == "dashboard" and account.marketplace_id == "US":
        yield _violation(
            account, last_day - dt.timedelta(days=70), last_day - dt.timedelta(days=55)
        )
        yield _violation(
            account,
            last_day - dt.timedelta(days=6),
            None,
            severity=Severity.LOW,
            category=ViolationCategory.REVIEWS,
        )
        yield _violation(account, last_day - dt.timedelta(days=2), None)


def _violation(
    account: StoreAccount,
    on: dt.date,
    resolved_on: dt.date | None,
    *,
    severity: str = Severity.MEDIUM,
    category: str = ViolationCategory.LISTING,
    scope: str = ViolationScope.STORE,
    hour: int = 10,
) -> Violation:
    zone = account.marketplace.zone
    return Violation(
        store_account=account,
        category=category,
        severity=severity,
        scope=scope,
        description="Demo finding.",
        detected_at=dt.datetime.combine(on, dt.time(hour), tzinfo=zone),
        resolved_at=dt.datetime.combine(resolved_on, dt.time(hour), tzinfo=zone)
        if resolved_on
        else None,
    )


# ---------------------------------------------------------------------------------------------
# Closing the days
# ---------------------------------------------------------------------------------------------


def close_history(
    accounts: list[StoreAccount], *, last_day: dt.date, told: Story, verbosity: int
) -> int:
    """Close every day not closed yet (after the replay, the last), through the real day close."""
    first = _first_day_to_close(accounts, last_day)
    if first is None:
        return 0
    markets: dict[str, tuple[int, int]] = {}
    # Each marketplace closes only the days its own calendar has finished: a Los Angeles store
    # is a day behind a Tokyo one for most of the UTC day.
    finished: dict[str, dt.date] = {}
    for account in accounts:
        low, high = markets.get(account.marketplace_id, (account.pk, account.pk))
        markets[account.marketplace_id] = (min(low, account.pk), max(high, account.pk))
        finished[account.marketplace_id] = last_finished_day(account.marketplace)
    days = list(_days(first, last_day))
    progress = Progress("Closing days", len(days) * len(markets)) if verbosity else None
    for block in range(0, len(days), DAYS_PER_COMMIT):
        # A commit per block, not per chunk: on SQLite every commit waits for the disk.
        with transaction.atomic():
            for on in days[block : block + DAYS_PER_COMMIT]:
                scenarios.make_story_changes(told, until=on)
                for code, (low, high) in sorted(markets.items()):
                    if on > min(finished[code], last_day):
                        continue
                    close_day_chunk(marketplace_code=code, day=on, first_id=low, last_id=high)
                    if progress:
                        progress.advance()
    return len(days)


def last_finished_day(marketplace: Marketplace) -> dt.date:
    """The latest day the marketplace's own calendar has finished (its local yesterday)."""
    return marketplace.local_date() - dt.timedelta(days=1)


def latest_finished_day(codes: list[str]) -> dt.date:
    """The latest finished local day among these marketplaces: the last day the demo generates."""
    return max(last_finished_day(m) for m in Marketplace.objects.filter(code__in=codes))


def _first_day_to_close(accounts: list[StoreAccount], last_day: dt.date) -> dt.date | None:
    closed = dict(
        HealthState.objects.filter(store_account__in=accounts).values_list(
            "store_account_id", "last_closed_day"
        )
    )
    earliest = last_day - dt.timedelta(days=HISTORY_DAYS - 1)
    firsts = [
        closed[a.pk] + dt.timedelta(days=1) if closed.get(a.pk) else max(a.opened_on, earliest)
        for a in accounts
    ]
    first = min(firsts, default=None)
    return first if first is not None and first <= last_day else None
