"""A TOTP code is accepted at most once and every failure is counted, also when sessions submit
at the same instant (PostgreSQL, one connection per thread)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django_otp.oath import TOTP

from accounts import two_factor
from tests.builders import PASSWORD, make_staff_user
from tests.client import Client
from tests.security.test_two_factor import ADMIN, wrong_code
from tests.security.two_factor import confirmed_device

pytestmark = pytest.mark.django_db(transaction=True)

VERIFY = reverse("accounts:verify_two_factor")


def signed_in_with_password(user, count: int) -> list[Client]:
    clients = []
    for _ in range(count):
        client = Client()
        response = client.post(
            reverse("admin:login") + "?next=/admin/",
            {"username": user.username, "password": PASSWORD},
        )
        assert response.status_code == 302
        clients.append(client)
    return clients


def at_once(clients: list[Client], submit: Callable[[Client], int]) -> list[int]:
    """Each client's submission from its own thread (and connection), all released together."""
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def run(client: Client) -> None:
        try:
            start.wait()
            statuses.append(submit(client))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.fixture(autouse=True)
def slow_code_checks(monkeypatch):
    """Each code check takes 50 ms, as on a loaded server: submissions that arrive together
    overlap for certain, instead of only when the threads happen to interleave."""
    check = TOTP.verify

    def slow(self, *args, **kwargs):
        time.sleep(0.05)
        return check(self, *args, **kwargs)

    monkeypatch.setattr(TOTP, "verify", slow)


def specialist():
    user = make_staff_user()
    user.groups.add(Group.objects.get(name="specialists"))
    return user


def test_ten_sessions_submitting_one_code_at_once_are_verified_once(postgres) -> None:
    user = specialist()
    device = confirmed_device(user)
    clients = signed_in_with_password(user, 10)
    code = two_factor.current_code(device)

    statuses = at_once(clients, lambda client: client.post(VERIFY, {"code": code}).status_code)

    assert sorted(statuses) == [200] * 9 + [302]
    assert sum(client.get(ADMIN).status_code == 200 for client in clients) == 1


def test_twenty_wrong_codes_at_once_are_twenty_failures(postgres) -> None:
    user = specialist()
    device = confirmed_device(user)
    clients = signed_in_with_password(user, 20)
    code = wrong_code(device.key)

    statuses = at_once(clients, lambda client: client.post(VERIFY, {"code": code}).status_code)

    assert statuses == [200] * 20
    device.refresh_from_db()
    assert device.throttling_failure_count == 20
