"""A marketplace's time zone is a real one, checked on every save; one stored before the check
existed keeps its pages up."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Marketplace
from tests.builders import make_seller_user, make_staff_user, make_store_account
from tests.security.two_factor import verified_login

pytestmark = pytest.mark.django_db


def test_saving_an_unknown_time_zone_is_refused() -> None:
    marketplace = Marketplace.objects.get(code="PL")
    marketplace.time_zone = "Europe/Atlantis"
    with pytest.raises(ValidationError, match="not a known time zone"):
        marketplace.save()
    marketplace.refresh_from_db()
    assert marketplace.time_zone == "Europe/Warsaw"


def test_the_admin_form_says_what_is_wrong(client) -> None:
    user = make_staff_user()
    user.is_superuser = True
    user.save()
    verified_login(client, user)
    marketplace = Marketplace.objects.get(code="PL")
    data = {
        "code": "PL",
        "name": marketplace.name,
        "time_zone": "Mars/Olympus",
        "language": marketplace.language,
        "currency": marketplace.currency,
        "aha_available_from": marketplace.aha_available_from.isoformat(),
    }
    response = client.post(reverse("admin:accounts_marketplace_change", args=["PL"]), data)
    assert response.status_code == 200
    assert "Mars/Olympus is not a known time zone" in response.content.decode()
    assert Marketplace.objects.get(code="PL").time_zone == "Europe/Warsaw"


def test_a_zone_stored_before_the_check_keeps_the_pages_up(client) -> None:
    store_account = make_store_account(marketplace="PL")
    Marketplace.objects.filter(code="PL").update(time_zone="Europe/Atlantis")
    client.force_login(make_seller_user(seller=store_account.seller))
    response = client.get(reverse("health:dashboard", args=[store_account.pk]))
    assert response.status_code == 200
