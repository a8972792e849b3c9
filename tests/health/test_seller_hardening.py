"""Seller pages: not kept by caches, bodies bounded before they are read, minimums counted in
characters that show, and concurrent "Call me now" presses each told the truth."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from health.models import CallbackRequest, CaseStatus
from tests.builders import PHONE, make_seller, make_seller_user, make_store_account
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


def test_a_file_sent_to_a_form_is_not_kept(seller_client, store_account, tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"\0" * (2 * 1024 * 1024 - 1000))
    with upload.open("rb") as file:
        response = seller_client.post(
            reverse("health:emergency_contact", args=[store_account.pk]),
            {"region": "PL", "phone": "+48 512 345 678", "file": file},
        )
    assert response.status_code == 413  # over the 1 MB a form may send
    small = tmp_path / "small.bin"
    small.write_bytes(b"\1" * 1000)
    with small.open("rb") as file:
        response = seller_client.post(
            reverse("health:emergency_contact", args=[store_account.pk]),
            {"region": "PL", "phone": "+48 512 345 678", "file": file},
        )
    assert response.status_code == 302  # the form's fields are read, the file is skipped
    assert {path.name for path in tmp_path.iterdir()} == {"upload.bin", "small.bin"}


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
