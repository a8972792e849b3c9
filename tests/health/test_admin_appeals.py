"""Appeals waiting for a specialist: a queue view of their own, oldest first, counted on the
index, within the specialist's stores only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import Enforcement, EnforcementStatus, Severity
from health.services import protection
from tests.builders import make_seller, make_store_account
from tests.health.test_admin import changelist, client_for, make_specialist

pytestmark = pytest.mark.django_db

PLAN = {"root_cause": "r" * 30, "actions_taken": "a" * 30, "prevention": "p" * 30}


def deactivated(marketplace: str = "PL") -> Enforcement:
    """A store account not in AHA deactivated by a critical violation (standard enforcement)."""
    account = make_store_account(seller=make_seller(), marketplace=marketplace)
    protection.record_violation(
        store_account=account,
        category="authenticity",
        severity=Severity.CRITICAL,
        scope="store",
        deactivation_level=True,
        detected_at=timezone.now() - dt.timedelta(hours=1),
    )
    return Enforcement.objects.get(store_account=account)


def appealed(marketplace: str = "PL") -> Enforcement:
    enforcement = deactivated(marketplace)
    protection.appeal_enforcement(enforcement=enforcement, by=None, **PLAN)
    enforcement.refresh_from_db()
    return enforcement


def test_the_appeals_view_lists_appeals_waiting_oldest_first() -> None:
    first, second = appealed(), appealed()
    # Appealed first but opened first too: the order is the appeals', not the openings'.
    Enforcement.objects.filter(pk=second.pk).update(
        plan_submitted_at=first.plan_submitted_at - dt.timedelta(hours=1),
        opened_at=first.opened_at - dt.timedelta(hours=2),
    )
    not_appealed = deactivated()
    client = client_for(make_specialist())
    response = client.get(changelist("health_enforcement") + "?view=appeals")
    assert [e.pk for e in response.context["cl"].queryset] == [second.pk, first.pk]
    assert not_appealed.status == EnforcementStatus.DEACTIVATED
    # A queue like the others: it refreshes itself and keeps the view.
    assert "hx-trigger=" in response.content.decode()


def test_the_index_counts_appeals_in_the_specialists_stores_and_links_the_view() -> None:
    appealed("PL")
    appealed("US")
    index = client_for(make_specialist(limited_to=("PL",))).get(reverse("admin:index"))
    html = index.content.decode()
    link = '<span class="count">1</span> <a href="/admin/health/enforcement/?view=appeals">'
    assert link in html and "Appeals waiting" in html
    response = client_for(make_specialist(limited_to=("PL",))).get(
        changelist("health_enforcement") + "?view=appeals"
    )
    assert [e.store_account.marketplace_id for e in response.context["cl"].queryset] == ["PL"]
