"""/metrics: who may scrape it, what it serves, that each gauge follows its cause, and that one
scrape costs the same few queries however many rows there are."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from aha_site.observability.metrics import count_api_rows
from health.models import AHACase, CallbackRequest, CaseTrigger, EmailKind
from health.services.callbacks import request_callback
from health.services.outbox import queue_email
from health.services.pipeline import close_day_in_process
from tests.builders import PHONE, make_seller, make_seller_user, make_store_account

TOKEN = "scrape-secret-for-tests"
# The marketplaces with their latest runs, the outbox, the callback queue and the cases.
SCRAPE_QUERIES = 4

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of one authorised scrape, by name and labels."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_refuse_a_scraper_without_the_token(client) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics")["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert b"aha_" not in wrong.content


def test_metrics_do_not_exist_when_neither_a_token_nor_addresses_are_set(client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_an_allowed_address_scrapes_without_the_token(client, settings) -> None:
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 401


def test_the_scrape_serves_the_domain_gauges_and_request_metrics(client) -> None:
    client.get("/healthz")
    samples = scrape(client)
    names = {name for name, _labels in samples}
    for expected in (
        "aha_outbox_emails",
        "aha_outbox_oldest_pending_age_seconds",
        "aha_callback_requests",
        "aha_callback_oldest_wait_seconds",
        "aha_cases_waiting",
        "aha_day_close_running_seconds",
        "aha_http_requests_total",
        "aha_http_request_duration_seconds_bucket",
    ):
        assert expected in names, expected
    assert value(samples, "aha_http_requests_total", view="healthz", method="GET", status="200")


def test_a_closed_night_moves_the_last_closed_day_and_its_age(client) -> None:
    make_store_account(opened_on=dt.date(2025, 1, 1))
    before = scrape(client)
    assert value(before, "aha_day_close_last_closed_day", marketplace="PL") is None

    yesterday = timezone.now().date() - dt.timedelta(days=1)
    run = close_day_in_process(marketplace_code="PL", day=yesterday)

    after = scrape(client)
    started = dt.datetime.combine(yesterday, dt.time(), tzinfo=run.marketplace.zone)
    assert value(after, "aha_day_close_last_closed_day", marketplace="PL") == started.timestamp()
    age = value(after, "aha_day_close_last_closed_age_seconds", marketplace="PL")
    assert 0 <= age < 60
    assert value(after, "aha_day_close_last_duration_seconds", marketplace="PL") >= 0
    assert value(after, "aha_day_close_last_count", marketplace="PL", count="closed") == 1


def test_a_queued_email_moves_the_outbox_gauges(client) -> None:
    seller = make_seller()
    before = scrape(client)
    pending = value(before, "aha_outbox_emails", status="pending")

    email = queue_email(kind=EmailKind.ENROLLED, key="enrolled:test", seller=seller, context={})
    email.created_at = timezone.now() - dt.timedelta(minutes=10)
    email.save(update_fields=["created_at"])

    after = scrape(client)
    assert value(after, "aha_outbox_emails", status="pending") == pending + 1
    assert value(after, "aha_outbox_oldest_pending_age_seconds") >= 600


def test_a_queued_callback_moves_the_queue_length_and_wait(client) -> None:
    seller = make_seller(phone=PHONE)
    user = make_seller_user(seller=seller)
    make_store_account(seller=seller)
    before = scrape(client)
    assert value(before, "aha_callback_requests", status="queued") == 0
    assert value(before, "aha_callback_oldest_wait_seconds") == 0

    callback = request_callback(seller=seller, phone=None, topic="", by=user)
    CallbackRequest.objects.filter(pk=callback.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=16)
    )

    after = scrape(client)
    assert value(after, "aha_callback_requests", status="queued") == 1
    assert value(after, "aha_callback_oldest_wait_seconds") >= 16 * 60


def test_a_case_near_its_deadline_moves_the_case_gauges(client) -> None:
    account = make_store_account()
    now = timezone.now()
    before = scrape(client)
    assert value(before, "aha_cases_waiting", due="under_4h") == 0

    for hours, day in ((3, 1), (20, 2), (-1, 3), (50, 4)):
        AHACase.objects.create(
            store_account=account,
            trigger=CaseTrigger.LOW_AHR,
            trigger_day=dt.date(2026, 1, day),
            deadline_at=now + dt.timedelta(hours=hours),
        )

    after = scrape(client)
    assert value(after, "aha_cases_waiting", due="under_4h") == 1
    assert value(after, "aha_cases_waiting", due="under_24h") == 1
    assert value(after, "aha_cases_waiting", due="missed") == 1
    assert value(after, "aha_cases_waiting", due="later") == 1


def test_the_api_hook_counts_ingested_rows(client) -> None:
    before = value(scrape(client), "aha_api_rows_ingested_total", kind="orders") or 0
    count_api_rows("orders", 25)
    count_api_rows("orders", 0)
    assert value(scrape(client), "aha_api_rows_ingested_total", kind="orders") == before + 25


def test_a_task_run_is_timed_and_a_failing_one_counted() -> None:
    from celery import shared_task

    @shared_task(name="tests.observability.boom")
    def boom() -> None:
        raise RuntimeError("boom")

    @shared_task(name="tests.observability.fine")
    def fine() -> int:
        return 1

    labels = {"task": "tests.observability.fine", "outcome": "success"}
    runs = REGISTRY.get_sample_value("aha_celery_task_duration_seconds_count", labels) or 0
    failures = (
        REGISTRY.get_sample_value(
            "aha_celery_task_failures_total", {"task": "tests.observability.boom"}
        )
        or 0
    )
    fine.apply()
    boom.apply(throw=False)
    assert REGISTRY.get_sample_value("aha_celery_task_duration_seconds_count", labels) == runs + 1
    assert REGISTRY.get_sample_value(
        "aha_celery_task_failures_total", {"task": "tests.observability.boom"}
    ) == (failures + 1)


def scrape_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        scrape(client)
    return len(queries)


def test_one_scrape_costs_a_fixed_number_of_queries_whatever_the_rows(client) -> None:
    account = make_store_account()
    close_day_in_process(marketplace_code="PL", day=timezone.now().date() - dt.timedelta(days=2))
    few = scrape_queries(client)

    seller = make_seller(phone=PHONE)
    for n in range(30):
        queue_email(kind=EmailKind.ENROLLED, key=f"enrolled:{n}", seller=seller, context={})
        AHACase.objects.create(
            store_account=account,
            trigger=CaseTrigger.LOW_AHR,
            trigger_day=dt.date(2025, 6, 1) + dt.timedelta(days=n),
            deadline_at=timezone.now() + dt.timedelta(hours=n),
        )
    for _ in range(5):
        other = make_seller(phone=PHONE)
        make_store_account(seller=other)
        request_callback(seller=other, phone=None, topic="", by=make_seller_user(seller=other))
    close_day_in_process(marketplace_code="PL", day=timezone.now().date() - dt.timedelta(days=1))
    many = scrape_queries(client)

    assert few == many == SCRAPE_QUERIES


def test_the_dashboard_is_counted_under_its_view_name(client) -> None:
    seller = make_seller()
    account = make_store_account(seller=seller)
    client.force_login(make_seller_user(seller=seller))
    client.get(reverse("health:dashboard", args=[account.pk]))
    client.get("/no-such-page-here/")
    samples = scrape(client)
    assert value(
        samples, "aha_http_requests_total", view="health:dashboard", method="GET", status="200"
    )
    assert value(samples, "aha_http_requests_total", view="<unmatched>", method="GET", status="404")
