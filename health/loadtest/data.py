"""The simulated sellers: each a seller with one user, a Professional store account in AHA with
180 days of ratings, a valid emergency contact, one open AHA case, and a ready-made session.

Rows are written in bulk (a few thousand in all); sessions are created directly, so the load
test neither runs the password hasher hundreds of times nor trips the login throttle.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import EmergencyContact, Marketplace, Seller, SellingPlan, StoreAccount, User
from health.eligibility import ENGAGEMENT_WINDOW
from health.models import (
    AHACase,
    CaseTrigger,
    DailyRating,
    EligibilityStatus,
    HealthState,
    Severity,
    Violation,
    ViolationCategory,
)
from health.rating import AHA_LINE, WINDOW_DAYS

MARKETPLACE = "PL"
PHONE = "+48512345678"
AUTH_BACKEND = "accounts.backends.ModelBackend"
# The server runs with SECURE_HTTPS=0, so its cookies keep Django's plain names.
SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"
CSRF_SECRET_LENGTH = 32


@dataclass(frozen=True, slots=True)
class SimulatedSeller:
    seller_id: int
    store_account_id: int
    case_id: int
    session_key: str
    csrf_token: str

    @property
    def cookies(self) -> dict[str, str]:
        # Double-submit CSRF: the same random secret in the cookie and in the header.
        return {SESSION_COOKIE: self.session_key, CSRF_COOKIE: self.csrf_token}

    @property
    def csrf_headers(self) -> dict[str, str]:
        return {CSRF_HEADER: self.csrf_token}


@transaction.atomic
def create_sellers(count: int, *, prefix: str = "load") -> list[SimulatedSeller]:
    """`count` signed-in sellers, each with an enrolled store account and an open AHA case."""
    marketplace = Marketplace.objects.get(code=MARKETPLACE)
    today = marketplace.local_date()
    sellers = Seller.objects.bulk_create(
        Seller(name=f"Load seller {n}", email=f"{prefix}{n}@example.com") for n in range(count)
    )
    # An unusable password: nobody signs in with a password, so nothing is hashed.
    users = User.objects.bulk_create(
        User(username=f"{prefix}{n}", password=make_password(None), seller=seller)
        for n, seller in enumerate(sellers)
    )
    EmergencyContact.objects.bulk_create(
        EmergencyContact(seller=seller, phone=PHONE) for seller in sellers
    )
    accounts = StoreAccount.objects.bulk_create(
        StoreAccount(
            seller=seller,
            marketplace=marketplace,
            plan=SellingPlan.PROFESSIONAL,
            opened_on=today - dt.timedelta(days=2 * WINDOW_DAYS),
        )
        for seller in sellers
    )
    _add_health(accounts, today)
    cases = _open_cases(accounts, today)
    sessions = _sessions(users)
    return [
        SimulatedSeller(
            seller_id=seller.pk,
            store_account_id=account.pk,
            case_id=case.pk,
            session_key=session_key,
            csrf_token=get_random_string(CSRF_SECRET_LENGTH, string.ascii_letters + string.digits),
        )
        for seller, account, case, session_key in zip(
            sellers, accounts, cases, sessions, strict=True
        )
    ]


def _add_health(accounts: list[StoreAccount], today: dt.date) -> None:
    """180 closed days each, all at or above the AHA line, and the account enrolled."""
    last_closed = today - dt.timedelta(days=1)
    days = [last_closed - dt.timedelta(days=n) for n in range(WINDOW_DAYS)]
    DailyRating.objects.bulk_create(
        (
            DailyRating(store_account=account, day=day, ahr=AHA_LINE + (account.pk + n) % 60)
            for account in accounts
            for n, day in enumerate(days)
        ),
        batch_size=5000,
    )
    HealthState.objects.bulk_create(
        HealthState(
            store_account=account,
            last_closed_day=last_closed,
            ahr=AHA_LINE + account.pk % 60,
            days_on_record=WINDOW_DAYS,
            status=EligibilityStatus.ENROLLED,
            enrolled=True,
            enrolled_since=days[-1],
        )
        for account in accounts
    )


def _open_cases(accounts: list[StoreAccount], today: dt.date) -> list[AHACase]:
    """A deactivation-level violation today and its AHA case, contacted now (deadline running)."""
    now = timezone.now()
    violations = Violation.objects.bulk_create(
        Violation(
            store_account=account,
            category=ViolationCategory.SAFETY_COMPLAINTS,
            severity=Severity.CRITICAL,
            deactivation_level=True,
            detected_at=now,
        )
        for account in accounts
    )
    return AHACase.objects.bulk_create(
        AHACase(
            store_account=account,
            trigger=CaseTrigger.VIOLATION,
            violation=violation,
            trigger_day=today,
            first_contacted_at=now,
            deadline_at=now + ENGAGEMENT_WINDOW,
        )
        for account, violation in zip(accounts, violations, strict=True)
    )


def _sessions(users: list[User]) -> list[str]:
    """One signed-in session per user, written the way django.contrib.auth.login writes it."""
    store = SessionStore()
    expire = timezone.now() + dt.timedelta(seconds=store.get_session_cookie_age())
    rows = [
        Session(
            session_key=get_random_string(32, string.ascii_lowercase + string.digits),
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: AUTH_BACKEND,
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=expire,
        )
        for user in users
    ]
    Session.objects.bulk_create(rows)
    return [row.session_key for row in rows]
