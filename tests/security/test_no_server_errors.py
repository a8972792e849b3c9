"""No request answers 500: every URL pattern of the project (seller pages and the whole admin,
found by walking the resolver), requested as each role with hostile path values, query strings
and form bodies (property-based). Each answer is a page, a redirect, a 4xx or a form's message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.builders import make_staff_user
from tests.client import Client
from tests.security.two_factor import verified_login
from tests.security.world import full_world, make_specialist

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def route_of(pattern: URLPattern | URLResolver) -> str:
    """A pattern as a route with <name> placeholders, whether written as a path or a regex."""
    text = str(pattern.pattern)
    if not text.startswith("^") and "(?P<" not in text:
        return text
    # A regex: each named group becomes a placeholder; anchors and escapes go.
    route = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"<\1>", text)
    return route.lstrip("^").rstrip("$").replace("\\", "")


def every_route(patterns: list | None = None, prefix: str = "") -> Iterator[str]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from every_route(pattern.url_patterns, prefix + route_of(pattern))
        else:
            yield prefix + route_of(pattern)


ROUTES = sorted(set(every_route()))

# Values for an id or a name in a path: out of range, not a number, NUL, broken UTF-8,
# traversal, markup, huge; and real ids (filled in from the world) to reach the views' depths.
HOSTILE_SEGMENTS = [
    "0",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999",
    "1e3",
    "abc",
    "%00",
    "1%00",
    "%ff%fe",
    "%ed%a0%80",
    "..",
    "%2e%2e%2f",
    "<script>",
    "😀",
    "x" * 300,
    "_5f",
]
HOSTILE_TEXT = [
    "\x00",
    "a\x00b",
    "\ufeff",
    "9223372036854775808",
    "-1",
    "0001-01-01",
    "9999-12-31 23:59",
    "2026-02-30",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e\u200b",
    "x" * 3000,
    "",
]
# Query keys the admin and the pages read: filters, search, ordering, paging, next.
QUERY_KEYS = ["q", "o", "p", "e", "next", "_changelist_filters", "status__exact", "store_account"]
FORM_KEYS = [
    "csrfmiddlewaretoken",
    "action",
    "_selected_action",
    "select_across",
    "index",
    "apply",
    "phone",
    "region",
    "topic",
    "case",
    "code",
    "username",
    "password",
    "detected_at",
    "at",
    "time_zone",
    "root_cause",
    "actions_taken",
    "prevention",
    "reason",
    "note",
    "language",
]
ROLES = ["anonymous", "seller", "specialist", "superuser"]

texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
query_strings = st.one_of(
    st.just(""),
    st.lists(st.tuples(st.sampled_from(QUERY_KEYS) | texts, texts), max_size=4).map(
        lambda pairs: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    ),
    st.sampled_from(["%ff=%fe", "q=%00", "o=1.2.3.-4", "p=-1", "e=1", "a=%zz", "&&=&"]),
)
FORM = "application/x-www-form-urlencoded"
bodies = st.one_of(
    st.lists(st.tuples(st.sampled_from(FORM_KEYS) | texts, texts), max_size=6).map(
        lambda pairs: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    ),
    # Broken UTF-8 and broken percent-encoding, as raw bytes on the wire.
    st.sampled_from(["%ff%fe=%ed%a0%80", "phone=%c0%af", "a=%zz&b=%", "code=%00%00"]),
)

EXAMPLES = settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world() -> dict:
    return full_world()


def client_as(role: str, world: dict) -> Client:
    client = Client()
    if role == "seller":
        client.force_login(world["user"])
    elif role == "specialist":
        verified_login(client, world.setdefault("specialist", make_specialist()))
    elif role == "superuser":
        user = world.get("superuser") or make_staff_user()
        if not user.is_superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        world["superuser"] = user
        verified_login(client, user)
    return client


def real_segments(world: dict) -> list[str]:
    return [
        str(world[name].pk)
        for name in ("store", "case", "enforcement", "violation", "user")
        if name in world
    ] + ["PL"]


def fill(route: str, values: list[str]) -> str:
    """The route with its placeholders replaced by `values`, in turn."""
    supply = iter(values)
    return "/" + PARAMETER.sub(lambda _match: next(supply, "1"), route)


@pytest.mark.parametrize("route", ROUTES)
@EXAMPLES
@given(data=st.data())
@example(data=None)
def test_no_request_answers_500(world: dict, route: str, data: st.DataObject | None) -> None:
    placeholders = len(PARAMETER.findall(route))
    if data is None:  # the plain request, as each role, with the world's own ids
        for role in ROLES:
            path = fill(route, real_segments(world)[:placeholders])
            assert client_as(role, world).get(path).status_code < 500
        return
    segments = st.sampled_from(HOSTILE_SEGMENTS + real_segments(world)) | st.text(
        st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=12
    ).map(lambda text: quote(text, safe=""))
    path = fill(route, [data.draw(segments) for _ in range(placeholders)])
    query = data.draw(query_strings)
    client = client_as(data.draw(st.sampled_from(ROLES)), world)
    url = f"{path}?{query}" if query else path
    if data.draw(st.booleans()):
        response = client.post(url, data.draw(bodies), content_type=FORM)
    else:
        response = client.get(url)
    assert response.status_code < 500, f"{response.status_code} for {url}"


# --- the requests an outside test found answering 500, each pinned ---


def superuser_client(world: dict) -> Client:
    return client_as("superuser", world)


@pytest.mark.parametrize(
    "path", ["/stores/9223372036854775808/", "/stores/99999999999999999999/timeline/"]
)
def test_an_id_beyond_bigint_is_not_found(world: dict, path: str) -> None:
    assert client_as("seller", world).get(path).status_code == 404


@pytest.mark.parametrize("object_id", ["abc", "9223372036854775808", "-1", "1.5"])
def test_a_bad_id_in_an_admin_action_url_is_not_found(world: dict, object_id: str) -> None:
    path = f"/admin/accounts/storeaccount/{object_id}/act/record_violation/"
    assert superuser_client(world).get(path).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/admin/health/ahacase/?q=a%00b",
        "/admin/health/ahacase/?status__exact=%00",
        "/admin/accounts/storeaccount/1%00/change/",
        "/stores/1/?period=%00",
    ],
)
def test_a_nul_in_an_address_is_a_bad_request(world: dict, url: str) -> None:
    assert superuser_client(world).get(url).status_code == 400


def test_record_a_violation_detected_in_year_one_gets_the_forms_message(world: dict) -> None:
    store = world["store"]
    url = f"/admin/accounts/storeaccount/{store.pk}/act/record_violation/"
    response = superuser_client(world).post(
        url,
        {
            "category": "listing",
            "severity": "low",
            "scope": "store",
            "detected_at": "0001-01-01",
            "description": "typed in a hurry",
        },
    )
    assert response.status_code == 200
    assert "Enter a time from the year 2000 on." in response.content.decode()
    assert not store.violations.filter(description="typed in a hurry").exists()
