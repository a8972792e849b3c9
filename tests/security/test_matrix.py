"""The security matrix: every URL of the project x every kind of visitor, with the answer each
must get. Seller pages: anonymous -> sign in, another seller -> 404, the seller -> 200, staff ->
404 (they work in the back office). Back office: non-staff -> sign in, staff outside the
specialists group -> 403, a specialist of another marketplace -> 404 / not listed, a specialist
-> 200. Every POST without its CSRF token -> 403."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from health.admin.base import SpecialistAdmin
from tests.health.test_seller_isolation import POSTS, URLS
from tests.security.world import ROLES, STAFF_ROLES, client_as, full_world, make_users

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:login")
ADMIN_SIGN_IN = reverse("admin:login")

# The methods each seller page answers; the others get 405 (after the ownership check).
SELLER_PAGES: dict[str, set[str]] = {
    "health:dashboard": {"GET"},
    "health:timeline": {"GET"},
    "health:emergency_contact": {"GET", "POST"},
    "health:request_callback": {"POST"},
    "health:callback_status": {"GET"},
    "health:cancel_callback": {"POST"},
    "health:acknowledge_case": {"POST"},
    "health:plan_of_action": {"GET", "POST"},
    "health:appeal": {"GET", "POST"},
    "health:violation": {"GET"},
}
# Pages without a store account in their path: the GET answer per role ("login" = sent to sign
# in), and whether they take POST.
SITE_PAGES: dict[str, tuple[dict[str, int | str], bool]] = {
    # Sellers see their stores; staff are sent on to the back office.
    "accounts:home": (
        {
            "anonymous": "login",
            "other_seller": 200,
            "seller": 200,
            **dict.fromkeys(STAFF_ROLES, 302),
        },
        False,
    ),
    # Signed-in visitors are sent on (redirect_authenticated_user).
    "accounts:login": ({"anonymous": 200, **dict.fromkeys(ROLES[1:], 302)}, True),
    # The second factor is for staff only; verified staff are sent on.
    "accounts:verify_two_factor": (
        {
            "anonymous": "login",
            "other_seller": 404,
            "seller": 404,
            **dict.fromkeys(STAFF_ROLES, 302),
        },
        True,
    ),
    "accounts:enrol_two_factor": (
        {
            "anonymous": "login",
            "other_seller": 404,
            "seller": 404,
            **dict.fromkeys(STAFF_ROLES, 302),
        },
        True,
    ),
    "accounts:logout": (dict.fromkeys(ROLES, 405), True),
    # Forgot password: the same page and answer for everyone, known or not.
    "accounts:password_reset": (dict.fromkeys(ROLES, 200), True),
    "accounts:password_reset_done": (dict.fromkeys(ROLES, 200), False),
    "accounts:password_reset_complete": (dict.fromkeys(ROLES, 200), False),
    "health:set_language": (dict.fromkeys(ROLES, 405), True),
    # Seller-wide history: a seller's own; staff have no seller (404).
    "health:seller_timeline": (
        {
            "anonymous": "login",
            "other_seller": 200,
            "seller": 200,
            **dict.fromkeys(STAFF_ROLES, 404),
        },
        False,
    ),
}


def project_url_names() -> set[str]:
    """Every namespaced URL name of the accounts and health apps, read from the resolver."""
    names: set[str] = set()

    def walk(patterns: list, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace:
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return {name for name in names if name.split(":")[0] in {"accounts", "health"}}


# Pages reached only through a one-time link: a made-up link shows "used or expired" to anyone.
LINK_PAGES = {"accounts:password_reset_confirm": {"uidb64": "MQ", "token": "made-up-token"}}


def test_the_matrix_covers_every_url_of_the_project() -> None:
    assert project_url_names() == set(SELLER_PAGES) | set(SITE_PAGES) | set(LINK_PAGES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(LINK_PAGES))
def test_a_made_up_one_time_link_is_refused_for_everyone(world, name: str, role: str) -> None:
    response = client_as(role, world["users"]).get(reverse(name, kwargs=LINK_PAGES[name]))
    assert response.status_code == 200
    assert response.context["validlink"] is False


@pytest.fixture
def world():
    mine, theirs = full_world(), full_world()
    return {"mine": mine, "theirs": theirs, "users": make_users(mine, theirs)}


def seller_page_answer(role: str, name: str, method: str) -> int | str:
    if role == "anonymous":
        return "login"
    if role in STAFF_ROLES or role == "other_seller":
        return 404
    if method not in SELLER_PAGES[name]:
        return 405
    return "handled"


def check(response, expected: int | str, *, sign_in: str = SIGN_IN) -> None:
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(sign_in)
    elif expected == "handled":  # a page, or a redirect back after the change
        assert response.status_code in {200, 302}
        if response.status_code == 302:
            assert not response["Location"].startswith(SIGN_IN)
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(SELLER_PAGES))
def test_seller_pages(world, name: str, role: str, method: str) -> None:
    client = client_as(role, world["users"])
    url = reverse(name, args=URLS[name](world["mine"]))
    send = client.get if method == "GET" else client.post
    response = send(url, POSTS.get(name, {})) if method == "POST" else send(url)
    check(response, seller_page_answer(role, name, method))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(SITE_PAGES))
def test_site_pages(world, name: str, role: str) -> None:
    answers, _takes_post = SITE_PAGES[name]
    check(client_as(role, world["users"]).get(reverse(name)), answers[role])


POST_URLS = [name for name, methods in SELLER_PAGES.items() if "POST" in methods] + [
    name for name, (_answers, takes_post) in SITE_PAGES.items() if takes_post
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", POST_URLS)
def test_every_post_without_the_csrf_token_is_refused(world, name: str, role: str) -> None:
    client = client_as(role, world["users"], enforce_csrf_checks=True)
    args = URLS[name](world["mine"]) if name in URLS else []
    assert client.post(reverse(name, args=args), POSTS.get(name, {})).status_code == 403


# --- the back office ------------------------------------------------------------------------

QUEUES = [
    "health_ahacase",
    "health_callbackrequest",
    "health_outboxemail",
    "health_daycloserun",
    "accounts_storeaccount",
]
WORLD_KEYS = {"ahacase": "case", "callbackrequest": "callback", "storeaccount": "store"}


def back_office_models() -> list:
    """The health models of the back office, and the store accounts."""
    return sorted(
        (
            model
            for model, model_admin in admin.site._registry.items()
            if isinstance(model_admin, SpecialistAdmin)
        ),
        key=lambda model: model._meta.label,
    )


def object_of(world: dict, model) -> object:
    return world[WORLD_KEYS.get(model._meta.model_name, model._meta.model_name)]


def admin_url(model, kind: str, obj=None) -> str:
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{kind}"
    if kind == "changelist":
        return reverse(name)
    if kind in ("change", "history"):
        return reverse(name, args=[obj.pk])
    if kind.startswith("act:"):
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_act", args=[obj.pk, kind[4:]])
    first_action = admin.site._registry[model].specialist_actions[0].name
    return reverse(name, args=[obj.pk, first_action])


def test_every_health_model_is_in_the_back_office_matrix() -> None:
    labels = {model._meta.label for model in back_office_models()}
    assert {"health.AHACase", "health.Violation", "accounts.StoreAccount"} <= labels
    assert all(label.startswith(("health.", "accounts.StoreAccount")) for label in labels)


def back_office_answer(role: str, kind: str) -> int | str:
    if role not in STAFF_ROLES:
        return "login"
    if role == "staff_without_group":
        return 403
    if role == "specialist_of_another_marketplace" and kind != "changelist":
        return 404
    return 200


def listed(response, obj) -> bool:
    return obj.pk in set(response.context["cl"].queryset.values_list("pk", flat=True))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("queue", QUEUES)
def test_back_office_queues(world, queue: str, role: str) -> None:
    _app_label, model_name = queue.split("_")
    model = next(m for m in back_office_models() if m._meta.model_name == model_name)
    response = client_as(role, world["users"]).get(admin_url(model, "changelist"))
    check(response, back_office_answer(role, "changelist"), sign_in=ADMIN_SIGN_IN)
    if response.status_code == 200:
        mine = object_of(world["mine"], model)
        assert listed(response, mine) == (role == "specialist")


def object_pages() -> list[tuple[str, Callable]]:
    pages = []
    for model in back_office_models():
        actions = admin.site._registry[model].specialist_actions
        # Every action of every object is its own path in (not only the first).
        kinds = ["change", "history"] + [f"act:{spec.name}" for spec in actions]
        pages += [(f"{model._meta.label}:{kind}", model, kind) for kind in kinds]
    return pages


OBJECT_PAGES = {label: (model, kind) for label, model, kind in object_pages()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(OBJECT_PAGES))
def test_back_office_object_pages(world, page: str, role: str) -> None:
    model, kind = OBJECT_PAGES[page]
    url = admin_url(model, kind, object_of(world["mine"], model))
    response = client_as(role, world["users"]).get(url)
    check(response, back_office_answer(role, kind), sign_in=ADMIN_SIGN_IN)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", [p for p in OBJECT_PAGES if ":act:" in p])
def test_back_office_actions_without_the_csrf_token_are_refused(world, page: str, role: str):
    model, kind = OBJECT_PAGES[page]
    client = client_as(role, world["users"], enforce_csrf_checks=True)
    url = admin_url(model, kind, object_of(world["mine"], model))
    assert client.post(url, {"reason": "x", "note": "x"}).status_code == 403
