"""Every path into an AHA case, for a specialist of another marketplace: a seller sells in PL
(an open AHA case, its callback, its emails and audit entries) and in US; a specialist limited
to US works the seller's US store and the seller's callback, and must never see or change the
PL case through any of them."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from health.models import AHACase, AuditEntry, CallbackStatus, CaseStatus
from health.services import callbacks
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.test_admin import (
    act_url,
    change_url,
    changelist,
    client_for,
    make_specialist,
    messages_of,
    open_case,
    run_changelist_action,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict:
    seller = make_seller(name="Dwa Rynki", phone="+48512345678")
    case = open_case(make_store_account(seller=seller, marketplace="PL"))
    american = make_store_account(seller=seller, marketplace="US")
    callback = callbacks.request_callback(
        seller=seller, phone=None, topic="", case=case, by=make_seller_user(seller=seller)
    )
    return {"case": case, "american": american, "callback": callback, "seller": seller}


@pytest.fixture
def us_client():
    return client_for(make_specialist(limited_to=("US",)))


def shows_case(html: str, case: AHACase) -> bool:
    return change_url(case) in html or f"AHA case #{case.pk} " in html


CASE_ACTIONS = [spec.name for spec in admin.site._registry[AHACase].specialist_actions]


def test_the_case_queue_does_not_list_it_even_when_searched(world, us_client) -> None:
    for query in ["", "?q=Dwa+Rynki", f"?q={world['case'].pk}", "?status__exact=open"]:
        response = us_client.get(changelist("health_ahacase") + query)
        assert response.status_code == 200
        assert world["case"].pk not in {case.pk for case in response.context["cl"].queryset}
        assert not shows_case(response.content.decode(), world["case"])


@pytest.mark.parametrize("page", ["change", "history", *CASE_ACTIONS])
def test_its_own_pages_answer_404(world, us_client, page: str) -> None:
    case = world["case"]
    if page == "change":
        url = change_url(case)
    elif page == "history":
        url = reverse("admin:health_ahacase_history", args=[case.pk])
    else:
        url = act_url(case, page)
    assert us_client.get(url).status_code == 404
    assert us_client.post(url, {"note": "x", "reason": "x"}).status_code == 404


def test_the_callback_queue_and_page_do_not_show_it(world, us_client) -> None:
    queue = us_client.get(changelist("health_callbackrequest"))
    assert world["callback"].pk in {cb.pk for cb in queue.context["cl"].queryset}
    assert not shows_case(queue.content.decode(), world["case"])
    # Not even as urgency: the seller has no open case in this specialist's stores.
    assert not next(cb for cb in queue.context["cl"].result_list).urgent
    page = us_client.get(change_url(world["callback"])).content.decode()
    assert not shows_case(page, world["case"])
    assert "outside your stores" in page


def test_completing_the_callback_completes_the_call_but_not_the_case(world, us_client) -> None:
    response = run_changelist_action(us_client, world["callback"], "complete_callback", note="ok")
    world["callback"].refresh_from_db()
    world["case"].refresh_from_db()
    assert world["callback"].status == CallbackStatus.COMPLETED
    assert world["case"].status == CaseStatus.OPEN and world["case"].engaged_at is None
    assert not AuditEntry.objects.filter(action="mark_engaged").exists()
    assert any(
        "outside your stores" in m and "not marked engaged" in m for m in messages_of(response)
    )
    assert not any(f"AHA case #{world['case'].pk}" in m for m in messages_of(response))


def test_a_specialist_of_the_case_marketplace_completing_it_engages_the_case(world) -> None:
    client = client_for(make_specialist(limited_to=("PL",)))
    response = run_changelist_action(client, world["callback"], "complete_callback", note="ok")
    world["case"].refresh_from_db()
    assert world["case"].status == CaseStatus.ENGAGED
    assert any("marked engaged" in m for m in messages_of(response))


def test_the_other_store_pages_do_not_show_it(world, us_client) -> None:
    pages = [
        change_url(world["american"]),
        reverse("admin:accounts_seller_change", args=[world["seller"].pk]),
        changelist("accounts_storeaccount") + "?q=Dwa+Rynki",
        changelist("health_auditentry"),
        changelist("health_outboxemail"),
        changelist("health_violation"),
        changelist("health_enforcement"),
        reverse("admin:index"),
    ]
    for url in pages:
        response = us_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not shows_case(html, world["case"]), url
        pl_store = world["case"].store_account
        assert change_url(pl_store) not in html, url


def test_autocomplete_offers_nothing_of_it(world, us_client) -> None:
    for model, field in [("ahacase", "store_account"), ("callbackrequest", "case")]:
        response = us_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "health", "model_name": model, "field_name": field, "term": "Dwa"},
        )
        assert response.status_code in {403, 404} or str(world["case"].pk) not in response.json()
