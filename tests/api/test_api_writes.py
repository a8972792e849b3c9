"""Writes through /api/v1/: idempotent upserts, whole-batch validation, scopes and the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from prometheus_client import REGISTRY

from accounts.models import EmergencyContact, Seller, StoreAccount, User
from api.services.clients import revoke_api_client
from health.models import AuditEntry, DailyOrders, EmailKind, OutboxEmail
from tests.api.conftest import api_with, provision

pytestmark = pytest.mark.django_db


def test_seller_upsert_creates_then_replays_without_change(api):
    body = {"name": "Nord Tea", "email": "a@example.com", "language": "pl"}
    first = api.put("sellers/s-1", body)
    again = api.put("sellers/s-1", body)
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json()["changed"] is False
    assert Seller.objects.filter(external_id="s-1").count() == 1
    assert AuditEntry.objects.filter(action="api:create_seller").count() == 1
    assert not AuditEntry.objects.filter(action="api:update_seller").exists()


def test_seller_update_changes_fields_and_is_audited_with_the_client(db):
    api, client = api_with("crm", ["provisioning:write"])
    api.put("sellers/s-1", {"name": "Nord", "email": "a@example.com", "language": "en"})
    response = api.put(
        "sellers/s-1", {"name": "Nord Tea", "email": "a@example.com", "language": "en"}
    )
    assert response.status_code == 200 and response.json()["changed"] is True
    assert Seller.objects.get(external_id="s-1").name == "Nord Tea"
    entry = AuditEntry.objects.get(action="api:update_seller")
    assert entry.api_client == client and entry.actor is None


def test_seller_with_unknown_language_is_refused(api):
    response = api.put("sellers/s-1", {"name": "N", "email": "a@example.com", "language": "xx"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "language"
    assert not Seller.objects.exists()


def test_store_account_upsert_and_plan_change(api):
    provision(api, phone=None)
    response = api.put(
        "store-accounts/sa-1",
        {"seller": "s-1", "marketplace": "PL", "plan": "IND", "opened_on": "2025-01-01"},
    )
    assert response.status_code == 200 and response.json()["plan"] == "IND"
    assert StoreAccount.objects.get(external_id="sa-1").plan == "IND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"seller": "nobody", "marketplace": "PL", "plan": "PRO", "opened_on": "2025-01-01"},
            "seller",
        ),
        (
            {"seller": "s-1", "marketplace": "XX", "plan": "PRO", "opened_on": "2025-01-01"},
            "marketplace",
        ),
        ({"seller": "s-1", "marketplace": "PL", "plan": "GOLD", "opened_on": "2025-01-01"}, "plan"),
        (
            {"seller": "s-1", "marketplace": "PL", "plan": "PRO", "opened_on": "2099-01-01"},
            "opened_on",
        ),
    ],
)
def test_store_account_bad_input_names_the_field(api, body, field):
    api.put("sellers/s-1", {"name": "N", "email": "a@example.com", "language": "en"})
    response = api.put("store-accounts/sa-1", body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not StoreAccount.objects.exists()


def test_contact_is_validated_as_the_sellers_form_validates_it(api):
    provision(api, phone=None)
    bad = api.put("sellers/s-1/emergency-contact", {"phone": "12"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "phone"
    assert not EmergencyContact.objects.exists()
    good = api.put("sellers/s-1/emergency-contact", {"phone": "+48 512 345 678"})
    assert good.status_code == 200 and good.json()["phone"] == "+48512345678"
    again = api.put("sellers/s-1/emergency-contact", {"phone": "+48512345678"})
    assert again.json()["changed"] is False
    removed = api.delete("sellers/s-1/emergency-contact")
    assert removed.status_code == 200 and removed.json()["changed"] is True
    assert not EmergencyContact.objects.exists()


def test_new_user_gets_an_invitation_with_a_set_password_link(api):
    provision(api)
    response = api.put(
        "sellers/s-1/users/u-1", {"username": "ania", "email": "ania@example.com", "language": "pl"}
    )
    assert response.status_code == 201 and response.json()["invited"] is True
    user = User.objects.get(external_id="u-1")
    assert not user.has_usable_password()
    email = OutboxEmail.objects.get(kind=EmailKind.INVITE)
    assert email.to == "ania@example.com" and email.language == "pl"
    assert "/password/set/" in email.context["link"]
    again = api.put(
        "sellers/s-1/users/u-1", {"username": "ania", "email": "ania@example.com", "language": "pl"}
    )
    assert again.status_code == 200 and again.json()["invited"] is False
    assert OutboxEmail.objects.filter(kind=EmailKind.INVITE).count() == 1
    assert mail.outbox == [] or all("ania" in m.to[0] for m in mail.outbox)


def test_orders_batch_applies_and_a_replay_changes_nothing(api):
    provision(api)
    rows = [{"store_account": "sa-1", "day": f"2026-11-{d:02d}", "orders": d} for d in range(1, 11)]
    first = api.post("daily-orders", {"rows": rows})
    assert first.status_code == 200 and first.json()["rows"] == 10
    api.post("daily-orders", {"rows": rows})
    assert DailyOrders.objects.count() == 10
    api.post(
        "daily-orders", {"rows": [{"store_account": "sa-1", "day": "2026-11-01", "orders": 99}]}
    )
    assert DailyOrders.objects.get(day=dt.date(2026, 11, 1)).orders == 99


def test_one_bad_row_rejects_the_whole_batch_with_every_bad_row(api):
    provision(api)
    rows = [
        {"store_account": "sa-1", "day": "2026-11-01", "orders": 5},
        {"store_account": "nope", "day": "2026-11-01", "orders": 5},
        {"store_account": "sa-1", "day": "2024-01-01", "orders": 5},
        {"store_account": "sa-1", "day": "2099-01-01", "orders": 5},
        {"store_account": "sa-1", "day": "2026-11-02", "orders": -1},
        {"store_account": "sa-1", "day": "2026-11-03", "orders": 10**9},
    ]
    response = api.post("daily-orders", {"rows": rows})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "store_account"),
        (2, "day"),
        (3, "day"),
        (4, "orders"),
        (5, "orders"),
    ]
    assert "before the store account opened" in errors[1]["message"]
    assert "future" in errors[2]["message"]
    assert not DailyOrders.objects.exists()


def test_a_malformed_row_is_reported_by_index_and_field(api):
    provision(api)
    rows = [
        {"store_account": "sa-1", "day": "2026-11-01", "orders": 5},
        {"store_account": "sa-1", "day": "2026-02-30", "orders": "many"},
    ]
    response = api.post("daily-orders", {"rows": rows})
    assert response.status_code == 400
    assert {(e["index"], e["field"]) for e in response.json()["errors"]} == {
        (1, "day"),
        (1, "orders"),
    }
    assert not DailyOrders.objects.exists()


def test_a_batch_over_ten_thousand_rows_is_refused(api):
    provision(api)
    rows = [{"store_account": "sa-1", "day": "2026-11-01", "orders": 1}] * 10_001
    response = api.post("daily-orders", {"rows": rows})
    assert response.status_code == 400
    assert not DailyOrders.objects.exists()


def test_a_body_over_the_limit_answers_413(api, settings):
    settings.API_MAX_BODY_BYTES = 2048
    provision(api)
    rows = [{"store_account": "sa-1", "day": "2026-11-01", "orders": 1}] * 100
    response = api.post("daily-orders", {"rows": rows})
    assert response.status_code == 413
    assert not DailyOrders.objects.exists()


def test_an_orders_only_token_gets_403_on_violations(db):
    api, _client = api_with("orders-feed", ["orders:write"])
    response = api.put(
        "violations/v-1",
        {
            "store_account": "sa-1",
            "category": "listing",
            "severity": "low",
            "detected_at": "2026-11-01T10:00:00+01:00",
        },
    )
    assert response.status_code == 403


def test_a_revoked_or_unknown_token_gets_401(db):
    api, client = api_with("feed", ["orders:write"])
    revoke_api_client(client=client)
    assert api.post("daily-orders", {"rows": []}).status_code == 401
    api.token = "aha_not-a-token"
    assert api.post("daily-orders", {"rows": []}).status_code == 401


def test_last_use_is_recorded(db):
    api, client = api_with("feed", ["orders:write"])
    api.post("daily-orders", {"rows": []})
    client.refresh_from_db()
    assert client.last_used_at is not None


def test_rate_limit_answers_429_with_retry_after(db, settings):
    settings.API_RATE_LIMIT = 3
    api, _client = api_with("feed", ["orders:write"])
    answers = [api.post("daily-orders", {"rows": []}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) >= 1


def test_rows_the_api_stores_are_counted_for_the_metrics(api):
    def ingested(kind: str) -> float:
        return REGISTRY.get_sample_value("aha_api_rows_ingested_total", {"kind": kind}) or 0

    provision(api)
    before = ingested("orders")
    rows = [{"store_account": "sa-1", "day": f"2026-11-{d:02d}", "orders": d} for d in range(1, 4)]
    assert api.post("daily-orders", {"rows": rows}).status_code == 200
    assert ingested("orders") == before + 3
    bad = [{"store_account": "nobody", "day": "2026-11-01", "orders": 1}]
    assert api.post("daily-orders", {"rows": bad}).status_code == 400
    assert ingested("orders") == before + 3
