"""Writes for sellers, users and store accounts. Each is one transaction."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    EmergencyContact,
    Marketplace,
    Seller,
    SellingPlan,
    StoreAccount,
    User,
)
from accounts.phones import parse_phone

__all__ = ["parse_phone"]  # the one validation of numbers to call lives in accounts.phones


@transaction.atomic
def create_seller(*, name: str, email: str, language: str = "en") -> Seller:
    """Register a business."""
    return Seller.objects.create(name=name, email=email, language=language)


@transaction.atomic
def add_seller_user(
    *, seller: Seller, username: str, password: str, email: str = "", language: str = ""
) -> User:
    """Add a team member who signs in for this seller."""
    return User.objects.create_user(
        username=username,
        password=password,
        email=email,
        seller=seller,
        language=language or seller.language,
    )


@transaction.atomic
def open_store_account(
    *,
    seller: Seller,
    marketplace: Marketplace,
    plan: str = SellingPlan.PROFESSIONAL,
    opened_on: dt.date | None = None,
) -> StoreAccount:
    """Open a seller's store account in a marketplace."""
    return StoreAccount.objects.create(
        seller=seller,
        marketplace=marketplace,
        plan=plan,
        opened_on=opened_on or marketplace.local_date(),
    )


@transaction.atomic
def change_selling_plan(*, store_account: StoreAccount, plan: str) -> StoreAccount:
    """Switch between the Professional and Individual plans (eligibility follows at close)."""
    if plan not in SellingPlan.values:
        raise ValidationError(_("Unknown selling plan."), code="invalid")
    store_account.plan = plan
    store_account.save(update_fields=["plan"])
    return store_account


def default_phone_region(seller: Seller) -> str:
    """The region of the seller's first store: numbers typed without a country code use it."""
    store = seller.store_accounts.select_related("marketplace").order_by("opened_on", "id").first()
    return store.marketplace.phone_region if store else "US"


@transaction.atomic
def set_emergency_contact(
    *, seller: Seller, phone: str, by: User | None, region: str | None = None
) -> EmergencyContact:
    """Save the seller's emergency contact after validating it; nothing is saved if invalid."""
    number = parse_phone(phone, region=region or default_phone_region(seller))
    contact, _created = EmergencyContact.objects.update_or_create(
        seller=seller,
        defaults={"phone": number, "updated_at": timezone.now(), "updated_by": by},
    )
    return contact
