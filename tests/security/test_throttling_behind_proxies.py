"""The real client address behind trusted proxies, and throttling that neither a guesser on many
usernames nor many guessers on one username get through, while the owner still signs in."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessFailureLog
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from aha_site.client_address import client_address
from tests.builders import PASSWORD, make_seller_user
from tests.client import Client
from tests.security.test_login_throttling import LOGIN, is_signed_in

BALANCER, CLIENT, OTHER_CLIENT = "10.0.0.5", "203.0.113.7", "198.51.100.9"
NETWORKS = ("10.0.0.0/8",)


def sign_in(username: str, password: str = PASSWORD, *, address: str, forwarded: str = ""):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    client = Client(REMOTE_ADDR=address, headers=headers)
    return client.post(LOGIN, {"username": username, "password": password})


def is_throttled(response) -> bool:
    return response.status_code == settings.AXES_HTTP_RESPONSE_CODE and (
        b"Too many failed sign-ins" in response.content
    )


def recorded_addresses() -> set[str]:
    return set(AccessFailureLog.objects.values_list("ip_address", flat=True))


# --- which address is the client's ---


def test_without_configuration_the_connecting_address_is_the_clients() -> None:
    assert client_address(BALANCER, CLIENT, proxy_count=0, proxies=()) == BALANCER


def test_a_proxy_count_takes_the_address_that_many_hops_from_the_right() -> None:
    forged_and_real = f"1.2.3.4, {CLIENT}"
    assert client_address(BALANCER, forged_and_real, proxy_count=1, proxies=()) == CLIENT
    two_proxies = f"1.2.3.4, {CLIENT}, 10.0.0.9"
    assert client_address(BALANCER, two_proxies, proxy_count=2, proxies=()) == CLIENT


def test_fewer_hops_than_proxies_or_junk_fall_back_to_the_connecting_address() -> None:
    assert client_address(BALANCER, "", proxy_count=1, proxies=()) == BALANCER
    assert client_address(BALANCER, "not-an-address", proxy_count=1, proxies=()) == BALANCER


def test_trusted_proxies_are_walked_back_to_the_first_address_not_ours() -> None:
    import ipaddress

    ours = (ipaddress.ip_network("10.0.0.0/8"),)
    assert (
        client_address(BALANCER, f"1.2.3.4, {CLIENT}, 10.0.0.9", proxy_count=0, proxies=ours)
        == CLIENT
    )
    # Sent straight to the site, not through a proxy of ours: the header is the client's word.
    assert client_address(OTHER_CLIENT, CLIENT, proxy_count=0, proxies=ours) == OTHER_CLIENT


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=NETWORKS)
def test_a_forwarded_address_is_honoured_only_from_a_trusted_proxy() -> None:
    user = make_seller_user()
    sign_in(user.username, "wrong", address=BALANCER, forwarded=CLIENT)
    assert recorded_addresses() == {CLIENT}
    sign_in(user.username, "wrong", address=OTHER_CLIENT, forwarded="192.0.2.1")
    assert recorded_addresses() == {CLIENT, OTHER_CLIENT}


@pytest.mark.django_db
def test_a_forwarded_address_is_ignored_when_no_proxy_is_configured() -> None:
    user = make_seller_user()
    sign_in(user.username, "wrong", address=BALANCER, forwarded=CLIENT)
    assert recorded_addresses() == {BALANCER}


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_balancer_one_client_cannot_lock_out_another() -> None:
    user = make_seller_user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(user.username, "wrong", address=BALANCER, forwarded=CLIENT)
    assert is_throttled(sign_in(user.username, address=BALANCER, forwarded=CLIENT))
    assert is_signed_in(sign_in(user.username, address=BALANCER, forwarded=OTHER_CLIENT))


# --- the limit per address across usernames ---


@pytest.mark.django_db
def test_one_password_on_each_of_20_usernames_from_one_address_is_throttled() -> None:
    users = [make_seller_user() for _ in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    for user in users:
        assert sign_in(user.username, "wrong", address=CLIENT).status_code == 200
    fresh = make_seller_user()
    response = sign_in(fresh.username, address=CLIENT)  # even the right password of another
    assert is_throttled(response)
    assert b"from your network" in response.content
    assert AccessFailureLog.objects.count() == settings.LOGIN_ADDRESS_FAILURE_LIMIT  # not counted
    assert is_signed_in(sign_in(fresh.username, address=OTHER_CLIENT))


# --- the slower per-username limit, across addresses ---


def guess_from_many_addresses(username: str, times: int) -> list:
    return [
        sign_in(username, "wrong", address=f"192.0.2.{number}") for number in range(1, times + 1)
    ]


@pytest.mark.django_db
def test_a_distributed_guesser_is_slowed_down_on_one_username() -> None:
    victim = make_seller_user()
    responses = guess_from_many_addresses(victim.username, settings.LOGIN_USERNAME_SLOW_AFTER)
    assert all(response.status_code == 200 for response in responses)
    response = sign_in(victim.username, "wrong", address="192.0.2.200")
    assert is_throttled(response)
    assert b"trying wrong passwords on this account" in response.content
    assert AccessFailureLog.objects.count() == settings.LOGIN_USERNAME_SLOW_AFTER


@pytest.mark.django_db
def test_the_victim_still_signs_in_from_its_own_address_while_a_guesser_is_throttled() -> None:
    victim = make_seller_user()
    assert is_signed_in(sign_in(victim.username, address=CLIENT))  # the owner's usual address
    guess_from_many_addresses(victim.username, settings.LOGIN_USERNAME_SLOW_AFTER + 5)
    assert is_throttled(sign_in(victim.username, address="192.0.2.200"))
    assert is_signed_in(sign_in(victim.username, address=CLIENT))


@pytest.mark.django_db
def test_the_per_username_limit_delays_rather_than_locks() -> None:
    victim = make_seller_user()
    guess_from_many_addresses(victim.username, settings.LOGIN_USERNAME_SLOW_AFTER + 2)
    assert is_throttled(sign_in(victim.username, address=OTHER_CLIENT))
    # The delay after 12 failures is 4 seconds: once it has passed, a new address may try.
    AccessFailureLog.objects.update(attempt_time=timezone.now() - dt.timedelta(seconds=5))
    assert is_signed_in(sign_in(victim.username, address=OTHER_CLIENT))
