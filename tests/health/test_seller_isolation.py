"""A seller sees and changes only its own data: every seller URL with another seller's ids is 404,
and every state change needs the CSRF token."""

import pytest
from django.urls import reverse

from health.models import (
    AHACase,
    CallbackRequest,
    CaseStatus,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
)
from health.services.callbacks import request_callback
from tests.builders import PHONE, make_seller, make_seller_user, make_staff_user, make_store_account
from tests.client import Client
from tests.health.dashboard_data import open_case

pytestmark = pytest.mark.django_db

PLAN = {"root_cause": "r" * 30, "actions_taken": "a" * 30, "prevention": "p" * 30}


def seller_world() -> dict:
    """A seller with a store account, a user, an open case, a deactivation and a callback."""
    store_account = make_store_account(seller=make_seller(phone=PHONE))
    user = make_seller_user(seller=store_account.seller)
    case = open_case(store_account)
    enforcement = Enforcement.objects.create(
        store_account=store_account,
        kind=EnforcementKind.DEACTIVATION,
        trigger_day=store_account.opened_on,
        status=EnforcementStatus.DEACTIVATED,
    )
    callback = request_callback(
        seller=store_account.seller, phone=None, topic="", case=None, by=user
    )
    return {
        "store": store_account,
        "user": user,
        "case": case,
        "enforcement": enforcement,
        "callback": callback,
    }


@pytest.fixture
def mine():
    return seller_world()


@pytest.fixture
def theirs():
    return seller_world()


# Every seller URL name with the arguments it takes from a world.
URLS = {
    "health:dashboard": lambda w: [w["store"].pk],
    "health:timeline": lambda w: [w["store"].pk],
    "health:emergency_contact": lambda w: [w["store"].pk],
    "health:request_callback": lambda w: [w["store"].pk],
    "health:callback_status": lambda w: [w["store"].pk],
    "health:cancel_callback": lambda w: [w["store"].pk, w["callback"].pk],
    "health:acknowledge_case": lambda w: [w["store"].pk, w["case"].pk],
    "health:plan_of_action": lambda w: [w["store"].pk, w["case"].pk],
    "health:appeal": lambda w: [w["store"].pk, w["enforcement"].pk],
    "health:violation": lambda w: [w["store"].pk, w["case"].violation_id],
}
# The same URLs with my own store account but the other seller's object.
MIXED = {
    "health:cancel_callback": lambda m, t: [m["store"].pk, t["callback"].pk],
    "health:acknowledge_case": lambda m, t: [m["store"].pk, t["case"].pk],
    "health:plan_of_action": lambda m, t: [m["store"].pk, t["case"].pk],
    "health:appeal": lambda m, t: [m["store"].pk, t["enforcement"].pk],
}
POSTS = {
    "health:emergency_contact": {"region": "PL", "phone": "+48 600 000 000"},
    "health:request_callback": {"topic": "x"},
    "health:plan_of_action": PLAN,
    "health:appeal": PLAN,
}


def assert_untouched(world: dict) -> None:
    world["case"].refresh_from_db()
    world["enforcement"].refresh_from_db()
    world["callback"].refresh_from_db()
    assert world["case"].status == CaseStatus.OPEN and not world["case"].root_cause
    assert world["enforcement"].status == EnforcementStatus.DEACTIVATED
    assert world["callback"].status == "queued"
    assert str(world["store"].seller.emergency_contact.phone) == "+48512345678"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", list(URLS))
def test_another_sellers_ids_answer_404(client, mine, theirs, name, method):
    client.force_login(mine["user"])
    url = reverse(name, args=URLS[name](theirs))
    response = getattr(client, method)(url, POSTS.get(name, {}), headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert_untouched(theirs)


def test_another_sellers_violation_under_my_own_store_answers_404(client, mine, theirs):
    client.force_login(mine["user"])
    url = reverse("health:violation", args=[mine["store"].pk, theirs["case"].violation_id])
    assert client.get(url).status_code == 404
    own = reverse("health:violation", args=[mine["store"].pk, mine["case"].violation_id])
    assert client.get(own).status_code == 200


@pytest.mark.parametrize("name", list(MIXED))
def test_own_store_with_another_sellers_object_answers_404(client, mine, theirs, name):
    client.force_login(mine["user"])
    url = reverse(name, args=MIXED[name](mine, theirs))
    assert client.post(url, POSTS.get(name, {})).status_code == 404
    assert_untouched(theirs)


@pytest.mark.parametrize("name", list(URLS))
def test_staff_do_not_use_seller_pages(client, mine, name):
    client.force_login(make_staff_user(superuser=True))
    assert client.get(reverse(name, args=URLS[name](mine))).status_code == 404


def test_own_ids_work(client, mine):
    client.force_login(mine["user"])
    for name in ["health:dashboard", "health:timeline", "health:emergency_contact"]:
        assert client.get(reverse(name, args=URLS[name](mine))).status_code == 200


STATE_CHANGES = [
    "health:emergency_contact",
    "health:request_callback",
    "health:cancel_callback",
    "health:acknowledge_case",
    "health:plan_of_action",
    "health:appeal",
]


@pytest.mark.parametrize("name", STATE_CHANGES)
def test_every_state_change_needs_the_csrf_token(mine, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(mine["user"])
    url = reverse(name, args=URLS[name](mine))
    response = client.post(url, POSTS.get(name, {}))
    assert response.status_code == 403
    assert_untouched(mine)


def test_language_switch_needs_the_csrf_token(mine):
    client = Client(enforce_csrf_checks=True)
    client.force_login(mine["user"])
    response = client.post(reverse("health:set_language"), {"language": "pl"})
    assert response.status_code == 403
    mine["user"].refresh_from_db()
    assert mine["user"].language == "en"


def test_with_the_token_the_form_post_goes_through(mine):
    client = Client(enforce_csrf_checks=True)
    client.force_login(mine["user"])
    url = reverse("health:acknowledge_case", args=URLS["health:acknowledge_case"](mine))
    client.get(reverse("health:dashboard", args=[mine["store"].pk]))
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    assert AHACase.objects.get(pk=mine["case"].pk).status == CaseStatus.ENGAGED
    assert CallbackRequest.objects.count() == 1
