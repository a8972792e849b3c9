"""The seller context panel on the case, callback and store account pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from health.models import EmailKind
from health.services import callbacks, protection
from health.services.outbox import queue_email
from tests.builders import make_seller_user, make_store_account
from tests.health.test_admin import change_url, client_for, make_specialist, open_case
from tests.health.test_admin_outbox import DEADLINE

pytestmark = pytest.mark.django_db


def world():
    case = open_case()
    seller = case.store_account.seller
    american = make_store_account(seller=seller, marketplace="US")
    callback = callbacks.request_callback(
        seller=seller, phone=None, topic="", case=case, by=make_seller_user(seller=seller)
    )
    return case, american, callback


def test_every_page_of_the_seller_shows_whom_to_call_and_what_is_open() -> None:
    case, american, callback = world()
    client = client_for(make_specialist())
    for obj in (case, callback, case.store_account):
        page = client.get(change_url(obj)).content.decode()
        assert 'id="seller-panel"' in page
        assert 'href="tel:+48512345678"' in page
        assert "(Europe/Warsaw)" in page and "(America/" in page  # local time now per store
        assert "English" in page
        assert change_url(american) in page and change_url(case) in page
        assert "Outreach email" in page  # the contact attempt of the case
        assert change_url(callback) in page


def test_the_panel_shows_only_the_specialists_stores() -> None:
    case, american, _callback = world()
    page = client_for(make_specialist(limited_to=("PL",))).get(change_url(case)).content.decode()
    assert change_url(case.store_account) in page and change_url(american) not in page


def test_the_panel_costs_the_same_queries_with_a_long_history() -> None:
    case, american, _callback = world()
    specialist = make_specialist()
    client = client_for(specialist)
    client.get(change_url(case))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(change_url(case)).status_code == 200
        return len(captured)

    before = queries()
    for n in range(15):
        protection.record_contact_attempt(
            case=case, channel="phone", outcome="no_answer", note="", by=specialist
        )
        # Emails about each store: every row's time is shown in its store's zone.
        for store_account in (case.store_account, american):
            queue_email(
                kind=EmailKind.CASE_REMINDER,
                key=f"case_reminder:{store_account.pk}:{n}",
                seller=store_account.seller,
                store_account=store_account,
                context={"case_id": case.pk, "hours_left": 24, "deadline_at": DEADLINE},
            )
    assert queries() <= before
