"""A strict Content-Security-Policy, and pages that need nothing more: no inline script, no
inline style, no event-handler attributes, on every seller page and every back-office page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.client import Client
from tests.health.test_seller_isolation import URLS
from tests.security.test_matrix import OBJECT_PAGES, QUEUES, admin_url, object_of
from tests.security.world import client_as, full_world, make_users

pytestmark = pytest.mark.django_db

SELLER_GET_PAGES = [
    "health:dashboard",
    "health:timeline",
    "health:emergency_contact",
    "health:callback_status",
    "health:plan_of_action",
    "health:appeal",
]


class InlineCodeFinder(HTMLParser):
    """Collects everything a strict CSP would block: inline scripts and styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower() for name, _value in attrs}
        if tag == "script" and "src" not in names:
            kind = dict(attrs).get("type") or ""
            # JSON data blocks are not executed; anything else inline is.
            if kind not in {"application/json", "application/ld+json"}:
                self.found.append(f"inline <script> ({self.getpos()})")
        if tag == "style":
            self.found.append(f"<style> block ({self.getpos()})")
        for name in names:
            if name == "style" or name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"{name}= on <{tag}> ({self.getpos()})")


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.found


def assert_strict(response) -> None:
    assert response.status_code == 200, response.status_code
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert inline_code(response.content.decode()) == []


def test_the_finder_sees_each_kind_of_inline_code() -> None:
    html = (
        '<script>alert(1)</script><script src="/a.js"></script><style>p{}</style>'
        '<p style="color:red" onclick="x()" hx-on:click="y()"></p>'
        '<script type="application/json">{}</script>'
    )
    assert len(inline_code(html)) == 5


def test_htmx_is_configured_to_need_no_inline_style_or_eval(client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


@pytest.fixture
def world():
    mine, theirs = full_world(), full_world()
    return {"mine": mine, "users": make_users(mine, theirs)}


@pytest.mark.parametrize(
    ("name", "htmx"),
    [(name, False) for name in SELLER_GET_PAGES if name != "health:callback_status"]
    # The live status panel is an htmx fragment; without htmx it sends back to the dashboard.
    + [(name, True) for name in SELLER_GET_PAGES],
)
def test_seller_pages_have_no_inline_code(world, name: str, htmx: bool) -> None:
    client = client_as("seller", world["users"])
    headers = {"HX-Request": "true"} if htmx else {}
    assert_strict(client.get(reverse(name, args=URLS[name](world["mine"])), headers=headers))


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("anonymous", "accounts:login"),
        ("seller", "accounts:home"),
        ("specialist", "accounts:enrol_two_factor"),
    ],
)
def test_site_pages_have_no_inline_code(world, role: str, name: str) -> None:
    client = client_as(role, world["users"])
    if name == "accounts:enrol_two_factor":
        client = Client()
        client.force_login(world["users"].staff_without_group)  # no device yet
    assert_strict(client.get(reverse(name)))


def test_the_code_step_has_no_inline_code(world) -> None:
    from tests.security.two_factor import confirmed_device

    client = Client()
    user = world["users"].staff_without_group
    confirmed_device(user)
    client.force_login(user)
    assert_strict(client.get(reverse("accounts:verify_two_factor")))


def test_the_lockout_page_has_no_inline_code() -> None:
    from django.conf import settings

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    response.status_code = 200  # checked above; the page itself must be strict too
    assert_strict(response)


def test_admin_sign_in_and_index_have_no_inline_code(world) -> None:
    assert_strict(Client().get(reverse("admin:login")))
    assert_strict(client_as("specialist", world["users"]).get(reverse("admin:index")))


@pytest.mark.parametrize("queue", QUEUES)
def test_back_office_queues_have_no_inline_code(world, queue: str) -> None:
    from tests.security.test_matrix import back_office_models

    model = next(m for m in back_office_models() if m._meta.model_name == queue.split("_")[1])
    assert_strict(client_as("specialist", world["users"]).get(admin_url(model, "changelist")))


@pytest.mark.parametrize("page", list(OBJECT_PAGES))
def test_back_office_object_pages_have_no_inline_code(world, page: str) -> None:
    model, kind = OBJECT_PAGES[page]
    url = admin_url(model, kind, object_of(world["mine"], model))
    assert_strict(client_as("specialist", world["users"]).get(url))
