"""Log lines: JSON in production, readable in development, with the request, user and task ids,
and no email address, phone number or token in any of them."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.urls import reverse

from aha_site.observability.logs import (
    REQUEST_ID,
    JsonLinesFormatter,
    ReadableFormatter,
    logging_config,
    redact,
)
from health.models import CallbackRequest
from tests.builders import PHONE, make_seller, make_seller_user, make_store_account
from tests.conftest import leaks_in

logger = logging.getLogger("tests.observability")


def json_line(record: logging.LogRecord) -> dict:
    return json.loads(JsonLinesFormatter().format(record))


def test_redaction_removes_emails_phones_and_tokens_and_keeps_the_rest() -> None:
    text = (
        "to seller7@example.com, call +48 512 345 678 or +48512345678, Bearer abc.def,"
        " token=s3cr3t-value sessionid=k3j4h5g6f7d8s9a0q1w2e3r4t5y6u7i8, task"
        " 2acca639-a43e-48d5-9bf4-28efb01a21e9 of store 1234 took 0.25 s"
    )
    clean = redact(text)
    assert leaks_in(clean) == []
    assert "2acca639-a43e-48d5-9bf4-28efb01a21e9" in clean
    assert "store 1234 took 0.25 s" in clean
    assert "example.com" not in clean and "512" not in clean


def test_a_record_is_redacted_in_its_message_arguments_extra_fields_and_traceback(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="tests.observability"):
        try:
            raise ValueError("bad address seller9@example.com")
        except ValueError:
            logger.exception(
                "mail to %s failed", "seller9@example.com", extra={"phone": "+48 512 345 678"}
            )
    [record] = caplog.records
    assert record.getMessage() == "mail to [redacted] failed"
    line = JsonLinesFormatter().format(record)
    readable = ReadableFormatter().format(record)
    assert leaks_in(line) == leaks_in(readable) == []
    assert "ValueError: bad address [redacted]" in line


def test_the_leak_check_of_the_suite_would_catch_each_kind() -> None:
    assert leaks_in('{"message": "to seller@example.com"}') == ["email address"]
    assert leaks_in('{"message": "call +48 512 345 678"}') == ["phone number"]
    assert leaks_in('{"message": "Authorization: Bearer abcdef"}') == ["bearer token"]
    assert leaks_in('{"message": "password=hunter22"}') == ["secret field"]
    assert leaks_in('{"message": "Bearer [redacted], token=[redacted]"}') == []


def test_development_reads_lines_and_production_writes_json() -> None:
    assert logging_config(json_lines=False, level="INFO")["handlers"]["console"]["formatter"] == (
        "readable"
    )
    assert logging_config(json_lines=True, level="INFO")["handlers"]["console"]["formatter"] == (
        "json"
    )


@pytest.mark.django_db
def test_a_request_logs_its_id_and_its_user_and_returns_the_id(client, caplog) -> None:
    seller = make_seller()
    client.force_login(make_seller_user(seller=seller))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = client.get("/stores/999999/", headers={"X-Request-ID": "proxy-id-42"})
    assert answer.status_code == 404
    assert answer["X-Request-ID"] == "proxy-id-42"
    fields = json_line(caplog.records[-1])
    assert fields["request_id"] == "proxy-id-42"
    assert fields["user_id"] == str(seller.users.get().pk)
    assert fields["level"] == "WARNING" and fields["logger"] == "django.request"


@pytest.mark.django_db
def test_a_forged_request_id_is_replaced_by_one_of_our_own(client) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": 'x" injected\nline'})
    assert answer["X-Request-ID"] != 'x" injected\nline'
    assert len(answer["X-Request-ID"]) == 32
    assert REQUEST_ID.get() == "-"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_request_id_reaches_the_task_the_request_enqueued(client, start_worker) -> None:
    worker = start_worker(
        extra_env={
            "LOG_FORMAT": "json",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        }
    )
    seller = make_seller(phone=PHONE)
    account = make_store_account(seller=seller)
    client.force_login(make_seller_user(seller=seller))
    answer = client.post(
        reverse("health:request_callback", args=[account.pk]),
        {"phone": "", "topic": "help"},
        headers={"X-Request-ID": "req-into-task-7", "HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert CallbackRequest.objects.filter(seller=seller).exists()
    deadline = time.monotonic() + 30
    task_lines: list[dict] = []
    while time.monotonic() < deadline and not any(
        "succeeded" in line["message"] for line in task_lines
    ):
        lines = [json.loads(line) for line in worker.log if line.startswith("{")]
        task_lines = [
            line
            for line in lines
            if line.get("request_id") == "req-into-task-7" and line.get("task_id") != "-"
        ]
        time.sleep(0.2)
    assert task_lines, "".join(worker.log[-20:])
    assert any("send_email_task" in line["message"] for line in task_lines), task_lines
    assert all(leaks_in(json.dumps(line)) == [] for line in lines)
