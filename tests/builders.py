"""Small typed builders for test data. They go through the real services where one exists."""

from __future__ import annotations

import datetime as dt
import itertools

from accounts import services as account_services
from accounts.models import Marketplace, Seller, SellingPlan, StoreAccount, User

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"
# A valid Polish mobile number: an emergency contact that meets E2.
PHONE = "+48 512 345 678"


def make_seller(*, name: str = "", language: str = "en", phone: str | None = None) -> Seller:
    n = next(_counter)
    seller = account_services.create_seller(
        name=name or f"Seller {n}", email=f"seller{n}@example.com", language=language
    )
    if phone:
        account_services.set_emergency_contact(seller=seller, phone=phone, by=None, region="PL")
    return seller


def make_store_account(
    *,
    seller: Seller | None = None,
    marketplace: str = "PL",
    plan: str = SellingPlan.PROFESSIONAL,
    opened_on: dt.date = dt.date(2025, 1, 1),
) -> StoreAccount:
    return account_services.open_store_account(
        seller=seller or make_seller(),
        marketplace=Marketplace.objects.get(code=marketplace),
        plan=plan,
        opened_on=opened_on,
    )


def make_seller_user(*, seller: Seller | None = None, username: str = "") -> User:
    seller = seller or make_seller()
    return account_services.add_seller_user(
        seller=seller, username=username or f"user{next(_counter)}", password=PASSWORD
    )


def make_staff_user(*, username: str = "", superuser: bool = False) -> User:
    name = username or f"staff{next(_counter)}"
    if superuser:
        return User.objects.create_superuser(username=name, password=PASSWORD, email="")
    return User.objects.create_user(username=name, password=PASSWORD, is_staff=True)
