"""Closing days through close_day_chunk on the real database: rules §2-§4, every row of §9."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import EmergencyContact, Marketplace, Seller, SellingPlan, StoreAccount
from accounts.services import change_selling_plan
from health.eligibility import MAX_CONSECUTIVE_DAYS_BELOW, MAX_DAYS_BELOW, Criterion
from health.models import (
    AHACase,
    DailyOrders,
    DailyRating,
    EligibilityStatus,
    EmailKind,
    Enforcement,
    EnrollmentEvent,
    EnrollmentEventKind,
    HealthState,
    OutboxEmail,
    Severity,
    Violation,
    ViolationCategory,
    ViolationScope,
)
from health.rating import AHA_LINE, WINDOW_DAYS
from health.services.day_close import close_day_chunk
from health.state import explain_eligibility
from tests.builders import PHONE, make_seller, make_store_account

pytestmark = pytest.mark.django_db

START = dt.date(2025, 1, 1)
# 2,600 orders in the window give exactly +52: an AHR of 252, just above the line, so that one
# medium violation (4 points) puts a day below 250 and a low one (2 points) does not.
ORDERS_FOR_252 = 2600
ENROLL_DAY = START + dt.timedelta(days=WINDOW_DAYS - 1)


def day(n: int) -> dt.date:
    """The n-th day of the test history (day 0 is START)."""
    return START + dt.timedelta(days=n)


def pro_account(
    *, seller: Seller | None = None, marketplace: str = "PL", contact: bool = True
) -> StoreAccount:
    seller = seller or make_seller(phone=PHONE if contact else None)
    return make_store_account(seller=seller, marketplace=marketplace, opened_on=START)


def steady_orders(account: StoreAccount, *, days: int = 3 * WINDOW_DAYS) -> None:
    """2,600 orders every 180 days: the window always holds exactly 2,600 (AHR 252)."""
    DailyOrders.objects.bulk_create(
        DailyOrders(store_account=account, day=day(n), orders=ORDERS_FOR_252)
        for n in range(0, days, WINDOW_DAYS)
    )


def local_noon(account: StoreAccount, on: dt.date) -> dt.datetime:
    zone = Marketplace.objects.get(code=account.marketplace_id).zone
    return dt.datetime.combine(on, dt.time(12), tzinfo=zone)


def add_violation(
    account: StoreAccount,
    on: dt.date,
    *,
    days: int | None = 1,
    severity: str = Severity.MEDIUM,
    category: str = ViolationCategory.LISTING,
    scope: str = ViolationScope.STORE,
    repeat: bool = False,
) -> Violation:
    """A violation detected on `on` (local) and resolved `days` later (None: left open)."""
    return Violation.objects.create(
        store_account=account,
        category=category,
        severity=severity,
        scope=scope,
        repeat=repeat,
        detected_at=local_noon(account, on),
        resolved_at=local_noon(account, on + dt.timedelta(days=days)) if days else None,
    )


def below_on(account: StoreAccount, days: list[int]) -> None:
    """Days whose AHR closes at 248, below the line."""
    for n in days:
        add_violation(account, day(n))


def close(account: StoreAccount, on: dt.date) -> dict[str, int]:
    return close_day_chunk(
        marketplace_code=account.marketplace_id, day=on, first_id=account.pk, last_id=account.pk
    )


def close_days(account: StoreAccount, first: int, last: int) -> dict[str, int]:
    """Close days first..last (inclusive) one by one; the counts of the last close."""
    counts: dict[str, int] = {}
    for n in range(first, last + 1):
        counts = close(account, day(n))
    return counts


def state_of(account: StoreAccount) -> HealthState:
    return HealthState.objects.get(store_account=account)


def ahr_on(account: StoreAccount, n: int) -> int:
    return DailyRating.objects.get(store_account=account, day=day(n)).ahr


def events(account: StoreAccount) -> list[tuple[str, str, dt.date]]:
    return list(
        EnrollmentEvent.objects.filter(store_account=account)
        .order_by("at", "id")
        .values_list("kind", "reason", "day")
    )


def enrolled_account(**kwargs: object) -> StoreAccount:
    """A store account enrolled at the close of day 179 after 180 days at 252."""
    account = pro_account(**kwargs)
    steady_orders(account)
    close_days(account, 0, WINDOW_DAYS - 1)
    assert state_of(account).enrolled
    return account


# ---------------------------------------------------------------------------------------------
# Rules §9, row by row
# ---------------------------------------------------------------------------------------------


def test_180_days_all_at_or_above_the_line_enroll_on_the_180th_close() -> None:
    account = pro_account()
    steady_orders(account)

    before = close_days(account, 0, WINDOW_DAYS - 2)
    assert before["enrolled"] == 0
    assert state_of(account).failing == Criterion.E3
    counts = close(account, ENROLL_DAY)

    assert counts == {
        "closed": 1,
        "enrolled": 1,
        "removed": 0,
        "waiting": 0,
        "emails": 1,
        "low_ahr": 0,
    }
    state = state_of(account)
    assert (state.enrolled, state.enrolled_since, state.status) == (
        True,
        ENROLL_DAY,
        EligibilityStatus.ENROLLED,
    )
    assert events(account) == [(EnrollmentEventKind.ENROLLED, "", ENROLL_DAY)]
    email = OutboxEmail.objects.get(kind=EmailKind.ENROLLED)
    assert email.key == f"enrolled:{account.pk}:{ENROLL_DAY}"
    assert email.context["marketplace_code"] == "PL"
    assert email.to == account.seller.email


def test_ten_days_below_in_the_window_still_enroll_a_new_account() -> None:
    account = pro_account()
    steady_orders(account)
    below_on(account, [5, 30, 31, 60, 90, 100, 120, 150, 160, 170][:MAX_DAYS_BELOW])

    close_days(account, 0, WINDOW_DAYS - 1)

    assert ahr_on(account, 5) < AHA_LINE <= ahr_on(account, 6)
    assert state_of(account).enrolled


def test_eleven_days_below_in_the_window_make_a_new_account_not_eligible() -> None:
    account = pro_account()
    steady_orders(account)
    below_on(account, [5, 30, 31, 60, 90, 100, 120, 150, 160, 170, 175])

    close_days(account, 0, WINDOW_DAYS - 1)

    state = state_of(account)
    assert not state.enrolled
    assert state.status == EligibilityStatus.NOT_ELIGIBLE
    assert state.failing == Criterion.E4
    # The oldest day below (day 5) leaves the window on day 185: that is when it can qualify.
    assert state.first_qualifying_day == day(5 + WINDOW_DAYS)
    assert EnrollmentEvent.objects.count() == 0


def test_179_days_on_record_are_not_enough_and_the_next_good_day_qualifies() -> None:
    account = pro_account()
    steady_orders(account)

    close_days(account, 0, WINDOW_DAYS - 2)

    state = state_of(account)
    assert (state.enrolled, state.failing, state.days_on_record) == (False, "E3", 179)
    assert state.first_qualifying_day == ENROLL_DAY
    close(account, ENROLL_DAY)
    assert state_of(account).enrolled


def test_twelve_scattered_days_below_keep_an_enrolled_account_enrolled() -> None:
    account = enrolled_account()
    below_on(account, [181, 182, 183, 190, 191, 192, 200, 201, 202, 210, 211, 212])

    close_days(account, WINDOW_DAYS, 220)

    assert state_of(account).enrolled
    assert [kind for kind, _reason, _on in events(account)] == [EnrollmentEventKind.ENROLLED]


def test_ten_consecutive_days_below_keep_an_enrolled_account_enrolled() -> None:
    account = enrolled_account()
    below_on(account, list(range(190, 190 + MAX_CONSECUTIVE_DAYS_BELOW)))

    close_days(account, WINDOW_DAYS, 199)

    assert state_of(account).enrolled


def test_eleventh_consecutive_day_below_removes_for_r1() -> None:
    account = enrolled_account()
    below_on(account, list(range(190, 201)))

    assert close_days(account, WINDOW_DAYS, 199)["removed"] == 0
    counts = close(account, day(200))

    assert counts["removed"] == 1
    state = state_of(account)
    assert (state.enrolled, state.status, state.failing) == (
        False,
        EligibilityStatus.NOT_ELIGIBLE,
        Criterion.E4,
    )
    assert events(account)[-1] == (EnrollmentEventKind.REMOVED, "R1", day(200))
    removed = OutboxEmail.objects.get(kind=EmailKind.REMOVED)
    assert removed.context["reason"] == "R1"


def test_an_account_removed_for_r1_re_enrolls_by_itself_once_eligible_again() -> None:
    account = enrolled_account()
    below_on(account, list(range(190, 201)))
    close_days(account, WINDOW_DAYS, 200)
    qualifies_on = state_of(account).first_qualifying_day
    assert qualifies_on == day(190 + WINDOW_DAYS)

    close_days(account, 201, 190 + WINDOW_DAYS - 1)
    assert not state_of(account).enrolled
    close(account, qualifies_on)

    assert state_of(account).enrolled
    assert events(account)[-1] == (EnrollmentEventKind.ENROLLED, "", qualifies_on)


# ---------------------------------------------------------------------------------------------
# Losing AHA at the close of day: plan and contact (R2, R3)
# ---------------------------------------------------------------------------------------------


def test_leaving_the_professional_plan_removes_at_the_next_close_and_returning_re_enrolls() -> None:
    account = enrolled_account()

    change_selling_plan(store_account=account, plan=SellingPlan.INDIVIDUAL)
    assert close(account, day(180))["removed"] == 1
    assert events(account)[-1] == (EnrollmentEventKind.REMOVED, "R2", day(180))
    assert state_of(account).failing == Criterion.E1
    change_selling_plan(store_account=account, plan=SellingPlan.PROFESSIONAL)
    close(account, day(181))

    assert events(account)[-1] == (EnrollmentEventKind.ENROLLED, "", day(181))


def test_losing_the_emergency_contact_removes_for_r3_and_waits_for_a_new_one() -> None:
    account = enrolled_account()
    EmergencyContact.objects.filter(seller=account.seller).delete()

    counts = close(account, day(180))

    assert (counts["removed"], counts["waiting"]) == (1, 1)
    state = state_of(account)
    assert (state.status, state.contact_reminded_on) == (
        EligibilityStatus.WAITING_FOR_CONTACT,
        day(180),
    )
    # The "AHA lost" email asks for a contact; no second email on the same day.
    assert list(OutboxEmail.objects.values_list("kind", flat=True).order_by("kind")) == [
        EmailKind.ENROLLED,
        EmailKind.REMOVED,
    ]


def test_an_eligible_account_without_a_contact_waits_and_is_reminded_at_most_every_30_days() -> (
    None
):
    account = pro_account(contact=False)
    steady_orders(account)

    counts = close_days(account, 0, WINDOW_DAYS - 1)
    assert (counts["waiting"], counts["emails"]) == (1, 1)
    close_days(account, WINDOW_DAYS, WINDOW_DAYS + 29)

    state = state_of(account)
    assert (state.enrolled, state.status) == (False, EligibilityStatus.WAITING_FOR_CONTACT)
    keys = list(
        OutboxEmail.objects.filter(kind=EmailKind.CONTACT_NEEDED)
        .order_by("created_at")
        .values_list("key", flat=True)
    )
    seller_id = account.seller_id
    assert keys == [
        f"contact_needed:{seller_id}:{ENROLL_DAY}",
        f"contact_needed:{seller_id}:{ENROLL_DAY + dt.timedelta(days=30)}",
    ]


@pytest.mark.parametrize(("phone", "enrolls"), [(PHONE, True), ("+48 000 000 000", False)])
def test_a_contact_written_in_bulk_without_a_judgement_is_judged_by_its_number(
    phone: str, *, enrolls: bool
) -> None:
    account = pro_account(contact=False)
    EmergencyContact.objects.bulk_create([EmergencyContact(seller=account.seller, phone=phone)])
    assert EmergencyContact.objects.get(seller=account.seller).is_dialable is None
    steady_orders(account)

    close_days(account, 0, WINDOW_DAYS - 1)

    assert state_of(account).enrolled is enrolls


def test_the_close_reads_the_judgement_stored_with_the_contact() -> None:
    account = pro_account()
    # Decision: the judgement made when the number was saved is what counts at night.
    EmergencyContact.objects.filter(seller=account.seller).update(is_dialable=False)
    steady_orders(account)

    close_days(account, 0, WINDOW_DAYS - 1)

    assert state_of(account).status == EligibilityStatus.WAITING_FOR_CONTACT


def test_a_seller_reminded_through_another_marketplace_is_not_reminded_again() -> None:
    seller = make_seller()
    poland = pro_account(seller=seller)
    germany = pro_account(seller=seller, marketplace="DE")
    steady_orders(poland)
    steady_orders(germany)

    close_days(poland, 0, WINDOW_DAYS - 1)
    close_days(germany, 0, WINDOW_DAYS)

    assert OutboxEmail.objects.filter(kind=EmailKind.CONTACT_NEEDED).count() == 1
    assert state_of(germany).status == EligibilityStatus.WAITING_FOR_CONTACT


# ---------------------------------------------------------------------------------------------
# The AHR of each day: recorded once, local days, account-wide violations, status
# ---------------------------------------------------------------------------------------------


def test_a_violation_resolved_later_raises_the_ahr_from_the_resolution_day_only() -> None:
    account = pro_account()
    steady_orders(account)
    violation = add_violation(account, day(2), days=None, severity=Severity.HIGH)
    close_days(account, 0, 4)

    violation.resolved_at = local_noon(account, day(5))
    violation.save()
    close_days(account, 0, 6)

    assert [ahr_on(account, n) for n in range(7)] == [252, 252, 244, 244, 244, 252, 252]
    assert DailyRating.objects.filter(store_account=account).count() == 7


def test_a_violation_stops_counting_on_its_180th_day() -> None:
    account = pro_account()
    steady_orders(account)
    add_violation(account, day(0), days=None, severity=Severity.LOW)

    close_days(account, 0, WINDOW_DAYS)

    assert ahr_on(account, WINDOW_DAYS - 1) == 250
    assert ahr_on(account, WINDOW_DAYS) == 252


def test_days_are_local_to_each_marketplace() -> None:
    seller = make_seller(phone=PHONE)
    japan = pro_account(seller=seller, marketplace="JP")
    america = pro_account(seller=seller, marketplace="US")
    for account in (japan, america):
        steady_orders(account)
    # 20:00 UTC on day 3 is already day 4 in Tokyo, still day 3 in the United States.
    instant = dt.datetime.combine(day(3), dt.time(20), tzinfo=dt.UTC)
    Violation.objects.create(
        store_account=america,
        category=ViolationCategory.OTHER,
        severity=Severity.MEDIUM,
        scope=ViolationScope.ACCOUNT_WIDE,
        detected_at=instant,
    )

    for account in (japan, america):
        close_days(account, 0, 5)

    assert [ahr_on(america, n) for n in (2, 3, 4)] == [252, 248, 248]
    assert [ahr_on(japan, n) for n in (2, 3, 4)] == [252, 252, 248]


def test_account_wide_violations_count_in_every_store_account_of_the_seller() -> None:
    seller = make_seller(phone=PHONE)
    poland, germany = pro_account(seller=seller), pro_account(seller=seller, marketplace="DE")
    other = pro_account()
    for account in (poland, germany, other):
        steady_orders(account)
    add_violation(poland, day(1), days=None, scope=ViolationScope.ACCOUNT_WIDE)
    add_violation(poland, day(1), days=None, severity=Severity.LOW)

    for account in (poland, germany, other):
        close_days(account, 0, 1)

    assert [ahr_on(a, 1) for a in (poland, germany, other)] == [246, 248, 252]


def test_repeat_violations_count_double() -> None:
    account = pro_account()
    steady_orders(account)
    add_violation(account, day(1), days=None, severity=Severity.LOW, repeat=True)

    close_days(account, 0, 1)

    assert ahr_on(account, 1) == 248


def test_the_status_follows_the_ahr_between_normal_and_at_risk_but_never_deactivated() -> None:
    account = pro_account()
    steady_orders(account)
    # Seven high violations take 56 points: 252 - 56 = 196, below 200.
    for _ in range(7):
        add_violation(account, day(1), severity=Severity.HIGH)

    close(account, day(0))
    close(account, day(1))
    account.refresh_from_db()
    assert account.status == "AT_RISK"
    close(account, day(2))
    account.refresh_from_db()
    assert account.status == "NORMAL"

    StoreAccount.objects.filter(pk=account.pk).update(status="DEACTIVATED")
    close(account, day(3))
    account.refresh_from_db()
    assert account.status == "DEACTIVATED"
    assert ahr_on(account, 3) == 252
    assert state_of(account).failing == Criterion.E3 + "," + Criterion.E5


def test_a_day_missed_by_the_close_breaks_the_days_on_record() -> None:
    account = pro_account()
    steady_orders(account)

    close_days(account, 0, 9)
    close(account, day(11))

    state = state_of(account)
    assert (state.days_on_record, state.orders_in_window, state.ahr) == (1, ORDERS_FOR_252, 252)


def test_store_accounts_not_yet_opened_are_not_closed() -> None:
    account = make_store_account(seller=make_seller(phone=PHONE), opened_on=day(10))

    assert close(account, day(9))["closed"] == 0
    assert not HealthState.objects.filter(store_account=account, ahr__isnull=False).exists()


def test_an_ahr_closing_below_100_opens_a_case_when_enrolled_and_a_warning_otherwise() -> None:
    protected = enrolled_account()
    unprotected = pro_account(contact=False)  # eligible but waiting: not enrolled
    steady_orders(unprotected)
    for account in (protected, unprotected):
        add_violation(account, day(180), days=None, severity=Severity.CRITICAL)

    close_days(unprotected, 0, WINDOW_DAYS)
    counts = close(protected, day(WINDOW_DAYS))

    assert counts["low_ahr"] == 1
    assert ahr_on(protected, WINDOW_DAYS) == 0
    assert AHACase.objects.get(store_account=protected).trigger == "low_ahr"
    warning = Enforcement.objects.get(store_account=unprotected)
    assert (warning.kind, warning.trigger_day) == ("low_ahr_warning", day(WINDOW_DAYS))


# ---------------------------------------------------------------------------------------------
# Idempotency and cost
# ---------------------------------------------------------------------------------------------


def snapshot() -> tuple[list, list, list, list]:
    return (
        list(DailyRating.objects.order_by("store_account_id", "day").values_list()),
        list(EnrollmentEvent.objects.order_by("id").values_list("kind", "reason", "day")),
        list(OutboxEmail.objects.order_by("key").values_list("key", flat=True)),
        list(HealthState.objects.order_by("pk").values_list()),
    )


def test_closing_the_same_chunk_twice_changes_and_sends_nothing_more() -> None:
    seller = make_seller()
    waiting, enrolled = pro_account(seller=seller), pro_account()
    for account in (waiting, enrolled):
        steady_orders(account)
    first, last = min(waiting.pk, enrolled.pk), max(waiting.pk, enrolled.pk)

    for n in range(WINDOW_DAYS):
        close_day_chunk(marketplace_code="PL", day=day(n), first_id=first, last_id=last)
    before = snapshot()
    again = close_day_chunk(marketplace_code="PL", day=ENROLL_DAY, first_id=first, last_id=last)

    assert again["closed"] == 0
    assert snapshot() == before
    assert len(before[2]) == 2  # one enrolled email, one contact reminder


def build_history(days: int, accounts: int = 3) -> list[StoreAccount]:
    """Store accounts with `days` closed days, resolved and open violations and rolling orders."""
    built = [pro_account() for _ in range(accounts)]
    for account in built:
        steady_orders(account, days=days + 1)
        for n in range(0, days, 25):
            add_violation(account, day(n), days=3, severity=Severity.LOW)
        add_violation(account, day(days - 2), days=None, severity=Severity.LOW)
    first, last = built[0].pk, built[-1].pk
    for n in range(days):
        close_day_chunk(marketplace_code="PL", day=day(n), first_id=first, last_id=last)
    return built


def queries_to_close_next_day(days: int) -> int:
    built = build_history(days)
    with CaptureQueriesContext(connection) as queries:
        counts = close_day_chunk(
            marketplace_code="PL", day=day(days), first_id=built[0].pk, last_id=built[-1].pk
        )
    assert counts["closed"] == len(built)
    return len(queries)


def test_the_cost_of_closing_a_day_does_not_grow_with_the_stored_history() -> None:
    short = queries_to_close_next_day(30)
    long = queries_to_close_next_day(400)

    assert short == long
    assert long <= 10


def test_explain_eligibility_of_a_brand_new_account_shows_the_first_qualifying_day() -> None:
    today = Marketplace.objects.get(code="PL").local_date()
    account = make_store_account(seller=make_seller(phone=PHONE), opened_on=today)

    eligibility = explain_eligibility(account)

    assert eligibility.failing == (Criterion.E3,)
    assert eligibility.days_on_record == 0
    assert eligibility.first_qualifying_day == account.opened_on + dt.timedelta(
        days=WINDOW_DAYS - 1
    )


def test_a_rating_already_recorded_is_kept_and_the_rest_of_the_chunk_still_closes() -> None:
    kept, other = pro_account(), pro_account()
    steady_orders(kept)
    steady_orders(other)
    close_days(kept, 0, 1)
    close_days(other, 0, 1)
    # Recorded some other way (say, an operator's repair) while the state stayed open.
    DailyRating.objects.create(store_account=kept, day=day(2), ahr=7)

    counts = close_day_chunk(marketplace_code="PL", day=day(2), first_id=kept.pk, last_id=other.pk)

    assert counts["closed"] == 2
    assert ahr_on(kept, 2) == 7
    assert ahr_on(other, 2) == 252
    assert state_of(kept).last_closed_day == state_of(other).last_closed_day == day(2)
