"""Audit actions and a night's counts read in words, not codes or JSON."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Marketplace
from health.admin.words import action_words, night_counts, target_words
from health.models import AuditEntry, DayCloseRun, RunStatus
from tests.builders import make_seller, make_store_account
from tests.health.test_admin import (
    act_url,
    change_url,
    changelist,
    client_for,
    enroll,
    make_specialist,
    post_action,
)

pytestmark = pytest.mark.django_db


def test_a_removal_reads_as_what_happened_in_the_audit_list_and_its_filter() -> None:
    account = enroll(make_store_account(seller=make_seller(phone="+48512345678")))
    specialist = make_specialist()
    client = client_for(specialist)
    post_action(client, act_url(account, "remove_r6"), {"reason": "Licence revoked"})
    assert AuditEntry.objects.filter(action="remove_r6").exists()
    page = client.get(changelist("health_auditentry")).content.decode()
    assert "Removed from AHA: barred by a specialist (R6)" in page
    assert ">remove_r6<" not in page
    assert f"Store account #{account.pk}" in page and f">store_account:{account.pk}<" not in page
    # The filter offers the action in words and still finds it.
    filtered = client.get(changelist("health_auditentry") + "?action=remove_r6")
    assert [e.action for e in filtered.context["cl"].queryset] == ["remove_r6"]


def test_every_recorded_action_has_words_and_an_unknown_one_still_reads() -> None:
    assert action_words("callback_no_answer") == "Called the seller back: no answer"
    assert action_words("api:daily_orders") == "Through the API: Sent daily orders"
    assert action_words("some_new_thing") == "Some new thing"
    assert target_words("case:12") == "AHA case #12"
    assert target_words("accounts.seller:3") == "Seller #3"
    assert target_words("") == ""


def test_a_nights_counts_read_as_a_sentence_on_the_runs_list() -> None:
    counts = {"closed": 12000, "enrolled": 3, "removed": 0, "waiting": 1, "emails": 4, "low_ahr": 0}
    assert night_counts(counts) == (
        "12,000 store accounts closed, 3 enrolled in AHA, "
        "1 eligible, waiting for an emergency contact, 4 emails written."
    )
    run = DayCloseRun.objects.create(
        marketplace=Marketplace.objects.get(code="PL"),
        day=dt.date(2026, 3, 1),
        status=RunStatus.DONE,
        counts=counts,
    )
    client = client_for(make_specialist())
    listing = client.get(changelist("health_daycloserun")).content.decode()
    assert "12,000 store accounts closed" in listing and '"closed"' not in listing
    assert "12,000 store accounts closed" in client.get(change_url(run)).content.decode()
