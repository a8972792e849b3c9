"""Every time in the back office names its zone: the marketplace's local time with its zone,
UTC beside it, or UTC alone where a row belongs to no marketplace; Django's own columns too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.admin_times import zoned_time
from accounts.models import Marketplace
from health.models import AHACase, AuditEntry, CallbackRequest
from health.services import assignment, callbacks
from tests.builders import make_seller, make_staff_user, make_store_account
from tests.health.test_admin import change_url, changelist, client_for, make_specialist, open_case

pytestmark = pytest.mark.django_db

# 2026-03-02 23:30 UTC is already 3 March in Tokyo: both dates must be written.
LATE_UTC = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)


def test_a_time_names_the_local_zone_and_utc_beside_it() -> None:
    tokyo = Marketplace.objects.get(code="JP")
    warsaw = Marketplace.objects.get(code="PL")
    assert zoned_time(LATE_UTC, tokyo) == "2026-03-03 08:30 JST (Asia/Tokyo), 2026-03-02 23:30 UTC"
    noon = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    assert zoned_time(noon, warsaw) == "2026-03-02 13:00 CET (Europe/Warsaw), 12:00 UTC"
    assert zoned_time(noon) == "2026-03-02 12:00 UTC"
    assert zoned_time(None, warsaw) == "-"


def test_the_case_queue_and_page_give_the_deadline_in_local_time_and_utc() -> None:
    case = open_case(marketplace="JP")
    AHACase.objects.filter(pk=case.pk).update(deadline_at=LATE_UTC)
    client = client_for(make_specialist())
    queue = client.get(changelist("health_ahacase")).content.decode()
    assert "2026-03-03 08:30 JST (Asia/Tokyo)" in queue and "2026-03-02 23:30 UTC" in queue
    page = client.get(change_url(case)).content.decode()
    # The deadline and Django's own read-only datetime fields (opened at) both name the zone.
    assert "2026-03-03 08:30 JST (Asia/Tokyo)" in page
    opened = timezone.localtime(case.opened_at, Marketplace.objects.get(code="JP").zone)
    assert f"{opened:%Y-%m-%d %H:%M} JST (Asia/Tokyo)" in page


def test_audit_rows_and_the_activity_panel_name_the_zone() -> None:
    case = open_case(marketplace="PL")
    specialist = make_specialist()
    assignment.assign_case(case=case, to=specialist, by=specialist)
    AuditEntry.objects.filter(store_account=case.store_account).update(at=LATE_UTC)
    client = client_for(specialist)
    audit = client.get(changelist("health_auditentry")).content.decode()
    assert "2026-03-03 00:30 CET (Europe/Warsaw)" in audit and "2026-03-02 23:30 UTC" in audit
    page = client.get(change_url(case.store_account)).content.decode()
    assert "2026-03-03 00:30 CET (Europe/Warsaw)" in page


def test_callbacks_read_in_the_sellers_store_time() -> None:
    seller = make_seller(phone="+48512345678")
    make_store_account(seller=seller, marketplace="PL")
    callback = callbacks.request_callback(seller=seller, phone=None, topic="", by=None)
    CallbackRequest.objects.filter(pk=callback.pk).update(created_at=LATE_UTC)
    queue = client_for(make_specialist()).get(changelist("health_callbackrequest"))
    assert "2026-03-03 00:30 CET (Europe/Warsaw)" in queue.content.decode()


def test_rows_of_no_marketplace_and_djangos_own_columns_say_utc() -> None:
    admin_user = make_staff_user(superuser=True)
    seller = make_seller(name="Zone Test Seller")
    type(seller).objects.filter(pk=seller.pk).update(created_at=LATE_UTC)
    client = client_for(admin_user)
    sellers = client.get(changelist("accounts_seller")).content.decode()
    assert "2026-03-02 23:30 UTC" in sellers
    # Django's own User admin: an editable time says it is entered in UTC.
    assert "In UTC." in client.get(change_url(admin_user)).content.decode()
    # A seller's page, read-only for a specialist: the time in UTC, named.
    page = client_for(make_specialist()).get(change_url(seller)).content.decode()
    assert "2026-03-02 23:30 UTC" in page
