"""`manage.py seed_demo`: every state of rules §3-§4 is in the demo, and a rerun adds nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import two_factor
from accounts.models import StoreAccount, StoreStatus, User
from health.demo import history, seed
from health.models import (
    AHACase,
    CallbackRequest,
    CallbackStatus,
    CaseStatus,
    DailyOrders,
    DailyRating,
    EligibilityStatus,
    EmailStatus,
    EnrollmentEvent,
    HealthState,
    OutboxEmail,
    Violation,
)
from health.services.day_close import STATE_FIELDS

pytestmark = pytest.mark.django_db

# The showcase sellers and a few of the random crowd keep the test quick.
SELLERS_IN_TEST = 24


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "SELLER_COUNT", SELLERS_IN_TEST)
    call_command("seed_demo", stdout=io.StringIO(), verbosity=0)


def state(index: int, marketplace: str) -> HealthState:
    return HealthState.objects.select_related("store_account").get(
        store_account__seller__email=f"seller{index:03d}@demo.example",
        store_account__marketplace_id=marketplace,
    )


def reasons(index: int, marketplace: str) -> set[str]:
    return set(
        EnrollmentEvent.objects.filter(
            store_account=state(index, marketplace).store_account, kind="removed"
        ).values_list("reason", flat=True)
    )


def failing(index: int, marketplace: str) -> set[str]:
    return set(state(index, marketplace).failing.split(","))


def row_counts() -> list[int]:
    models = [
        StoreAccount,
        CallbackRequest,
        DailyOrders,
        Violation,
        DailyRating,
        HealthState,
        EnrollmentEvent,
        OutboxEmail,
        AHACase,
    ]
    return [model.objects.count() for model in models]


def assert_the_demo_seller_has_an_enrolled_store_one_in_progress_and_open_violations() -> None:
    enrolled = state(0, "US")
    assert enrolled.status == EligibilityStatus.ENROLLED
    assert DailyRating.objects.filter(store_account=enrolled.store_account).count() >= 200
    # Two scripted findings and the deactivation-level one behind the open AHA case.
    assert Violation.objects.filter(store_account=enrolled.store_account).open().count() == 3
    case = AHACase.objects.get(store_account=enrolled.store_account)
    assert case.status == CaseStatus.OPEN
    assert timezone.now() < case.deadline_at
    callback = CallbackRequest.objects.get(seller=enrolled.store_account.seller)
    assert callback.status == CallbackStatus.COMPLETED
    assert callback.created_at < timezone.now() - dt.timedelta(days=7)
    in_progress = state(0, "DE")
    assert failing(0, "DE") == {"E3"}
    assert in_progress.first_qualifying_day > in_progress.last_closed_day
    assert "E4" in failing(0, "UK")
    assert state(0, "PL").days_on_record < 10  # brand new


def assert_every_removal_reason_and_bar_is_in_the_demo() -> None:
    for index, marketplace, reason in [
        (1, "US", "R1"),
        (2, "UK", "R2"),
        (3, "DE", "R3"),
        (4, "FR", "R4"),
        (5, "CA", "R5"),
        (6, "JP", "R6"),
        (7, "IN", "R7"),
    ]:
        assert reason in reasons(index, marketplace), (index, reason)
    assert AHACase.objects.get(store_account=state(4, "FR").store_account).status == "missed"
    r5_case = AHACase.objects.get(store_account=state(5, "CA").store_account)
    assert r5_case.status == CaseStatus.UNRESOLVED
    assert state(6, "JP").barred
    assert state(7, "IN").barred
    assert state(7, "IN").store_account.status == StoreStatus.DEACTIVATED


def assert_every_eligibility_state_is_in_the_demo() -> None:
    assert state(8, "PL").status == EligibilityStatus.WAITING_FOR_CONTACT
    assert state(3, "DE").status == EligibilityStatus.WAITING_FOR_CONTACT
    assert "E1" in failing(10, "DE")
    assert "E2" in failing(8, "PL")
    assert "E3" in failing(9, "US")
    assert "E4" in failing(0, "UK")
    assert "E5" in failing(4, "FR")
    assert "E6" in failing(6, "JP")
    statuses = set(HealthState.objects.values_list("status", flat=True))
    assert {"enrolled", "waiting", "not_eligible"} <= statuses


def test_every_state_is_in_the_demo(demo: None) -> None:
    assert_the_demo_seller_has_an_enrolled_store_one_in_progress_and_open_violations()
    assert_every_removal_reason_and_bar_is_in_the_demo()
    assert_every_eligibility_state_is_in_the_demo()


def test_seeding_again_adds_nothing(demo: None) -> None:
    before = row_counts()

    call_command("seed_demo", stdout=io.StringIO(), verbosity=0)

    assert row_counts() == before


def test_the_replayed_history_is_marked_sent_so_startup_does_not_print_it(demo: None) -> None:
    last_day = HealthState.objects.latest("last_closed_day").last_closed_day
    statuses = {
        key: status
        for key, status in OutboxEmail.objects.values_list("key", "status")
        # Keys of day close emails end with the day they are about.
        if key[-10:].count("-") == 2 and dt.date.fromisoformat(key[-10:]) < last_day
    }
    assert len(statuses) > 10
    assert set(statuses.values()) == {EmailStatus.SENT}


ACCOUNT = ("store_account__seller__email", "store_account__marketplace_id")


def snapshot() -> dict[str, object]:
    """The seeded rows, by natural keys (ids differ between two seeds on PostgreSQL)."""
    return {
        "ratings": set(DailyRating.objects.values_list(*ACCOUNT, "day", "ahr")),
        "states": set(HealthState.objects.values_list(*ACCOUNT, *STATE_FIELDS, "barred")),
        "events": set(EnrollmentEvent.objects.values_list(*ACCOUNT, "kind", "reason", "day")),
        "emails": set(OutboxEmail.objects.values_list("kind", "to", *ACCOUNT, "context__day")),
        "statuses": set(StoreAccount.objects.values_list("seller__email", "marketplace", "status")),
    }


def seeded_snapshot(monkeypatch: pytest.MonkeyPatch, real_close_days: int) -> dict[str, object]:
    with transaction.atomic():
        monkeypatch.setattr(history, "REAL_CLOSE_DAYS", real_close_days)
        call_command("seed_demo", stdout=io.StringIO(), verbosity=0)
        taken = snapshot()
        transaction.set_rollback(True)
    return taken


# The last 30 days hold an R1 slump, the R2 and R3 changes, enrollments and contact reminders.
def test_replaying_the_history_gives_what_closing_each_day_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(seed, "SELLER_COUNT", SELLERS_IN_TEST)

    replayed = seeded_snapshot(monkeypatch, real_close_days=1)
    closed = seeded_snapshot(monkeypatch, real_close_days=30)

    for name, rows in closed.items():
        assert sorted(replayed[name] - rows) == sorted(rows - replayed[name]), name


def printed_logins() -> dict[str, tuple[str, str]]:
    """Seed the demo as `make run` does and read back the logins it prints, by role."""
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    logins = {}
    for line in out.getvalue().splitlines():
        if "username:" in line:
            role, _, username, _, password = line.split()
            logins[role] = (username, password)
    return logins


def sign_in_to_back_office(client: Client, username: str, password: str) -> None:
    """The password, then the authenticator's code, as a specialist signs in."""
    response = client.post(
        reverse("admin:login") + "?next=/admin/", {"username": username, "password": password}
    )
    assert response.status_code == 302, f"{username}: the password is refused"
    device = two_factor.confirmed_device(User.objects.get(username=username))
    response = client.post(
        reverse("accounts:verify_two_factor"), {"code": two_factor.current_code(device)}
    )
    assert response.status_code == 302, f"{username}: the code is refused"


def queue_rows(client: Client, url_name: str) -> int:
    response = client.get(reverse(url_name))
    assert response.status_code == 200, url_name
    return response.context["cl"].result_count


def test_every_printed_login_works_for_its_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "SELLER_COUNT", SELLERS_IN_TEST)
    logins = printed_logins()
    assert set(logins) == {"seller", "specialist", "admin"}

    seller = Client()
    username, password = logins["seller"]
    response = seller.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302, "seller: the password is refused"
    home = seller.get(reverse("accounts:home"))
    assert home.status_code == 200
    assert "/stores/" in home.content.decode()

    for role in ("specialist", "admin"):
        staff = Client()
        sign_in_to_back_office(staff, *logins[role])
        index = staff.get("/admin/")
        assert "have permission to view or edit anything" not in index.content.decode(), role
        assert queue_rows(staff, "admin:health_ahacase_changelist") > 0, role
        assert queue_rows(staff, "admin:health_callbackrequest_changelist") > 0, role


def test_each_marketplace_closes_the_days_of_its_own_calendar(demo: None) -> None:
    # At most hours of the UTC day some demo marketplace (Los Angeles, Tokyo) is on another
    # date than UTC: its last closed day is its own local yesterday, never UTC's.
    for health in HealthState.objects.select_related("store_account__marketplace"):
        marketplace = health.store_account.marketplace
        expected = marketplace.local_date() - dt.timedelta(days=1)
        assert health.last_closed_day == expected, marketplace.code


def test_the_base_data_is_loaded_through_the_launch_day_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import api.imports as imports

    loaded: list[tuple[str, int]] = []
    real = imports.load_file

    def load_file(directory, name, *, verbose):
        count = real(directory, name, verbose=verbose)
        loaded.append((name, count))
        return count

    monkeypatch.setattr(imports, "load_file", load_file)
    monkeypatch.setattr(seed, "SELLER_COUNT", SELLERS_IN_TEST)
    call_command("seed_demo", stdout=io.StringIO(), verbosity=0)

    assert [name for name, _count in loaded] == list(imports.FILES)
    assert all(count > 0 for _name, count in loaded)
    assert not StoreAccount.objects.filter(external_id=None).exists()
    # The scenarios' findings after the load are recorded through the services, as live ones.
    assert Violation.objects.exclude(external_id=None).count() == dict(loaded)["violations"]
    assert dict(loaded)["orders"] == DailyOrders.objects.count()
