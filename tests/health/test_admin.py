"""The specialist back office: who sees the queues, and marketplace scoping by list, URL and
action. Helpers here are shared by the other test_admin modules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import Marketplace, StoreAccount, User
from health.models import AHACase, AuditEntry, EligibilityStatus, HealthState, Severity
from health.services import protection
from tests.builders import make_seller, make_staff_user, make_store_account
from tests.client import Client
from tests.security.two_factor import verified_login

QUEUES = [
    "health_ahacase",
    "health_callbackrequest",
    "health_outboxemail",
    "health_daycloserun",
    "accounts_storeaccount",
]


def make_specialist(*, limited_to: tuple[str, ...] = ()) -> User:
    user = make_staff_user()
    user.groups.add(Group.objects.get(name="specialists"))
    user.marketplaces.set(Marketplace.objects.filter(code__in=limited_to))
    return user


def client_for(user: User) -> Client:
    """Signed in with a verified second factor, as the back office requires of staff."""
    return verified_login(Client(), user)


def enroll(store_account: StoreAccount) -> StoreAccount:
    """Test data: a store account already enrolled in AHA."""
    HealthState.objects.update_or_create(
        store_account=store_account,
        defaults={
            "enrolled": True,
            "enrolled_since": dt.date(2025, 1, 1),
            "status": EligibilityStatus.ENROLLED,
        },
    )
    return store_account


def open_case(store_account: StoreAccount | None = None, *, marketplace: str = "PL") -> AHACase:
    """An AHA case opened through the real service: a critical violation on an enrolled account."""
    store_account = enroll(
        store_account
        or make_store_account(seller=make_seller(phone="+48512345678"), marketplace=marketplace)
    )
    violation = protection.record_violation(
        store_account=store_account,
        category="authenticity",
        severity=Severity.CRITICAL,
        scope="store",
        deactivation_level=True,
        detected_at=timezone.now() - dt.timedelta(hours=2),
    )
    return AHACase.objects.get(violation=violation)


def changelist(model: str) -> str:
    return reverse(f"admin:{model}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def act_url(obj, action: str) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_act", args=[obj.pk, action])


def run_changelist_action(client: Client, obj, action: str, **fields) -> object:
    """Select one row on its changelist and apply an action (with its form, if any)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [obj.pk]}
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist")
    # The case queue opens on open cases; a closed one is selected from the "all" view.
    if obj._meta.model_name == "ahacase":
        url += "?state=all"
    form = client.post(url, data)
    if form.status_code != 200 or "action_token" not in (form.context or {}):
        return client.post(url, {**data, "apply": "1", **fields}, follow=True)
    token = form.context["action_token"]
    return client.post(url, {**data, "apply": "1", "action_token": token, **fields}, follow=True)


def with_token(client: Client, url: str, data: dict) -> dict:
    """The data of an action form as the page sends it: with the form's one-time token."""
    form = client.get(url)
    token = form.context["action_token"] if form.status_code == 200 else ""
    return {**data, "action_token": token}


def post_action(client: Client, url: str, data: dict, **kwargs) -> object:
    """Open an action's form and submit it, as a specialist does."""
    return client.post(url, with_token(client, url, data), **kwargs)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
def test_specialists_group_may_view_and_act_but_never_delete_or_manage_users() -> None:
    permissions = set(
        Group.objects.get(name="specialists").permissions.values_list(
            "content_type__app_label", "codename"
        )
    )
    assert ("health", "view_ahacase") in permissions
    assert ("health", "change_callbackrequest") in permissions
    assert not any(codename.startswith("delete_") for _, codename in permissions)
    assert not any(
        codename.endswith("_user") or codename.endswith("_group") for _, codename in permissions
    )


@pytest.mark.django_db
@pytest.mark.parametrize("model", QUEUES)
def test_staff_outside_the_specialists_group_sees_no_queue(model: str) -> None:
    response = client_for(make_staff_user()).get(changelist(model))
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("model", QUEUES)
def test_a_specialist_sees_every_queue(model: str) -> None:
    assert client_for(make_specialist()).get(changelist(model)).status_code == 200


@pytest.mark.django_db
def test_admin_index_of_staff_outside_the_group_lists_no_queue() -> None:
    response = client_for(make_staff_user()).get(reverse("admin:index"))
    assert response.status_code == 200
    assert b"AHA cases" not in response.content


@pytest.mark.django_db
def test_specialist_limited_to_pl_does_not_list_a_us_store_account() -> None:
    polish = make_store_account(seller=make_seller(name="Polski Sklep"), marketplace="PL")
    american = make_store_account(seller=make_seller(name="American Shop"), marketplace="US")
    client = client_for(make_specialist(limited_to=("PL",)))
    page = client.get(changelist("accounts_storeaccount")).content.decode()
    assert str(polish) in page
    assert str(american) not in page
    sellers = client.get(changelist("accounts_seller")).content.decode()
    assert "Polski Sklep" in sellers and "American Shop" not in sellers


@pytest.mark.django_db
def test_specialist_limited_to_pl_gets_404_for_a_us_store_account_url() -> None:
    american = make_store_account(marketplace="US")
    client = client_for(make_specialist(limited_to=("PL",)))
    assert client.get(change_url(american)).status_code == 404
    assert client.get(act_url(american, "remove_r6")).status_code == 404
    response = client.post(act_url(american, "remove_r6"), {"reason": "Not allowed here"})
    assert response.status_code == 404
    assert not HealthState.objects.filter(store_account=american, barred=True).exists()
    assert client_for(make_specialist()).get(change_url(american)).status_code == 200


@pytest.mark.django_db
def test_specialist_limited_to_pl_cannot_see_or_act_on_a_us_case() -> None:
    us_case = open_case(marketplace="US")
    pl_case = open_case(marketplace="PL")
    client = client_for(make_specialist(limited_to=("PL",)))
    queue = client.get(changelist("health_ahacase")).content.decode()
    assert change_url(pl_case) in queue and change_url(us_case) not in queue
    assert client.get(change_url(us_case)).status_code == 404

    response = run_changelist_action(client, us_case, "assign_case")
    us_case.refresh_from_db()
    assert us_case.assigned_to is None
    assert any("outside your stores" in m for m in messages_of(response))
    assert not AuditEntry.objects.filter(action="assign_case").exists()


@pytest.mark.django_db
def test_a_mixed_selection_with_an_out_of_scope_case_changes_nothing() -> None:
    us_case, pl_case = open_case(marketplace="US"), open_case(marketplace="PL")
    client = client_for(make_specialist(limited_to=("PL",)))
    client.post(
        changelist("health_ahacase"),
        {"action": "assign_case", ACTION_CHECKBOX_NAME: [us_case.pk, pl_case.pk]},
    )
    assert not AHACase.objects.filter(assigned_to__isnull=False).exists()


@pytest.mark.django_db
def test_health_records_of_other_marketplaces_are_hidden_from_a_limited_specialist() -> None:
    us_case = open_case(marketplace="US")
    client = client_for(make_specialist(limited_to=("PL",)))
    for model in [
        "health_violation",
        "health_outboxemail",
        "health_auditentry",
        "health_enforcement",
    ]:
        page = client.get(changelist(model)).content.decode()
        assert str(us_case.store_account.seller) not in page, model


@pytest.mark.django_db
def test_a_specialist_cannot_edit_or_delete_health_records_directly() -> None:
    case = open_case()
    client = client_for(make_specialist())
    response = client.post(change_url(case), {"status": "resolved"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "open"
    delete = reverse("admin:health_ahacase_delete", args=[case.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
