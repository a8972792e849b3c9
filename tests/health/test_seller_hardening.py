"""Seller pages: not kept by caches, bodies bounded before they are read, minimums counted in
characters that show, and concurrent "Call me now" presses each told the truth."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.client import MULTIPART_CONTENT
from django.urls import path, reverse

from accounts.models import EmergencyContact
from aha_site.request_guard import accepts_files
from health.models import CallbackRequest, CaseStatus
from tests.builders import PHONE, make_seller, make_seller_user, make_store_account
from tests.client import Client
from tests.health.dashboard_data import open_case

pytestmark = pytest.mark.django_db

PLAN = {"root_cause": "r" * 40, "actions_taken": "a" * 40, "prevention": "p" * 40}


def test_seller_pages_are_private_and_not_stored(seller_client, store_account) -> None:
    for name in ("health:dashboard", "health:timeline", "health:emergency_contact"):
        response = seller_client.get(reverse(name, args=[store_account.pk]))
        assert response.status_code == 200
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, name


class UnreadBody:
    """A request body that records whether anything read it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        self.read_bytes += 1 if size else 0
        return b"x" * (size if size and size > 0 else 0)

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=aha", "application/x-www-form-urlencoded"]
)
def test_a_200_mb_upload_is_refused_before_it_is_read(
    seller_client, store_account, content_type: str
) -> None:
    body = UnreadBody()
    response = seller_client.generic(
        "POST",
        reverse("health:emergency_contact", args=[store_account.pk]),
        content_type=content_type,
        CONTENT_LENGTH=str(200 * 1024 * 1024),
        **{"wsgi.input": body},
    )
    assert response.status_code == 413
    assert body.read_bytes == 0


def test_a_multipart_body_is_refused_by_a_form_that_takes_no_file(
    seller_client, store_account, tmp_path, settings
) -> None:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    before = list(EmergencyContact.objects.filter(seller=store_account.seller).values())
    url = reverse("health:emergency_contact", args=[store_account.pk])
    fields = {"region": "PL", "phone": "+48 512 345 679"}
    with_a_file = seller_client.post(url, {**fields, "file": io.BytesIO(b"\1" * 1000)})
    without_one = seller_client.post(url, fields, content_type=MULTIPART_CONTENT)
    assert (with_a_file.status_code, without_one.status_code) == (415, 415)
    assert "takes no file" in without_one.content.decode()
    assert list(EmergencyContact.objects.filter(seller=store_account.seller).values()) == before
    assert list(tmp_path.iterdir()) == []
    assert seller_client.post(url, fields).status_code == 302  # URL-encoded, as a browser sends


@pytest.mark.parametrize(
    "padding", ["\u200b" * 30, "\u200b \u200c \u200d \u2060 \ufeff" * 6, " \u00ad" * 20]
)
def test_a_plan_of_action_of_invisible_characters_fills_no_minimum(
    seller_client, store_account, padding: str
) -> None:
    case = open_case(store_account)
    url = reverse("health:plan_of_action", args=[store_account.pk, case.pk])
    response = seller_client.post(url, {**PLAN, "root_cause": f"ok{padding}"})
    assert response.status_code == 200
    assert "at least 20 characters" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and not case.plan_submitted_at


@pytest.mark.django_db(transaction=True)
def test_concurrent_presses_are_told_the_truth(postgres) -> None:
    store_account = make_store_account(seller=make_seller(phone=PHONE), marketplace="PL")
    user = make_seller_user(seller=store_account.seller)
    url = reverse("health:request_callback", args=[store_account.pk])
    clients = []
    for _ in range(10):
        client = Client()
        client.force_login(user)
        clients.append(client)
    start = threading.Barrier(len(clients))
    answers: list[str] = []

    def press(client: Client) -> None:
        try:
            start.wait()
            response = client.post(url, {}, headers={"HX-Request": "true"})
            answers.append(response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CallbackRequest.objects.count() == 1
    assert sum("We have your request" in answer for answer in answers) == 1
    assert sum("already have a callback request open" in answer for answer in answers) == 9


def accepting_view(request):
    return HttpResponse(str(len(request.FILES)))


urlpatterns = [path("upload/", accepts_files(accepting_view))]


@pytest.mark.urls(__name__)
def test_a_view_marked_as_taking_files_reads_a_multipart_body(client) -> None:
    response = client.post("/upload/", {"file": io.BytesIO(b"\1" * 1000)})
    assert (response.status_code, response.content) == (200, b"1")
