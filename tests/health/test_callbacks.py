import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import SellingPlan
from health.eligibility import CALLBACK_LIMIT_PERIOD, MAX_CALLBACKS_PER_DAY
from health.models import (
    AuditEntry,
    CallbackRequest,
    CallbackStatus,
    CaseStatus,
    EmailKind,
    EngagementKind,
    OutboxEmail,
)
from health.services import callbacks
from tests.builders import PHONE, make_seller, make_seller_user, make_staff_user, make_store_account
from tests.health.dashboard_data import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def store_account():
    return make_store_account(seller=make_seller(phone=PHONE), marketplace="PL")


@pytest.fixture
def seller_user(store_account):
    return make_seller_user(seller=store_account.seller)


def press(seller_user, **kwargs) -> CallbackRequest:
    arguments = {"phone": None, "topic": "", "case": None, **kwargs}
    return callbacks.request_callback(seller=seller_user.seller, by=seller_user, **arguments)


def finish(callback: CallbackRequest) -> None:
    callbacks.cancel_callback(callback=callback, by=callback.requested_by)


# --- the service --------------------------------------------------------------------------


def test_request_defaults_to_the_emergency_contact_and_queues_one_email(seller_user):
    callback = press(seller_user, topic="My listing was removed")
    assert callback.phone == "+48512345678"
    assert callback.status == CallbackStatus.QUEUED
    email = OutboxEmail.objects.get(key=f"callback_received:{callback.pk}")
    assert email.kind == EmailKind.CALLBACK_RECEIVED


def test_typed_number_is_validated_like_the_emergency_contact(seller_user):
    with pytest.raises(ValidationError):
        press(seller_user, phone="12")
    assert not CallbackRequest.objects.exists()
    callback = press(seller_user, phone="+49 30 12345678")
    assert callback.phone == "+493012345678"


def test_without_contact_a_number_must_be_typed():
    store_account = make_store_account(seller=make_seller(), marketplace="PL")
    user = make_seller_user(seller=store_account.seller)
    with pytest.raises(ValidationError, match="emergency contact"):
        press(user)


def test_second_press_returns_the_open_request(seller_user):
    first = press(seller_user)
    second = press(seller_user, topic="again")
    assert second.pk == first.pk
    assert CallbackRequest.objects.count() == 1
    assert OutboxEmail.objects.filter(kind=EmailKind.CALLBACK_RECEIVED).count() == 1


def test_at_most_three_requests_in_24_hours(seller_user):
    for _ in range(MAX_CALLBACKS_PER_DAY):
        finish(press(seller_user))
    with pytest.raises(ValidationError, match="the most allowed"):
        press(seller_user)
    # The oldest request leaves the period: one more is allowed.
    oldest = CallbackRequest.objects.order_by("created_at").first()
    oldest.created_at = timezone.now() - CALLBACK_LIMIT_PERIOD - dt.timedelta(minutes=1)
    oldest.save()
    assert press(seller_user).status == CallbackStatus.QUEUED


def test_individual_plan_seller_cannot_request():
    store_account = make_store_account(seller=make_seller(phone=PHONE), plan=SellingPlan.INDIVIDUAL)
    user = make_seller_user(seller=store_account.seller)
    with pytest.raises(ValidationError, match="Professional"):
        press(user)


def test_topic_too_long_is_refused(seller_user):
    with pytest.raises(ValidationError):
        press(seller_user, topic="x" * 201)


def test_another_sellers_case_cannot_be_linked(seller_user):
    other_case = open_case(make_store_account())
    with pytest.raises(ValidationError):
        press(seller_user, case=other_case)


def test_queue_puts_sellers_with_an_open_case_first_then_oldest(seller_user):
    first = press(seller_user)
    second_account = make_store_account(seller=make_seller(phone=PHONE))
    second_user = make_seller_user(seller=second_account.seller)
    second = press(second_user)
    assert callbacks.queue_position(first) == 1
    assert callbacks.queue_position(second) == 2
    open_case(second_account)
    assert callbacks.queue_position(second) == 1
    assert callbacks.queue_position(first) == 2
    ordered = list(CallbackRequest.objects.queued().in_queue_order())
    assert ordered == [second, first]


def test_claimed_request_has_no_queue_position_and_is_audited(seller_user):
    callback = press(seller_user)
    specialist = make_staff_user()
    callbacks.claim_callback(callback=callback, by=specialist)
    assert callbacks.queue_position(callback) is None
    assert AuditEntry.objects.filter(action="claim_callback", actor=specialist).exists()
    with pytest.raises(ValidationError):
        callbacks.claim_callback(callback=callback, by=specialist)


def test_completed_callback_linked_to_an_open_case_counts_as_engagement(seller_user, store_account):
    case = open_case(store_account)
    callback = press(seller_user, case=case)
    specialist = make_staff_user()
    callbacks.claim_callback(callback=callback, by=specialist)
    callbacks.complete_callback(callback=callback, by=specialist, note="Talked it through")
    case.refresh_from_db()
    assert case.status == CaseStatus.ENGAGED
    assert case.engagement == EngagementKind.CALLBACK


def test_no_answer_and_cancel_close_the_request(seller_user):
    callback = press(seller_user)
    callbacks.mark_no_answer(callback=callback, by=make_staff_user())
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.NO_ANSWER
    again = press(seller_user)
    callbacks.cancel_callback(callback=again, by=seller_user)
    again.refresh_from_db()
    assert again.status == CallbackStatus.CANCELLED
    with pytest.raises(ValidationError):
        callbacks.cancel_callback(callback=again, by=seller_user)


# --- the views ------------------------------------------------------------------------------


@pytest.fixture
def seller_client(client, seller_user):
    client.force_login(seller_user)
    return client


def request_url(store_account) -> str:
    return reverse("health:request_callback", args=[store_account.pk])


def test_plain_post_redirects_to_the_dashboard_with_a_message(seller_client, store_account):
    response = seller_client.post(request_url(store_account), {"topic": "Help"}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(
        reverse("health:dashboard", args=[store_account.pk])
    )
    assert "We have your request" in html
    assert "You are number 1 in line" in html


def test_htmx_post_returns_the_status_fragment(seller_client, store_account):
    response = seller_client.post(
        request_url(store_account), {"topic": "Help"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert b"<html" not in response.content
    assert 'id="callback-status"' in html and 'hx-trigger="every 5s"' in html
    assert "We have your request" in html


def test_second_press_through_the_view_shows_the_open_request(seller_client, store_account):
    seller_client.post(request_url(store_account), {})
    response = seller_client.post(request_url(store_account), {}, headers={"HX-Request": "true"})
    assert "already have a callback request open" in response.content.decode()
    assert CallbackRequest.objects.count() == 1


def test_limit_message_is_shown(seller_client, store_account, seller_user):
    for _ in range(MAX_CALLBACKS_PER_DAY):
        finish(press(seller_user))
    response = seller_client.post(request_url(store_account), {}, follow=True)
    assert "the most allowed" in response.content.decode()


def test_status_poll_shows_claimed_then_stops_polling_when_done(seller_client, store_account):
    seller_client.post(request_url(store_account), {})
    callback = CallbackRequest.objects.get()
    status_url = reverse("health:callback_status", args=[store_account.pk])
    specialist = make_staff_user()
    callbacks.claim_callback(callback=callback, by=specialist)
    html = seller_client.get(status_url, headers={"HX-Request": "true"}).content.decode()
    assert "A specialist is calling you now" in html
    assert 'hx-trigger="every 5s"' in html
    callbacks.complete_callback(callback=callback, by=specialist)
    html = seller_client.get(status_url, headers={"HX-Request": "true"}).content.decode()
    assert "Completed" in html
    assert "hx-trigger" not in html


def test_unchanged_status_poll_answers_204(seller_client, store_account):
    seller_client.post(request_url(store_account), {})
    callback = CallbackRequest.objects.get()
    status_url = reverse("health:callback_status", args=[store_account.pk])
    seen = f"{callback.pk}-queued-1"
    response = seller_client.get(f"{status_url}?seen={seen}", headers={"HX-Request": "true"})
    assert response.status_code == 204


def test_cancel_through_the_view(seller_client, store_account):
    seller_client.post(request_url(store_account), {})
    callback = CallbackRequest.objects.get()
    url = reverse("health:cancel_callback", args=[store_account.pk, callback.pk])
    response = seller_client.post(url, follow=True)
    assert "Your callback request is cancelled." in response.content.decode()
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CANCELLED


def test_hostile_topic_is_shown_escaped(seller_client, store_account):
    seller_client.post(request_url(store_account), {"topic": "<script>alert(1)</script>"})
    html = seller_client.get(reverse("health:dashboard", args=[store_account.pk])).content
    assert b"<script>alert(1)</script>" not in html
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_bad_phone_through_the_view_changes_nothing(seller_client, store_account):
    response = seller_client.post(
        request_url(store_account), {"phone": "not a number"}, headers={"HX-Request": "true"}
    )
    assert "not a phone number" in response.content.decode()
    assert not CallbackRequest.objects.exists()
