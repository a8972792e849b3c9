"""The queues match the work: open cases by deadline with urgency in colour and words, the
views specialists work from, their counts on the index, and self-refreshing results."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import AHACase, CaseStatus, Enforcement, EnforcementKind, EnforcementStatus
from health.services import assignment, protection
from tests.health.test_admin import (
    act_url,
    change_url,
    changelist,
    client_for,
    make_specialist,
    open_case,
)

pytestmark = pytest.mark.django_db


def case_due_in(hours: float, **kwargs) -> AHACase:
    case = open_case(**kwargs)
    AHACase.objects.filter(pk=case.pk).update(
        deadline_at=timezone.now() + dt.timedelta(hours=hours)
    )
    return case


def test_the_queue_opens_on_open_cases_by_deadline_with_urgency_in_words() -> None:
    later, soon, very_soon = case_due_in(50), case_due_in(20), case_due_in(3)
    closed = case_due_in(1)
    AHACase.objects.filter(pk=closed.pk).update(status=CaseStatus.MISSED)
    page = client_for(make_specialist()).get(changelist("health_ahacase")).content.decode()
    assert change_url(closed) not in page
    positions = [page.index(change_url(c)) for c in (very_soon, soon, later)]
    assert positions == sorted(positions)
    assert 'class="due due-4h">under 4 h' in page
    assert 'class="due due-24h">under 24 h' in page
    assert 'hx-trigger="every 15s"' in page and 'hx-select="#queue-results"' in page


def test_the_views_and_their_counts_on_the_index() -> None:
    specialist = make_specialist()
    mine, breaching, plan = case_due_in(40), case_due_in(2), case_due_in(60)
    assignment.assign_case(case=mine, to=specialist, by=specialist)
    protection.submit_plan_of_action(
        case=plan, root_cause="r" * 30, actions_taken="a" * 30, prevention="p" * 30, by=None
    )
    Enforcement.objects.create(
        store_account=mine.store_account,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=dt.date(2025, 1, 1),
        status=EnforcementStatus.APPEALED,
    )
    client = client_for(specialist)
    for view, expected in [("mine", mine), ("breaching", breaching), ("plan", plan)]:
        response = client.get(changelist("health_ahacase") + f"?view={view}")
        assert [c.pk for c in response.context["cl"].queryset] == [expected.pk], view
    index = client.get(reverse("admin:index")).content.decode()
    for label in ["Mine", "Breaching within 4 hours", "Plan received, needs review"]:
        assert '<span class="count">1</span> <a href="/admin/health/ahacase/?view=' in index
        assert label in index
    assert "Appeals waiting" in index and "/admin/health/enforcement/?view=appeals" in index


def test_assign_to_me_is_not_offered_on_an_assigned_case() -> None:
    case, other = open_case(), make_specialist()
    client = client_for(make_specialist())
    assert act_url(case, "assign_case") in client.get(change_url(case)).content.decode()
    assignment.assign_case(case=case, to=other, by=other)
    assert act_url(case, "assign_case") not in client.get(change_url(case)).content.decode()


def test_a_refresh_keeps_the_specialists_filters() -> None:
    case_due_in(2)
    client = client_for(make_specialist())
    url = changelist("health_ahacase") + "?view=breaching&marketplace=PL"
    page = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-get="/admin/health/ahacase/?view=breaching&amp;marketplace=PL"' in page


def test_marketplace_filters_list_only_marketplaces_with_stores() -> None:
    open_case(marketplace="PL")
    page = client_for(make_specialist()).get(changelist("health_ahacase")).content.decode()
    assert "?marketplace=PL" in page and "?marketplace=JP" not in page
