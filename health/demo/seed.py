"""Deterministic, realistic demo data: sellers, store accounts and contacts (written as the
import's CSV files, health/demo/load.py), then the logins the import cannot make."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import phonenumbers
from django.contrib.auth.models import Group

from accounts import services as account_services
from accounts import two_factor
from accounts.models import (
    SPECIALISTS_GROUP,
    Marketplace,
    Seller,
    SellingPlan,
    StoreAccount,
    User,
)

DEMO_MARKETPLACES = ["US", "CA", "UK", "DE", "FR", "PL", "JP", "IN"]
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed to the developer on purpose
# The demo staff users' authenticator key (base32); `manage.py totp_code <username>` shows a code.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - demo data only
SELLER_COUNT = 300
PHONES = {
    "US": "+1 415 555 {:04d}",
    "CA": "+1 416 555 {:04d}",
    "UK": "+44 20 7946 {:04d}",
    "DE": "+49 30 1234 {:04d}",
    "FR": "+33 1 42 68 {:04d}",
    "PL": "+48 512 34{:04d}",
    "JP": "+81 3 1234 {:04d}",
    "IN": "+91 98 1234 {:04d}",
}
WORDS = ["Nord", "Sun", "Bright", "Oak", "River", "Blue", "Urban", "Maple", "Kawa", "Zielony"]
GOODS = ["Home", "Outdoor", "Toys", "Books", "Tea", "Gadgets", "Beauty", "Garden", "Pets"]


@dataclass(frozen=True)
class Showcase:
    """A demo seller whose store accounts are chosen, not drawn, so that every state exists."""

    role: str
    stores: tuple[tuple[str, int], ...]  # (marketplace code, opened this many days ago)
    plan: str = SellingPlan.PROFESSIONAL
    has_contact: bool = True


# The first sellers act out the states of rules §3-§4; health/demo/history.py gives them the
# orders and violations (and the specialist decisions) that lead there.
SHOWCASES = {
    0: Showcase("dashboard", (("US", 400), ("DE", 150), ("UK", 230), ("PL", 5))),
    1: Showcase("r1", (("US", 400),)),
    2: Showcase("r2", (("UK", 400),)),
    3: Showcase("r3", (("DE", 400),)),
    4: Showcase("r4", (("FR", 400),)),
    5: Showcase("r5", (("CA", 400),)),
    6: Showcase("r6", (("JP", 400),)),
    7: Showcase("r7", (("IN", 400),)),
    8: Showcase("waiting", (("PL", 400),), has_contact=False),
    9: Showcase("new", (("US", 5),)),
    10: Showcase("individual", (("DE", 400),), plan=SellingPlan.INDIVIDUAL),
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str


def seller_name(rng: random.Random, index: int) -> str:
    return f"{rng.choice(WORDS)} {rng.choice(GOODS)} {index:03d}"


@dataclass
class DemoBase:
    """The demo's sellers, store accounts and contacts as rows of the import's CSV files, and
    the store accounts as (unsaved) models for generating their orders and violations."""

    sellers: list[list[str]] = field(default_factory=list)
    store_accounts: list[list[str]] = field(default_factory=list)
    contacts: list[list[str]] = field(default_factory=list)
    accounts: list[StoreAccount] = field(default_factory=list)


def seller_external_id(index: int) -> str:
    return f"demo-{index:03d}"


def base_rows(*, today: dt.date, rng: random.Random) -> DemoBase:
    """The demo's base data, drawn in the same order on every run: a rerun writes the same rows
    and the import keeps the ones already there."""
    marketplaces = {m.code: m for m in Marketplace.objects.filter(code__in=DEMO_MARKETPLACES)}
    base = DemoBase()
    for index in range(SELLER_COUNT):
        _draw_seller(index, today=today, rng=rng, markets=marketplaces, base=base)
    return base


def _draw_seller(
    index: int,
    *,
    today: dt.date,
    rng: random.Random,
    markets: dict[str, Marketplace],
    base: DemoBase,
) -> None:
    """One demo seller; the draws happen for showcases too, so the others stay the same."""
    home = rng.choice(DEMO_MARKETPLACES)
    others = rng.sample(DEMO_MARKETPLACES, k=rng.choice([0, 0, 1, 2]))
    plan = SellingPlan.INDIVIDUAL if rng.random() < 0.15 else SellingPlan.PROFESSIONAL
    has_contact = rng.random() < 0.8
    opened_days_ago = rng.choice([5, 60, 150, 200, 230, 260, 400])
    name = seller_name(rng, index)
    stores = tuple((code, opened_days_ago) for code in dict.fromkeys([home, *others]))
    if showcase := SHOWCASES.get(index):
        stores, plan, has_contact = showcase.stores, showcase.plan, showcase.has_contact
        home = stores[0][0]
    seller = Seller(
        external_id=seller_external_id(index),
        name=name,
        email=f"seller{index:03d}@demo.example",
        language="pl" if home == "PL" else "en",
    )
    base.sellers.append([seller.external_id, seller.name, seller.email, seller.language])
    for code, days_ago in stores:
        account = StoreAccount(
            external_id=f"{seller.external_id}-{code}",
            seller=seller,
            marketplace=markets[code],
            plan=plan,
            opened_on=today - dt.timedelta(days=days_ago),
        )
        base.accounts.append(account)
        base.store_accounts.append(
            [account.external_id, seller.external_id, code, plan, account.opened_on.isoformat()]
        )
    if has_contact:
        number = phonenumbers.parse(PHONES[home].format(index))
        phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        base.contacts.append([seller.external_id, phone])


def name_earlier_demo_rows() -> None:
    """Give the external ids the import keys on to demo rows made before it seeded the demo,
    so that seeding such a database again adds no second copy of them."""
    for seller in Seller.objects.filter(email__endswith="@demo.example", external_id=None):
        index = int(seller.email.removeprefix("seller").split("@")[0])
        Seller.objects.filter(pk=seller.pk).update(external_id=seller_external_id(index))
    for account in StoreAccount.objects.filter(
        seller__email__endswith="@demo.example", external_id=None
    ).select_related("seller"):
        StoreAccount.objects.filter(pk=account.pk).update(
            external_id=f"{account.seller.external_id}-{account.marketplace_id}"
        )


def seed_logins() -> list[DemoLogin]:
    """The seller, specialist and admin logins a newcomer tries first."""
    seller = Seller.objects.get(email="seller000@demo.example")
    if not User.objects.filter(username="seller").exists():
        account_services.add_seller_user(seller=seller, username="seller", password=DEMO_PASSWORD)
    if not User.objects.filter(username="specialist").exists():
        User.objects.create_user(username="specialist", password=DEMO_PASSWORD, is_staff=True)
    # Staff see nothing in the admin but what their group grants; a demo made before this line
    # existed gets the group on its next seed too.
    User.objects.get(username="specialist").groups.add(Group.objects.get(name=SPECIALISTS_GROUP))
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser(username="admin", password=DEMO_PASSWORD, email="")
    # Staff need a second factor in the back office: `manage.py totp_code specialist` prints it.
    for username in ("specialist", "admin"):
        two_factor.give_device(
            user=User.objects.get(username=username), secret_base32=DEMO_TOTP_SECRET
        )
    return [
        DemoLogin("seller", "seller", DEMO_PASSWORD),
        DemoLogin("specialist", "specialist", DEMO_PASSWORD),
        DemoLogin("admin", "admin", DEMO_PASSWORD),
    ]
