"""Hostile input on every form, property-based: malformed, oversized, unicode and HTML/script
text is either accepted and then only ever shown escaped, or refused with a message and nothing
changed. Replayed and double-submitted forms change nothing twice."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import EmergencyContact
from health.eligibility import RemovalReason
from health.models import (
    AHACase,
    AuditEntry,
    CallbackRequest,
    Enforcement,
    EnrollmentEvent,
    OutboxEmail,
)
from health.services import enrollment, protection
from health.services.callbacks import cancel_callback
from tests.client import Client
from tests.health.test_admin import act_url, change_url, enroll, post_action, with_token
from tests.health.test_seller_isolation import PLAN, seller_world
from tests.security.two_factor import verified_login
from tests.security.world import make_specialist

pytestmark = pytest.mark.django_db

# Each payload is harmless only if it is shown as text.
MARKUP = [
    "<script>alert('aha')</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><script>alert(2)</script>",
    "<svg/onload=alert(3)>",
    '<a href="javascript:alert(4)">x</a>',
]
OTHER_HOSTILE = [
    "{{ request }}{% debug %}",
    "\u202egnp.exe",
    "Zażółć gęślą jaźń 東京 😀",
    "' OR 1=1; --",
    "line\r\nSet-Cookie: x=1",
    "nul\x00byte",
    "\u200b\u200b\u200b",
    "",
    "   ",
]
HOSTILE = MARKUP + OTHER_HOSTILE
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=200),
    # Oversized: far past every field's limit.
    st.builds(lambda text, times: text * times, st.sampled_from(MARKUP), st.integers(100, 400)),
)
phones = st.one_of(
    texts,
    st.from_regex(r"\+?[0-9 ()\-.]{0,30}", fullmatch=True),
    st.sampled_from(["+48 512 345 678", "+48512345679", "512 345 670", "+1 415 555 0100"]),
)
EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def state_of(world: dict) -> dict:
    """Everything a seller form or a specialist action could change."""
    store_account = world["store"]
    seller = store_account.seller
    contact = EmergencyContact.objects.filter(seller=seller).first()
    return {
        "case": model_to_dict(AHACase.objects.get(pk=world["case"].pk)),
        "enforcement": model_to_dict(Enforcement.objects.get(pk=world["enforcement"].pk)),
        "contact": model_to_dict(contact) if contact else None,
        "callbacks": list(CallbackRequest.objects.filter(seller=seller).values()),
        "audit": AuditEntry.objects.filter(store_account=store_account).count(),
        "outbox": OutboxEmail.objects.filter(seller=seller).count(),
        "events": EnrollmentEvent.objects.filter(store_account=store_account).count(),
        "store": model_to_dict(store_account.__class__.objects.get(pk=store_account.pk)),
    }


def assert_escaped(html: str, sent: list[str]) -> None:
    for text in sent:
        for payload in MARKUP:
            if payload in text:
                assert payload not in html, f"rendered as markup: {payload!r}"


def submit(client: Client, url: str, data: dict, world: dict, *, pages: list[str]) -> None:
    """POST hostile data: refused -> a message and no change; accepted -> only shown escaped."""
    before = state_of(world)
    response = client.post(url, data)
    sent = [value for value in data.values() if isinstance(value, str)]
    assert response.status_code in {200, 302}
    if response.status_code == 200:
        html = response.content.decode()
        assert 'role="alert"' in html or "errorlist" in html, "refused without a message"
        assert state_of(world) == before
        assert_escaped(html, sent)
    for page in pages:
        assert_escaped(client.get(page).content.decode(), sent)


def seller_client(world: dict) -> Client:
    client = Client()
    client.force_login(world["user"])
    return client


def seller_pages(world: dict) -> list[str]:
    args = [world["store"].pk]
    return [
        reverse("health:dashboard", args=args),
        reverse("health:timeline", args=args),
        reverse("health:plan_of_action", args=[*args, world["case"].pk]),
        reverse("health:appeal", args=[*args, world["enforcement"].pk]),
    ]


@EXAMPLES
@given(phone=phones, region=st.sampled_from(["PL", "US", "XX", "<b>"]))
def test_emergency_contact_phone(phone: str, region: str) -> None:
    world = seller_world()
    url = reverse("health:emergency_contact", args=[world["store"].pk])
    data = {"region": region, "phone": phone}
    submit(seller_client(world), url, data, world, pages=[url, *seller_pages(world)])


# Long enough to be accepted: the markup must then be shown as text.
ACCEPTED = "</textarea><script>alert(2)</script> <img src=x onerror=alert(1)>"
assert ACCEPTED.startswith(MARKUP[2]) and MARKUP[1][2:] in ACCEPTED


@EXAMPLES
@given(root_cause=texts, actions_taken=texts, prevention=texts)
@example(root_cause=ACCEPTED, actions_taken=ACCEPTED, prevention=ACCEPTED)
def test_plan_of_action(root_cause: str, actions_taken: str, prevention: str) -> None:
    world = seller_world()
    url = reverse("health:plan_of_action", args=[world["store"].pk, world["case"].pk])
    data = {"root_cause": root_cause, "actions_taken": actions_taken, "prevention": prevention}
    submit(seller_client(world), url, data, world, pages=seller_pages(world))


@EXAMPLES
@given(root_cause=texts, actions_taken=texts, prevention=texts)
@example(root_cause=ACCEPTED, actions_taken=ACCEPTED, prevention=ACCEPTED)
def test_appeal(root_cause: str, actions_taken: str, prevention: str) -> None:
    world = seller_world()
    url = reverse("health:appeal", args=[world["store"].pk, world["enforcement"].pk])
    data = {"root_cause": root_cause, "actions_taken": actions_taken, "prevention": prevention}
    submit(seller_client(world), url, data, world, pages=seller_pages(world))


@EXAMPLES
@given(topic=texts, phone=phones)
@example(topic=MARKUP[0], phone="")
def test_callback_topic_and_phone(topic: str, phone: str) -> None:
    world = seller_world()
    cancel_callback(callback=world["callback"], by=world["user"])
    url = reverse("health:request_callback", args=[world["store"].pk])
    data = {"topic": topic, "phone": phone}
    submit(seller_client(world), url, data, world, pages=seller_pages(world))


# --- the specialists' written reasons --------------------------------------------------------


def specialist_client() -> Client:
    return verified_login(Client(), make_specialist())


def admin_world(*, barred: bool = False, engaged: bool = False) -> dict:
    world = seller_world()
    enroll(world["store"])
    if engaged:
        protection.acknowledge_case(case=world["case"], by=world["user"])
    if barred:
        enrollment.remove_from_aha(store_account=world["store"], reason=RemovalReason.R6, note="x")
    return world


def admin_pages(world: dict) -> list[str]:
    return [change_url(world["store"]), change_url(world["case"])]


@EXAMPLES
@given(reason=texts, action=st.sampled_from(["remove_r6", "remove_r7"]))
@example(reason=MARKUP[0], action="remove_r6")
def test_removal_reason(reason: str, action: str) -> None:
    world = admin_world()
    url = act_url(world["store"], action)
    client = specialist_client()
    data = with_token(client, url, {"reason": reason})
    submit(client, url, data, world, pages=admin_pages(world))


@EXAMPLES
@given(reason=texts)
@example(reason=MARKUP[1])
def test_lift_bar_reason(reason: str) -> None:
    world = admin_world(barred=True)
    url = act_url(world["store"], "lift_bar")
    client = specialist_client()
    data = with_token(client, url, {"reason": reason})
    submit(client, url, data, world, pages=admin_pages(world))


@EXAMPLES
@given(reason=texts)
@example(reason=MARKUP[4])
def test_close_unresolved_reason(reason: str) -> None:
    world = admin_world(engaged=True)
    url = act_url(world["case"], "close_unresolved")
    client = specialist_client()
    data = with_token(client, url, {"reason": reason})
    submit(client, url, data, world, pages=admin_pages(world))


# --- accepted markup is stored as typed and shown as text ------------------------------------


def test_markup_in_an_accepted_plan_of_action_is_shown_as_text() -> None:
    world = seller_world()
    client = seller_client(world)
    url = reverse("health:plan_of_action", args=[world["store"].pk, world["case"].pk])
    data = {"root_cause": ACCEPTED, "actions_taken": ACCEPTED, "prevention": ACCEPTED}
    assert client.post(url, data).status_code == 302
    assert AHACase.objects.get(pk=world["case"].pk).root_cause == ACCEPTED
    html = client.get(url).content.decode()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert_escaped(html, [ACCEPTED])


def test_markup_in_an_accepted_callback_topic_is_shown_as_text() -> None:
    world = seller_world()
    cancel_callback(callback=world["callback"], by=world["user"])
    client = seller_client(world)
    url = reverse("health:request_callback", args=[world["store"].pk])
    assert client.post(url, {"topic": MARKUP[0]}).status_code == 302
    assert CallbackRequest.objects.filter(topic=MARKUP[0]).count() == 1
    specialist = specialist_client()
    html = specialist.get(reverse("admin:health_callbackrequest_changelist")).content.decode()
    assert "&lt;script&gt;" in html
    assert_escaped(html, [MARKUP[0]])


def test_markup_in_an_accepted_removal_reason_is_shown_as_text() -> None:
    world = admin_world()
    client = specialist_client()
    response = post_action(client, act_url(world["store"], "remove_r6"), {"reason": MARKUP[0]})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(reason=MARKUP[0]).exists()
    html = client.get(change_url(world["store"])).content.decode()
    assert "&lt;script&gt;" in html
    assert_escaped(html, [MARKUP[0]])


# --- replayed and double-submitted forms -----------------------------------------------------


def test_a_double_submitted_callback_makes_one_request() -> None:
    world = seller_world()
    cancel_callback(callback=world["callback"], by=world["user"])
    client = seller_client(world)
    url = reverse("health:request_callback", args=[world["store"].pk])
    client.post(url, {"topic": "help"})
    client.post(url, {"topic": "help"})
    assert (
        CallbackRequest.objects.filter(seller=world["store"].seller, status="queued").count() == 1
    )


def test_a_replayed_acknowledgement_is_recorded_once() -> None:
    world = seller_world()
    client = seller_client(world)
    url = reverse("health:acknowledge_case", args=[world["store"].pk, world["case"].pk])
    client.post(url)
    after_first = state_of(world)
    client.post(url)
    assert state_of(world) == after_first


def test_a_replayed_plan_of_action_changes_nothing_twice() -> None:
    world = seller_world()
    client = seller_client(world)
    url = reverse("health:plan_of_action", args=[world["store"].pk, world["case"].pk])
    client.post(url, PLAN)
    after_first = state_of(world)
    client.post(url, PLAN)
    assert state_of(world)["audit"] == after_first["audit"]
    assert state_of(world)["outbox"] == after_first["outbox"]


def test_a_replayed_emergency_contact_changes_nothing_twice() -> None:
    world = seller_world()
    client = seller_client(world)
    url = reverse("health:emergency_contact", args=[world["store"].pk])
    client.post(url, {"region": "PL", "phone": "+48 600 000 000"})
    after_first = state_of(world)
    client.post(url, {"region": "PL", "phone": "+48 600 000 000"})
    after_second = state_of(world)
    # Saving the same number again only touches its "updated at" time.
    for state in (after_first, after_second):
        state["contact"].pop("updated_at")
    assert after_second == after_first
    assert EmergencyContact.objects.filter(seller=world["store"].seller).count() == 1


@pytest.mark.parametrize("action", ["remove_r6", "remove_r7"])
def test_a_replayed_removal_bars_once(action: str) -> None:
    world = admin_world()
    client = specialist_client()
    post_action(client, act_url(world["store"], action), {"reason": "Court order"})
    after_first = state_of(world)
    response = post_action(
        client, act_url(world["store"], action), {"reason": "Court order"}, follow=True
    )
    assert state_of(world) == after_first
    assert response.status_code == 200


def test_a_replayed_close_unresolved_closes_once() -> None:
    world = admin_world(engaged=True)
    client = specialist_client()
    post_action(client, act_url(world["case"], "close_unresolved"), {"reason": "No plan"})
    after_first = state_of(world)
    post_action(client, act_url(world["case"], "close_unresolved"), {"reason": "No plan"})
    assert state_of(world) == after_first
