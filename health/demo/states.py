"""A demo login for every state a seller's store account can be in (rules §3-§5).

A seller has one emergency contact, so "waiting for a contact" cannot sit beside an enrolled store
of the same seller: each state gets a login of its own. The states the showcase sellers of
health/demo/seed.py already live through (health/demo/history.py) get a login on that seller;
the three that need an AHR closing in a given band on the last day (a low-AHR warning, an enrolled
store at risk, an enrolled store below 100) get a seller of their own, whose violations are
recorded with record_violation, whose history is replayed like the others' and whose last day is
closed by the real day close, which opens the warning or the AHA case. Running it again adds
nothing; run on a later day, it closes the days in between.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts import services as account_services
from accounts.models import Marketplace, Seller, StoreAccount, User
from health.demo import history
from health.demo.replay import Story, accounts_to_replay, insert_ignoring_duplicates, replay_history
from health.demo.seed import DEMO_PASSWORD, PHONES, SHOWCASES
from health.models import DailyOrders, Severity, ViolationCategory, ViolationScope
from health.services.protection import record_violation

STATE_EMAIL_DOMAIN = "@states.demo.example"


@dataclass(frozen=True)
class Finding:
    """Violations recorded on the store: how many, detected so many days before its last day."""

    days_before: int
    count: int
    severity: str = Severity.HIGH


@dataclass(frozen=True)
class BuiltSeller:
    """A seller made for one state: one Professional store that sells the same every day."""

    name: str
    marketplace: str
    opened_days_ago: int
    daily_orders: int
    findings: tuple[Finding, ...]
    language: str = "en"


@dataclass(frozen=True)
class StateLogin:
    """A printed demo login and what its dashboard shows."""

    username: str
    shows: str
    showcase: str = ""  # the role of the showcase seller it signs in for
    built: BuiltSeller | None = None


# One earlier low finding (2 points, still open) makes the later ones in its category repeats,
# which count double: 16 points each for a high one.
EARLIER = Finding(days_before=90, count=1, severity=Severity.LOW)

# 4 orders a day give an AHR of 210 (+12 for 720 orders in 180 days, -2); three repeat high
# findings three days ago take it to 162, five more on the last day to 82: the first close below
# 100 of a store that is not enrolled (opened 150 days ago, E3), so the real close opens the
# warning.
WARNING = BuiltSeller(
    name="Brightwater Kitchen",
    marketplace="DE",
    opened_days_ago=150,
    daily_orders=4,
    findings=(EARLIER, Finding(days_before=3, count=3), Finding(days_before=0, count=5)),
)
# 15 orders a day give 252 (250 with the earlier finding), so the store enrolls; five repeat high
# findings four days ago take it to 170: at risk, enrolled, five days below 250 (the eleventh in
# a row would remove it, R1).
AT_RISK = BuiltSeller(
    name="Maple Lane Books",
    marketplace="UK",
    opened_days_ago=400,
    daily_orders=15,
    findings=(EARLIER, Finding(days_before=4, count=5)),
)
# Enrolled at 250; five repeat high findings two days ago (170), five more on the last day (90):
# the AHR closes below 100 on an enrolled store, so the real close opens an AHA case instead of
# deactivating it.
UNHEALTHY = BuiltSeller(
    name="Zielona Herbata",
    marketplace="PL",
    opened_days_ago=400,
    daily_orders=15,
    findings=(EARLIER, Finding(days_before=2, count=5), Finding(days_before=0, count=5)),
    language="pl",
)

STATE_LOGINS = (
    StateLogin("seller-warning", "a 3-day warning: the AHR closed below 100", built=WARNING),
    StateLogin(
        "seller-deactivated",
        "deactivated after a missed AHA case (R4), with an appeal to make",
        showcase="r4",
    ),
    StateLogin("seller-at-risk", "enrolled, AHR at risk for 5 days", built=AT_RISK),
    StateLogin(
        "seller-unhealthy", "enrolled, AHR below 100: an AHA case protects it", built=UNHEALTHY
    ),
    StateLogin(
        "seller-waiting", "eligible, waiting for an emergency contact (Polish)", showcase="waiting"
    ),
    StateLogin(
        "seller-removed", "removed from AHA: 11 days in a row below 250 (R1)", showcase="r1"
    ),
    StateLogin("seller-barred", "barred from AHA by a specialist (R6)", showcase="r6"),
    StateLogin("seller-individual", "Individual selling plan: not eligible", showcase="individual"),
)


def seed_states() -> list[StateLogin]:
    """Make the state sellers and their histories once, then a login for every state."""
    # One transaction: on SQLite each statement outside one waits for the disk.
    with transaction.atomic():
        accounts = [_built_account(login, login.built) for login in STATE_LOGINS if login.built]
    _close_days(accounts)
    _give_logins()
    return list(STATE_LOGINS)


def login_lines(logins: list[StateLogin]) -> list[str]:
    """The printed lines: each login with what it shows."""
    lines = ["  One seller login per state (same password):"]
    lines += [
        f"  seller      username: {login.username:<18} password: {DEMO_PASSWORD}  {login.shows}"
        for login in logins
    ]
    return lines


def _email(login: StateLogin) -> str:
    return login.username + STATE_EMAIL_DOMAIN


def _seller_of(login: StateLogin) -> Seller:
    if login.built:
        return Seller.objects.get(email=_email(login))
    index = next(i for i, showcase in SHOWCASES.items() if showcase.role == login.showcase)
    return Seller.objects.get(email=f"seller{index:03d}@demo.example")


def _give_logins() -> None:
    """A user for each state's seller; the password is hashed once (PBKDF2 takes ~0.4 s)."""
    taken = set(User.objects.values_list("username", flat=True))
    missing = [login for login in STATE_LOGINS if login.username not in taken]
    if not missing:
        return
    hashed = make_password(DEMO_PASSWORD)
    for login in missing:
        seller = _seller_of(login)
        User.objects.create(
            username=login.username, password=hashed, seller=seller, language=seller.language
        )


def _built_account(login: StateLogin, spec: BuiltSeller) -> StoreAccount:
    """The state seller's store account, made with its orders and findings on the first run."""
    marketplace = Marketplace.objects.get(code=spec.marketplace)
    last_day = history.last_finished_day(marketplace)
    existing = StoreAccount.objects.filter(seller__email=_email(login)).first()
    account = existing or _open_store(login, spec, marketplace, last_day)
    first = account.opened_on
    insert_ignoring_duplicates(
        DailyOrders,
        ("store_account_id", "day", "orders"),
        [
            (account.pk, first + dt.timedelta(days=n), spec.daily_orders)
            for n in range((last_day - first).days + 1)
        ],
    )
    return account


@transaction.atomic
def _open_store(
    login: StateLogin, spec: BuiltSeller, marketplace: Marketplace, last_day: dt.date
) -> StoreAccount:
    seller = account_services.create_seller(
        name=spec.name, email=_email(login), language=spec.language
    )
    account = account_services.open_store_account(
        seller=seller,
        marketplace=marketplace,
        opened_on=last_day - dt.timedelta(days=spec.opened_days_ago),
    )
    phone = PHONES[spec.marketplace].format(900 + STATE_LOGINS.index(login))
    account_services.set_emergency_contact(seller=seller, phone=phone, by=None)
    for finding in spec.findings:
        _record(account, finding, last_day)
    return account


def _record(account: StoreAccount, finding: Finding, last_day: dt.date) -> None:
    on = last_day - dt.timedelta(days=finding.days_before)
    detected_at = dt.datetime.combine(on, dt.time(9), tzinfo=account.marketplace.zone)
    for n in range(finding.count):
        record_violation(
            store_account=account,
            category=ViolationCategory.SAFETY_COMPLAINTS,
            severity=finding.severity,
            scope=ViolationScope.STORE,
            deactivation_level=False,
            detected_at=detected_at + dt.timedelta(minutes=n),
            description="Demo: a buyer reports that a kettle from one delivery overheats.",
        )


def _close_days(accounts: list[StoreAccount]) -> None:
    """Each marketplace's days: the history replayed, then its last day closed for real."""
    by_market: dict[str, list[StoreAccount]] = defaultdict(list)
    for account in accounts:
        by_market[account.marketplace_id].append(account)
    for market_accounts in by_market.values():
        last_day = history.last_finished_day(market_accounts[0].marketplace)
        if fresh := accounts_to_replay(market_accounts):
            replay_history(
                fresh,
                first_day=last_day - dt.timedelta(days=history.HISTORY_DAYS - 1),
                last_day=last_day - dt.timedelta(days=1),
                story=Story(),
            )
        history.close_history(market_accounts, last_day=last_day, told=Story(), verbosity=0)
