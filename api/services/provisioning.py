"""Upserts of sellers, their users, store accounts and emergency contacts, keyed by the
upstream's external ids. The same content again changes nothing and records nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services as account_services
from accounts.models import (
    EmergencyContact,
    Language,
    Marketplace,
    Seller,
    SellingPlan,
    StoreAccount,
    User,
)
from accounts.passwords import invite_user
from api.errors import BadRow, Conflict, InvalidInput, NotFound
from api.models import ApiClient
from api.services.audit import record_api_write
from health.models import HealthState
from health.services.enrollment import save_emergency_contact


@dataclass(frozen=True, slots=True)
class Upserted[T]:
    obj: T
    created: bool
    changed: bool


def seller_by_external_id(external_id: str) -> Seller:
    seller = Seller.objects.filter(external_id=external_id).first()
    if seller is None:
        raise NotFound(f"No seller has external id {external_id!r}.")
    return seller


def store_account_by_external_id(external_id: str) -> StoreAccount:
    account = (
        StoreAccount.objects.select_related("marketplace", "seller")
        .filter(external_id=external_id)
        .first()
    )
    if account is None:
        raise NotFound(f"No store account has external id {external_id!r}.")
    return account


def _check_language(language: str) -> None:
    if language not in Language.values:
        raise InvalidInput(
            "Invalid seller.",
            [
                BadRow(
                    None,
                    "language",
                    f"Unknown language {language!r}; use one of {', '.join(Language.values)}.",
                )
            ],
        )


@transaction.atomic
def upsert_seller(
    *, client: ApiClient, external_id: str, name: str, email: str, language: str
) -> Upserted[Seller]:
    """Create or update the seller known upstream by `external_id`."""
    _check_language(language)
    values = {"name": name.strip(), "email": email.strip(), "language": language}
    seller = Seller.objects.select_for_update().filter(external_id=external_id).first()
    if seller is None:
        seller = Seller.objects.create(external_id=external_id, **values)
        record_api_write(
            client=client,
            action="create_seller",
            target=f"seller:{seller.pk}",
            details={"external_id": external_id},
        )
        return Upserted(seller, created=True, changed=True)
    changed = {k: v for k, v in values.items() if getattr(seller, k) != v}
    if changed:
        for k, v in changed.items():
            setattr(seller, k, v)
        seller.save(update_fields=list(changed))
        record_api_write(
            client=client,
            action="update_seller",
            target=f"seller:{seller.pk}",
            details={"external_id": external_id, "changed": sorted(changed)},
        )
    return Upserted(seller, created=False, changed=bool(changed))


@transaction.atomic
def upsert_store_account(
    *,
    client: ApiClient,
    external_id: str,
    seller_external_id: str,
    marketplace_code: str,
    plan: str,
    opened_on: dt.date,
) -> Upserted[StoreAccount]:
    """Create or update a store account. A plan change counts from the next close (R2)."""
    errors = []
    seller = Seller.objects.filter(external_id=seller_external_id).first()
    if seller is None:
        errors.append(BadRow(None, "seller", f"No seller has external id {seller_external_id!r}."))
    marketplace = Marketplace.objects.filter(code=marketplace_code).first()
    if marketplace is None:
        errors.append(BadRow(None, "marketplace", f"Unknown marketplace {marketplace_code!r}."))
    if plan not in SellingPlan.values:
        errors.append(BadRow(None, "plan", f"Unknown plan {plan!r}; use PRO or IND."))
    if marketplace is not None and opened_on > marketplace.local_date():
        errors.append(BadRow(None, "opened_on", "A store account cannot open in the future."))
    if errors:
        raise InvalidInput("Invalid store account.", errors)
    account = StoreAccount.objects.select_for_update().filter(external_id=external_id).first()
    if account is None:
        if StoreAccount.objects.filter(seller=seller, marketplace=marketplace).exists():
            raise Conflict(
                f"Seller {seller_external_id!r} already has a store account in "
                f"{marketplace_code} under another external id."
            )
        account = StoreAccount.objects.create(
            external_id=external_id,
            seller=seller,
            marketplace=marketplace,
            plan=plan,
            opened_on=opened_on,
        )
        record_api_write(
            client=client,
            action="create_store_account",
            store_account=account,
            target=f"store_account:{account.pk}",
            details={"external_id": external_id},
        )
        return Upserted(account, created=True, changed=True)
    if account.seller_id != seller.pk or account.marketplace_id != marketplace.code:
        raise Conflict("A store account's seller and marketplace cannot change.")
    if account.opened_on != opened_on and _has_closed_days(account):
        raise Conflict("The opening day of a store account with closed days cannot change.")
    changed = []
    if account.plan != plan:
        account_services.change_selling_plan(store_account=account, plan=plan)
        changed.append("plan")
    if account.opened_on != opened_on:
        account.opened_on = opened_on
        account.save(update_fields=["opened_on"])
        changed.append("opened_on")
    if changed:
        record_api_write(
            client=client,
            action="update_store_account",
            store_account=account,
            target=f"store_account:{account.pk}",
            details={"changed": changed},
        )
    return Upserted(account, created=False, changed=bool(changed))


def _has_closed_days(account: StoreAccount) -> bool:
    return HealthState.objects.filter(store_account=account, last_closed_day__isnull=False).exists()


@transaction.atomic
def set_contact(*, client: ApiClient, seller: Seller, phone: str) -> tuple[EmergencyContact, bool]:
    """Save the seller's emergency contact, validated as the seller's form validates it."""
    current = EmergencyContact.objects.filter(seller=seller).first()
    try:
        number = account_services.parse_phone(
            phone, region=account_services.default_phone_region(seller)
        )
    except ValidationError as error:
        raise InvalidInput(
            "Invalid emergency contact.", [BadRow(None, "phone", " ".join(error.messages))]
        ) from None
    if current is not None and current.phone == number:
        return current, False
    contact, _enrolled = save_emergency_contact(seller=seller, phone=phone, by=None)
    record_api_write(client=client, action="set_emergency_contact", target=f"seller:{seller.pk}")
    return contact, True


@transaction.atomic
def remove_contact(*, client: ApiClient, seller: Seller) -> bool:
    """Remove the seller's emergency contact; enrolled store accounts lose AHA at the next
    close (R3). False when there was none."""
    deleted, _ = EmergencyContact.objects.filter(seller=seller).delete()
    if deleted:
        record_api_write(
            client=client, action="remove_emergency_contact", target=f"seller:{seller.pk}"
        )
    return bool(deleted)


@transaction.atomic
def upsert_user(
    *,
    client: ApiClient,
    external_id: str,
    seller: Seller,
    username: str,
    email: str,
    language: str,
) -> Upserted[User]:
    """Create or update a seller's team member; a new one is invited to set a password."""
    _check_language(language)
    user = User.objects.select_for_update().filter(external_id=external_id).first()
    if user is None:
        if User.objects.filter(username=username).exists():
            raise Conflict(f"The username {username!r} is taken.")
        user = User.objects.create_user(
            username=username,
            email=email,
            seller=seller,
            language=language,
            external_id=external_id,
        )
        # No password until the invited user sets one through the emailed one-time link.
        user.set_unusable_password()
        user.save(update_fields=["password"])
        invite_user(user=user)
        record_api_write(client=client, action="invite_user", target=f"user:{user.pk}")
        return Upserted(user, created=True, changed=True)
    if user.seller_id != seller.pk:
        raise Conflict("A user cannot move to another seller.")
    values = {"username": username, "email": email, "language": language}
    changed = {k: v for k, v in values.items() if getattr(user, k) != v}
    if "username" in changed and User.objects.filter(username=username).exists():
        raise Conflict(f"The username {username!r} is taken.")
    if changed:
        for k, v in changed.items():
            setattr(user, k, v)
        user.save(update_fields=list(changed))
        record_api_write(
            client=client,
            action="update_user",
            target=f"user:{user.pk}",
            details={"changed": sorted(changed)},
        )
    return Upserted(user, created=False, changed=bool(changed))
