"""The marketplace list shows the marketplaces with stores; every one is a filter away."""

from __future__ import annotations

import pytest

from accounts.models import Marketplace
from tests.builders import make_staff_user, make_store_account
from tests.health.test_admin import changelist, client_for

pytestmark = pytest.mark.django_db


def listed(response) -> list[str]:
    return [m.code for m in response.context["cl"].queryset]


def test_marketplaces_without_stores_are_hidden_by_default_and_shown_on_request() -> None:
    make_store_account(marketplace="PL")
    make_store_account(marketplace="JP")
    client = client_for(make_staff_user(superuser=True))
    response = client.get(changelist("accounts_marketplace"))
    assert sorted(listed(response)) == ["JP", "PL"]
    assert "All marketplaces" in response.content.decode()
    everything = client.get(changelist("accounts_marketplace") + "?stores=all")
    assert len(listed(everything)) == Marketplace.objects.count() > 2
