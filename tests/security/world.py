"""The data the security tests run against: two sellers' worlds in PL, and one user per role."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Marketplace, User
from health.models import (
    AuditEntry,
    DayCloseRun,
    EmailKind,
    EnrollmentEvent,
    EnrollmentEventKind,
    OutboxEmail,
    RunStatus,
)
from health.services.audit import record_action
from health.services.outbox import queue_email
from tests.builders import make_staff_user
from tests.client import Client
from tests.health.test_seller_isolation import seller_world
from tests.security.two_factor import verified_login

ROLES = [
    "anonymous",
    "other_seller",
    "seller",
    "staff_without_group",
    "specialist_of_another_marketplace",
    "specialist",
]
STAFF_ROLES = {"staff_without_group", "specialist_of_another_marketplace", "specialist"}
# The worlds' store accounts are in PL (the builders' default); this specialist works only on US.
OTHER_MARKETPLACE = "US"


def full_world() -> dict:
    """A seller's world with one row of every health model the back office shows."""
    world = seller_world()
    store_account = world["store"]
    world["violation"] = world["case"].violation
    world["outboxemail"] = queue_email(
        kind=EmailKind.DEACTIVATED,
        key=f"deactivated:{store_account.pk}:test",
        seller=store_account.seller,
        store_account=store_account,
        context={},
    )
    world["auditentry"] = record_action(
        actor=None, action="test_entry", store_account=store_account, target="test", reason="x"
    )
    world["enrollmentevent"] = EnrollmentEvent.objects.create(
        store_account=store_account,
        kind=EnrollmentEventKind.ENROLLED,
        day=store_account.opened_on,
    )
    world["daycloserun"], _created = DayCloseRun.objects.get_or_create(
        marketplace=store_account.marketplace,
        day=store_account.opened_on,
        defaults={"status": RunStatus.DONE, "finished_at": timezone.now()},
    )
    assert isinstance(world["outboxemail"], OutboxEmail)
    assert isinstance(world["auditentry"], AuditEntry)
    return world


def make_specialist(*, limited_to: tuple[str, ...] = ()) -> User:
    user = make_staff_user()
    user.groups.add(Group.objects.get(name="specialists"))
    user.marketplaces.set(Marketplace.objects.filter(code__in=limited_to))
    return user


@dataclass
class Users:
    seller: User
    other_seller: User
    staff_without_group: User
    specialist_of_another_marketplace: User
    specialist: User


def make_users(mine: dict, theirs: dict) -> Users:
    return Users(
        seller=mine["user"],
        other_seller=theirs["user"],
        staff_without_group=make_staff_user(),
        specialist_of_another_marketplace=make_specialist(limited_to=(OTHER_MARKETPLACE,)),
        specialist=make_specialist(),
    )


def client_as(role: str, users: Users, *, enforce_csrf_checks: bool = False) -> Client:
    """A client signed in as `role` (staff with a verified second factor)."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    if role == "anonymous":
        return client
    user = getattr(users, role)
    if role in STAFF_ROLES:
        return verified_login(client, user)
    client.force_login(user)
    return client
