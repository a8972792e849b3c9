"""The callback queue, the outbox and nightly runs, and the stale-run warning on the index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Marketplace
from health.models import (
    AuditEntry,
    CallbackRequest,
    CallbackStatus,
    CaseStatus,
    DayCloseRun,
    EmailStatus,
    OutboxEmail,
    RunStatus,
)
from health.services import callbacks
from tests.builders import make_seller, make_seller_user, make_store_account
from tests.health.test_admin import (
    change_url,
    changelist,
    client_for,
    make_specialist,
    messages_of,
    open_case,
    run_changelist_action,
)

pytestmark = pytest.mark.django_db


def request_callback(*, marketplace: str = "PL", case=None, minutes_ago: int = 0):
    account = (
        case.store_account
        if case
        else make_store_account(seller=make_seller(phone="+48512345678"), marketplace=marketplace)
    )
    callback = callbacks.request_callback(
        seller=account.seller,
        phone=None,
        topic="Help",
        case=case,
        by=make_seller_user(seller=account.seller),
    )
    CallbackRequest.objects.filter(pk=callback.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    return callback


def test_queue_puts_sellers_with_an_open_case_first_then_oldest() -> None:
    oldest = request_callback(minutes_ago=30)
    newer = request_callback(minutes_ago=10)
    urgent = request_callback(case=open_case(), minutes_ago=1)
    page = client_for(make_specialist()).get(changelist("health_callbackrequest")).content.decode()
    positions = [page.index(change_url(cb)) for cb in (urgent, oldest, newer)]
    assert positions == sorted(positions)
    assert "30 min" in page  # the wait so far
    assert (
        reverse("admin:accounts_storeaccount_change", args=[oldest.seller.store_accounts.get().pk])
        in page
    )
    assert change_url(urgent.case) in page


def test_claim_a_callback_is_audited_once() -> None:
    callback, specialist = request_callback(), make_specialist()
    run_changelist_action(client_for(specialist), callback, "claim_callback")
    callback.refresh_from_db()
    assert (callback.status, callback.claimed_by) == (CallbackStatus.CLAIMED, specialist)
    assert AuditEntry.objects.filter(target=f"callback:{callback.pk}").count() == 1


def test_claiming_a_claimed_callback_is_refused() -> None:
    callback = request_callback()
    callbacks.claim_callback(callback=callback, by=make_specialist())
    other = make_specialist()
    response = run_changelist_action(client_for(other), callback, "claim_callback")
    callback.refresh_from_db()
    assert callback.claimed_by != other
    assert any("refused" in m for m in messages_of(response))


def test_a_completed_callback_on_an_open_case_counts_as_engagement() -> None:
    callback = request_callback(case=open_case())
    run_changelist_action(
        client_for(make_specialist()), callback, "complete_callback", note="Talked it through"
    )
    callback.refresh_from_db()
    callback.case.refresh_from_db()
    assert callback.status == CallbackStatus.COMPLETED and callback.note == "Talked it through"
    assert callback.case.status == CaseStatus.ENGAGED
    assert callback.case.engagement == "callback"


def test_no_answer() -> None:
    callback = request_callback()
    run_changelist_action(client_for(make_specialist()), callback, "callback_no_answer", note="")
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.NO_ANSWER


def test_a_limited_specialist_sees_only_callbacks_of_sellers_in_their_stores() -> None:
    polish, american = request_callback(marketplace="PL"), request_callback(marketplace="US")
    client = client_for(make_specialist(limited_to=("PL",)))
    page = client.get(changelist("health_callbackrequest")).content.decode()
    assert change_url(polish) in page and change_url(american) not in page
    run_changelist_action(client, american, "claim_callback")
    american.refresh_from_db()
    assert american.status == CallbackStatus.QUEUED


def failed_email() -> OutboxEmail:
    account = make_store_account()
    return OutboxEmail.objects.create(
        key=f"enrolled:{account.pk}:2025-01-01",
        kind="enrolled",
        seller=account.seller,
        store_account=account,
        to=account.seller.email,
        status=EmailStatus.FAILED,
        attempts=5,
        last_error="SMTP 451 try later",
    )


def test_outbox_lists_failures_and_retries_a_failed_email_without_a_copy() -> None:
    email, specialist = failed_email(), make_specialist()
    client = client_for(specialist)
    assert "SMTP 451" in client.get(changelist("health_outboxemail")).content.decode()
    run_changelist_action(client, email, "retry_email")
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.PENDING, 0)
    assert OutboxEmail.objects.filter(key=email.key).count() == 1
    assert AuditEntry.objects.get(target=f"email:{email.pk}").actor == specialist


def test_retrying_an_email_that_did_not_fail_is_refused() -> None:
    email = failed_email()
    OutboxEmail.objects.filter(pk=email.pk).update(status=EmailStatus.SENT)
    response = run_changelist_action(client_for(make_specialist()), email, "retry_email")
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert any("refused" in m for m in messages_of(response))


def test_nightly_runs_list_shows_failures() -> None:
    DayCloseRun.objects.create(
        marketplace=Marketplace.objects.get(code="PL"),
        day=dt.date(2025, 6, 1),
        status=RunStatus.FAILED,
        error="OperationalError: connection lost",
    )
    page = client_for(make_specialist()).get(changelist("health_daycloserun")).content.decode()
    assert "connection lost" in page


def test_admin_index_warns_about_a_stalled_marketplace() -> None:
    DayCloseRun.objects.create(
        marketplace=Marketplace.objects.get(code="JP"),
        day=dt.date(2025, 6, 1),
        status=RunStatus.DONE,
        started_at=timezone.now() - dt.timedelta(days=3),
        finished_at=timezone.now() - dt.timedelta(days=3),
    )
    page = client_for(make_specialist()).get(reverse("admin:index")).content.decode()
    assert 'id="stale-runs"' in page and "(JP)" in page
    limited = client_for(make_specialist(limited_to=("PL",))).get(reverse("admin:index"))
    assert b'id="stale-runs"' not in limited.content
