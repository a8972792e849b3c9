"""The load test: its parts on any database, and a short run against gunicorn on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from health.loadtest.data import CSRF_COOKIE, SESSION_COOKIE, create_sellers
from health.loadtest.http import HttpClient
from health.loadtest.sellers import Outcomes
from health.loadtest.stats import Recorder, percentile
from health.loadtest.verify import verify
from health.models import CallbackRequest, CaseStatus, OutboxEmail
from tests.conftest import redis_available


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert [percentile(values, p) for p in (50, 90, 99, 100)] == [50.0, 90.0, 99.0, 100.0]
    assert percentile([], 99) == 0.0


async def serve_once(
    responses: list[bytes], *, one_per_connection: bool = False
) -> tuple[asyncio.Server, int, list[bytes]]:
    """A loopback server answering each request with the next canned response."""
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while responses:
            try:
                requests.append(await reader.readuntil(b"\r\n\r\n"))
            except asyncio.IncompleteReadError:
                break
            answer = responses.pop(0)
            writer.write(answer)
            await writer.drain()
            if one_per_connection or b"Connection: close" in answer:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], requests


def test_client_reads_chunked_and_sized_bodies_and_keeps_cookies() -> None:
    async def scenario() -> None:
        server, port, requests = await serve_once(
            [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                b"Set-Cookie: csrftoken=abc; Path=/\r\n\r\n3\r\nfoo\r\n3\r\nbar\r\n0\r\n\r\n",
                b"HTTP/1.1 302 Found\r\nContent-Length: 2\r\nLocation: /x/\r\n"
                b'Set-Cookie: csrftoken=""; Max-Age=0; Path=/\r\n\r\nok',
            ]
        )
        client = HttpClient(port, cookies={"sessionid": "s"})
        first = await client.get("/a/")
        second = await client.post("/b/", {"topic": "a b"}, headers={"X-CSRFToken": "abc"})
        await client.close()
        server.close()
        assert (first.status, first.body) == (200, b"foobar")
        assert (second.status, second.body, second.header("location")) == (302, b"ok", "/x/")
        assert b"Cookie: sessionid=s; csrftoken=abc" in requests[1]
        assert client.cookies == {"sessionid": "s"}

    asyncio.run(scenario())


def test_client_resends_once_when_the_server_closed_an_idle_connection() -> None:
    async def scenario() -> None:
        # The server drops each connection after one answer, without saying so.
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"
        server, port, requests = await serve_once(
            [head + b"a", head + b"b"], one_per_connection=True
        )
        client = HttpClient(port)
        assert (await client.get("/")).body == b"a"
        await asyncio.sleep(0.05)
        assert (await client.get("/")).body == b"b"
        await client.close()
        server.close()
        assert len(requests) == 2

    asyncio.run(scenario())


def test_recorder_counts_server_errors_and_unexpected_answers() -> None:
    async def scenario() -> Recorder:
        recorder = Recorder()

        async def answer(status: int):
            from health.loadtest.http import Response

            return Response(status=status, headers={}, body=b"", wire_bytes=0)

        async def refused():
            raise ConnectionRefusedError

        assert await recorder.timed("page", answer(200), expect=(200,)) is not None
        assert await recorder.timed("page", answer(502), expect=(200,)) is None
        assert await recorder.timed("page", answer(403), expect=(200,)) is None
        assert await recorder.timed("page", refused(), expect=(200,)) is None
        return recorder

    recorder = asyncio.run(scenario())
    assert recorder.error_count == 3
    assert recorder.summary("page")["requests"] == 3


@pytest.mark.django_db
def test_ready_made_sessions_sign_in_and_pass_the_csrf_check() -> None:
    [seller] = create_sellers(1)
    client = Client(enforce_csrf_checks=True)
    client.cookies[SESSION_COOKIE] = seller.session_key
    client.cookies[CSRF_COOKIE] = seller.csrf_token
    dashboard = reverse("health:dashboard", args=[seller.store_account_id])
    assert client.get(dashboard).status_code == 200
    answer = client.post(
        reverse("health:request_callback", args=[seller.store_account_id]),
        {"phone": "", "topic": "help"},
        headers={"HX-Request": "true", **seller.csrf_headers},
    )
    assert answer.status_code == 200 and b"message-success" in answer.content
    callback = CallbackRequest.objects.get(seller_id=seller.seller_id)
    assert OutboxEmail.objects.filter(key=f"callback_received:{callback.pk}").exists()


@pytest.mark.django_db
def test_verification_finds_lost_and_unanswered_requests() -> None:
    sellers = create_sellers(2)
    first, second = sellers
    answered = CallbackRequest.objects.create(
        seller_id=first.seller_id, phone="+48512345678", topic=""
    )
    unanswered = CallbackRequest.objects.create(
        seller_id=second.seller_id, phone="+48512345678", topic=""
    )
    outcomes = Outcomes()
    outcomes.created[first.seller_id] = {answered.pk, 999_999}
    outcomes.acknowledged = {second.case_id}
    result = verify(sellers, outcomes)
    # Lost: a callback answered as created but missing, its email, and the acknowledgement.
    assert result.lost == 4
    assert any(f"callback {unanswered.pk}" in problem for problem in result.problems)
    assert all(str(first.case_id) not in p for p in result.problems if "case" in p)
    assert CaseStatus.OPEN in " ".join(result.problems)


def test_load_test_command_needs_postgresql() -> None:
    env = {**os.environ, "DATABASE_URL": "sqlite:///:memory:"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "loadtest", "--sellers", "1", "--duration", "1"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "needs PostgreSQL" in result.stderr


def test_short_load_test_against_gunicorn_loses_nothing(postgres) -> None:
    env = dict(os.environ)
    if not redis_available():
        env.pop("REDIS_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "loadtest",
            "--sellers=20",
            "--duration=5",
            "--database=aha_loadtest_short",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "errors: 0" in result.stdout
    assert "lost: 0" in result.stdout
    assert "dashboard" in result.stdout


def test_the_load_test_server_socket_is_bound_by_the_system() -> None:
    from health.loadtest.server import bound_socket

    with bound_socket() as first, bound_socket() as second:
        ports = {first.getsockname()[1], second.getsockname()[1]}
        assert len(ports) == 2 and 0 not in ports
        # Bound from the start: nothing else can take the port before gunicorn listens on it.
        with pytest.raises(OSError), bound_socket(first.getsockname()[1]) as _again:
            pass
