"""Edits through the admin's own forms, by superusers too, reach the audit trail."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.admin_audit import AuditedAdminMixin
from accounts.models import Marketplace
from health.models import AuditEntry
from tests.builders import make_seller_user, make_staff_user
from tests.security.two_factor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    user = make_staff_user()
    user.is_superuser = True
    user.save()
    verified_login(client, user)
    client.user = user
    return client


def test_every_registered_admin_records_its_edits() -> None:
    assert all(
        isinstance(model_admin, AuditedAdminMixin) for model_admin in admin.site._registry.values()
    )


def test_a_superusers_change_is_in_the_audit_trail(superuser_client) -> None:
    marketplace = Marketplace.objects.get(code="PL")
    data = {
        "code": "PL",
        "name": "Polska",
        "time_zone": marketplace.time_zone,
        "language": marketplace.language,
        "currency": marketplace.currency,
        "aha_available_from": marketplace.aha_available_from.isoformat(),
    }
    response = superuser_client.post(
        reverse("admin:accounts_marketplace_change", args=["PL"]), data
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin_change")
    assert entry.actor == superuser_client.user
    assert entry.target == "accounts.marketplace:PL"
    assert entry.reason == "Changed Name."


def test_a_superusers_deletion_is_in_the_audit_trail(superuser_client) -> None:
    user = make_seller_user()
    url = reverse("admin:accounts_user_delete", args=[user.pk])
    response = superuser_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin_delete")
    assert entry.actor == superuser_client.user
    assert entry.target == f"accounts.user:{user.pk}"
