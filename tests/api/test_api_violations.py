"""Violations through the API: the same consequences as through the admin, idempotent by id."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus
from health.models import AHACase, AuditEntry, Enforcement, OutboxEmail, Violation
from tests.api.conftest import api_with, provision
from tests.health.test_admin import act_url, client_for, enroll, make_specialist, post_action
from tests.health.test_admin_store_accounts import violation_form

pytestmark = pytest.mark.django_db


def body(**overrides: object) -> dict[str, object]:
    detected = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    return {
        "store_account": "sa-1",
        "category": "authenticity",
        "severity": "critical",
        "deactivation_level": True,
        "detected_at": detected,
        "description": "Counterfeit report",
        "reference": "B000TEST01",
        "policy_link": "https://example.com/policy/authenticity",
        **overrides,
    }


def outcome(account: StoreAccount) -> tuple:
    """What a deactivation-level violation did: status, cases, enforcement, emails."""
    account.refresh_from_db()
    return (
        account.status,
        sorted(AHACase.objects.filter(store_account=account).values_list("trigger", "status")),
        sorted(Enforcement.objects.filter(store_account=account).values_list("kind", "status")),
        sorted(OutboxEmail.objects.filter(store_account=account).values_list("kind", flat=True)),
    )


@pytest.mark.parametrize("enrolled", [False, True], ids=["standard-enforcement", "aha-case"])
def test_api_violation_has_the_consequences_of_the_admins(api, enrolled):
    provision(api)
    provision(api, seller="s-2", account="sa-2")
    through_api = StoreAccount.objects.get(external_id="sa-1")
    through_admin = StoreAccount.objects.get(external_id="sa-2")
    if enrolled:
        enroll(through_api)
        enroll(through_admin)
    assert api.put("violations/v-1", body()).status_code == 201
    specialist = make_specialist()
    post_action(
        client_for(specialist), act_url(through_admin, "record_violation"), violation_form()
    )
    assert outcome(through_api) == outcome(through_admin)
    expected = StoreStatus.NORMAL if enrolled else StoreStatus.DEACTIVATED
    assert through_api.status == expected
    assert AHACase.objects.filter(store_account=through_api).exists() is enrolled


def test_violation_is_stored_with_every_field_and_audited(api):
    provision(api)
    response = api.put("violations/v-1", body(severity="high", deactivation_level=False))
    assert response.status_code == 201
    violation = Violation.objects.get(external_id="v-1")
    assert (violation.reference, violation.policy_link) == (
        "B000TEST01",
        "https://example.com/policy/authenticity",
    )
    assert AuditEntry.objects.get(action="api:record_violation").api_client is not None


def test_same_violation_again_changes_nothing_and_other_content_is_409(api):
    provision(api)
    first = body(severity="high", deactivation_level=False)
    assert api.put("violations/v-1", first).status_code == 201
    assert api.put("violations/v-1", first).status_code == 200
    assert Violation.objects.count() == 1
    changed = api.put("violations/v-1", {**first, "severity": "low"})
    assert changed.status_code == 409
    assert Violation.objects.get().severity == "high"


def test_account_wide_violation_by_seller(api):
    provision(api)
    response = api.put(
        "violations/v-1",
        body(store_account=None, seller="s-1", severity="low", deactivation_level=False),
    )
    assert response.status_code == 201 and response.json()["scope"] == "account"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "gossip"}, "category"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"store_account": "nope"}, "store_account"),
        ({"detected_at": "2099-01-01T00:00:00+00:00"}, "detected_at"),
        ({"detected_at": "2026-01-01T00:00:00"}, "detected_at"),
        ({"seller": "s-1"}, "store_account"),
    ],
)
def test_bad_violation_is_refused_with_its_field(api, overrides, field):
    provision(api)
    response = api.put("violations/v-1", body(**overrides))
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Violation.objects.exists()


def test_resolve_by_external_id_with_a_past_time(api):
    provision(api)
    detected = timezone.now() - dt.timedelta(days=3)
    api.put(
        "violations/v-1",
        body(severity="high", deactivation_level=False, detected_at=detected.isoformat()),
    )
    resolved = (detected + dt.timedelta(days=1)).isoformat()
    response = api.post("violations/v-1/resolution", {"resolved_at": resolved})
    assert response.status_code == 200
    violation = Violation.objects.get()
    assert violation.resolved_at == detected + dt.timedelta(days=1)
    assert api.post("violations/v-1/resolution", {"resolved_at": resolved}).status_code == 200
    other = (detected + dt.timedelta(days=2)).isoformat()
    assert api.post("violations/v-1/resolution", {"resolved_at": other}).status_code == 409
    assert api.post("violations/nope/resolution", {"resolved_at": resolved}).status_code == 404
    before = (detected - dt.timedelta(days=1)).isoformat()
    api.put(
        "violations/v-2",
        body(severity="low", deactivation_level=False, detected_at=detected.isoformat()),
    )
    assert api.post("violations/v-2/resolution", {"resolved_at": before}).status_code == 400


def test_violations_only_token_cannot_write_orders(db):
    api, _client = api_with("policy", ["violations:write"])
    assert api.post("daily-orders", {"rows": []}).status_code == 403
