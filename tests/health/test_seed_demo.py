"""`manage.py seed_demo`: every state of rules §3-§4 is in the demo, and a rerun adds nothing."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import two_factor
from accounts.models import StoreAccount, StoreStatus, User
from health.demo import history, seed, states
from health.models import (
    AHACase,
    CallbackRequest,
    CallbackStatus,
    CaseStatus,
    CaseTrigger,
    DailyOrders,
    DailyRating,
    EligibilityStatus,
    EmailKind,
    EmailStatus,
    Enforcement,
    EnrollmentEvent,
    HealthState,
    OutboxEmail,
    Violation,
)
from health.services.day_close import STATE_FIELDS
from tests.client import Client

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
        User,
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


def state_of_login(username: str) -> HealthState:
    return HealthState.objects.select_related("store_account").get(
        store_account__seller__users__username=username
    )


def assert_the_ahr_states_came_from_the_real_close() -> None:
    warning = state_of_login("seller-warning")
    assert warning.ahr < 100 and not warning.enrolled
    assert Enforcement.objects.get(store_account=warning.store_account).status == "warning"
    assert OutboxEmail.objects.filter(
        store_account=warning.store_account, kind=EmailKind.LOW_AHR_WARNING
    ).exists()
    at_risk = state_of_login("seller-at-risk")
    assert at_risk.enrolled and 100 <= at_risk.ahr < 200
    assert at_risk.store_account.status == StoreStatus.AT_RISK
    unhealthy = state_of_login("seller-unhealthy")
    assert unhealthy.enrolled and unhealthy.ahr < 100
    case = AHACase.objects.get(store_account=unhealthy.store_account)
    assert (case.trigger, case.status) == (CaseTrigger.LOW_AHR, CaseStatus.OPEN)
    assert unhealthy.store_account.status != StoreStatus.DEACTIVATED
    assert OutboxEmail.objects.filter(
        store_account=unhealthy.store_account, kind=EmailKind.CASE_OPENED
    ).exists()


def test_every_state_is_in_the_demo(demo: None) -> None:
    assert_the_demo_seller_has_an_enrolled_store_one_in_progress_and_open_violations()
    assert_every_removal_reason_and_bar_is_in_the_demo()
    assert_every_eligibility_state_is_in_the_demo()
    assert_the_ahr_states_came_from_the_real_close()


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


PRINTED_LOGIN = re.compile(r"^\s+(\S+)\s+username: (\S+)\s+password: (\S+)")


def printed_logins() -> dict[str, tuple[str, str]]:
    """Seed the demo as `make run` does and read back the logins it prints: username: role,
    password."""
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    logins = {}
    for line in out.getvalue().splitlines():
        if match := PRINTED_LOGIN.match(line):
            role, username, password = match.groups()
            logins[username] = (role, password)
    return logins


# What each seller login's dashboard shows: the banner's item, or the state in words.
SELLER_STATES = {
    "seller": ['data-urgent="case"', "Enrolled in AHA since"],
    "seller-warning": ['data-urgent="warning"', "Unhealthy"],
    "seller-deactivated": ['data-urgent="appeal_to_make"', "Store account status: Deactivated"],
    "seller-at-risk": ["Store account status: At risk", "Enrolled in AHA since"],
    # A Polish seller: the page is in Polish.
    "seller-unhealthy": ['data-urgent="case"', "Zły"],
    "seller-waiting": ['data-urgent="contact_missing"'],
    "seller-removed": ["AHR below 250 for more than 10 consecutive days"],
    "seller-barred": ["Barred from AHA"],
    "seller-individual": ["Not met: Professional selling plan"],
}


def dashboards(client: Client) -> list[str]:
    """Every store dashboard the signed-in seller's home page links to: its HTML, then its
    text without the tags."""
    home = client.get(reverse("accounts:home"))
    assert home.status_code == 200
    store_ids = sorted(set(re.findall(r'href="/stores/(\d+)/"', home.content.decode())))
    assert store_ids, "no store on the home page"
    pages = [client.get(reverse("health:dashboard", args=[pk])) for pk in store_ids]
    assert all(page.status_code == 200 for page in pages)
    html = [page.content.decode() for page in pages]
    return [" ".join(f"{page} {re.sub(r'<[^>]+>', ' ', page)}".split()) for page in html]


def assert_the_seller_login_shows_its_state(username: str, password: str) -> None:
    seller = Client()
    response = seller.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302, f"{username}: the password is refused"
    shown = [
        page for page in dashboards(seller) if all(text in page for text in SELLER_STATES[username])
    ]
    assert shown, f"{username}: no dashboard shows {SELLER_STATES[username]}"


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
    assert set(logins) == {*SELLER_STATES, "specialist", "admin"}

    for username in SELLER_STATES:
        role, password = logins[username]
        assert role == "seller", username
        assert_the_seller_login_shows_its_state(username, password)

    for username in ("specialist", "admin"):
        role, password = logins[username]
        assert role == username
        staff = Client()
        sign_in_to_back_office(staff, username, password)
        index = staff.get("/admin/")
        assert "have permission to view or edit anything" not in index.content.decode(), username
        assert queue_rows(staff, "admin:health_ahacase_changelist") > 0, username
        assert queue_rows(staff, "admin:health_callbackrequest_changelist") > 0, username


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
    # The state sellers (health/demo/states.py) are made afterwards through the services, as a
    # seller signing up live would be; everything else came through the import.
    imported = StoreAccount.objects.exclude(seller__email__endswith=states.STATE_EMAIL_DOMAIN)
    assert not imported.filter(external_id=None).exists()
    # The scenarios' findings after the load are recorded through the services, as live ones.
    assert Violation.objects.exclude(external_id=None).count() == dict(loaded)["violations"]
    assert dict(loaded)["orders"] == DailyOrders.objects.filter(store_account__in=imported).count()
