"""Sellers, users, store accounts and emergency contacts (scope provisioning:write)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Router, Status

from api.auth import ScopedToken
from api.models import Scope
from api.routers.common import ERRORS
from api.schemas import (
    ContactIn,
    ContactOut,
    SellerIn,
    SellerOut,
    StoreAccountIn,
    StoreAccountOut,
    UserIn,
    UserOut,
)
from api.services import provisioning

router = Router(tags=["provisioning"], auth=ScopedToken(Scope.PROVISIONING_WRITE))
ID = Path(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")


@router.put("/sellers/{external_id}", response={200: SellerOut, 201: SellerOut, **ERRORS})
def put_seller(request: HttpRequest, payload: SellerIn, external_id: str = ID):
    """Create or update a seller."""
    done = provisioning.upsert_seller(
        client=request.auth,
        external_id=external_id,
        name=payload.name,
        email=payload.email,
        language=payload.language,
    )
    seller = done.obj
    body = {
        "external_id": external_id,
        "name": seller.name,
        "email": seller.email,
        "language": seller.language,
        "created": done.created,
        "changed": done.changed,
    }
    return Status(201 if done.created else 200, body)


@router.put(
    "/sellers/{external_id}/users/{user_external_id}",
    response={200: UserOut, 201: UserOut, **ERRORS},
)
def put_user(
    request: HttpRequest, payload: UserIn, external_id: str = ID, user_external_id: str = ID
):
    """Create or update a seller's team member; a new one is emailed a link to set a password."""
    seller = provisioning.seller_by_external_id(external_id)
    done = provisioning.upsert_user(
        client=request.auth,
        external_id=user_external_id,
        seller=seller,
        username=payload.username,
        email=payload.email,
        language=payload.language,
    )
    body = {
        "external_id": user_external_id,
        "seller": external_id,
        "username": done.obj.username,
        "created": done.created,
        "changed": done.changed,
        "invited": done.created,
    }
    return Status(201 if done.created else 200, body)


@router.put(
    "/store-accounts/{external_id}", response={200: StoreAccountOut, 201: StoreAccountOut, **ERRORS}
)
def put_store_account(request: HttpRequest, payload: StoreAccountIn, external_id: str = ID):
    """Create or update a store account; a plan change counts from the next close (R2)."""
    done = provisioning.upsert_store_account(
        client=request.auth,
        external_id=external_id,
        seller_external_id=payload.seller,
        marketplace_code=payload.marketplace,
        plan=payload.plan,
        opened_on=payload.opened_on,
    )
    account = done.obj
    body = {
        "external_id": external_id,
        "seller": payload.seller,
        "marketplace": account.marketplace_id,
        "plan": account.plan,
        "opened_on": account.opened_on,
        "status": account.status,
        "created": done.created,
        "changed": done.changed,
    }
    return Status(201 if done.created else 200, body)


@router.put("/sellers/{external_id}/emergency-contact", response={200: ContactOut, **ERRORS})
def put_contact(request: HttpRequest, payload: ContactIn, external_id: str = ID):
    """Set the seller's emergency contact, validated as the seller's own form validates it."""
    seller = provisioning.seller_by_external_id(external_id)
    contact, changed = provisioning.set_contact(
        client=request.auth, seller=seller, phone=payload.phone
    )
    return Status(200, {"seller": external_id, "phone": str(contact.phone), "changed": changed})


@router.delete("/sellers/{external_id}/emergency-contact", response={200: ContactOut, **ERRORS})
def delete_contact(request: HttpRequest, external_id: str = ID):
    """Remove the seller's emergency contact (enrolled store accounts lose AHA at the next
    close, R3)."""
    seller = provisioning.seller_by_external_id(external_id)
    changed = provisioning.remove_contact(client=request.auth, seller=seller)
    return Status(200, {"seller": external_id, "phone": None, "changed": changed})
