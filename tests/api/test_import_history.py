"""The launch-day backfill: CSV in, history replayed, restartable with nothing doubled."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import api.imports as imports
from accounts.models import EmergencyContact, Marketplace, Seller, StoreAccount
from api.models import ImportRun
from health.models import (
    DailyOrders,
    DailyRating,
    EmailKind,
    EnrollmentEvent,
    HealthState,
    OutboxEmail,
    Violation,
)

pytestmark = pytest.mark.django_db
SELLERS = 6


def write(path: Path, header: list[str], rows: list[list[object]], *, gz: bool = False) -> None:
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def history(directory: Path, *, sellers: int = SELLERS) -> Path:
    """Six sellers (or more) in PL and US: all with 200 days of good orders but the fifth (too
    few days), the sixth without a contact; some violations, one repeat."""
    # Each store account's days are its own marketplace's: for an hour or more around midnight
    # UTC, PL and US are on different dates.
    today = {code: Marketplace.objects.get(code=code).local_date() for code in ("PL", "US")}
    market = {n: "PL" if n % 2 else "US" for n in range(sellers)}
    write(
        directory / "sellers.csv",
        ["external_id", "name", "email", "language"],
        [
            [f"s{n}", f"Seller {n}", f"s{n}@example.com", "pl" if n % 2 else "en"]
            for n in range(sellers)
        ],
    )
    accounts = []
    for n in range(sellers):
        days = 100 if n == 4 else 200
        accounts.append(
            [
                f"a{n}",
                f"s{n}",
                market[n],
                "PRO",
                (today[market[n]] - dt.timedelta(days=days)).isoformat(),
            ]
        )
    write(
        directory / "store_accounts.csv",
        ["external_id", "seller", "marketplace", "plan", "opened_on"],
        accounts,
    )
    write(
        directory / "contacts.csv",
        ["seller", "phone"],
        [[f"s{n}", "+48512345678" if n % 2 else "+14155550123"] for n in range(sellers) if n != 5],
    )
    orders = [
        [f"a{n}", (today[market[n]] - dt.timedelta(days=d)).isoformat(), 200]
        for n in range(sellers)
        for d in range(1, 101 if n == 4 else 201)
    ]
    write(directory / "orders.csv.gz", ["store_account", "day", "orders"], orders, gz=True)
    detected = dt.datetime.now(dt.UTC) - dt.timedelta(days=50)
    violations = [
        [
            "v1",
            "a0",
            "",
            "listing",
            "low",
            "false",
            (detected - dt.timedelta(days=20)).isoformat(),
            "",
            "Bad title",
            "B0001",
            "https://example.com/p",
        ],
        [
            "v2",
            "a0",
            "",
            "listing",
            "low",
            "false",
            detected.isoformat(),
            (detected + dt.timedelta(days=3)).isoformat(),
            "",
            "",
            "",
        ],
        ["v3", "", "s1", "reviews", "medium", "false", detected.isoformat(), "", "", "", ""],
    ]
    # Beyond the six, each store account has a critical violation for two days: its AHR falls
    # to 0 (AT_RISK) and comes back (NORMAL).
    violations += [
        [
            f"c{n}",
            f"a{n}",
            "",
            "food_safety",
            "critical",
            "true",
            (detected + dt.timedelta(days=n % 20)).isoformat(),
            (detected + dt.timedelta(days=n % 20 + 2)).isoformat(),
            "",
            "",
            "",
        ]
        for n in range(SELLERS, sellers)
    ]
    write(
        directory / "violations.csv",
        [
            "external_id",
            "store_account",
            "seller",
            "category",
            "severity",
            "deactivation_level",
            "detected_at",
            "resolved_at",
            "description",
            "reference",
            "policy_link",
        ],
        violations,
    )
    return directory


def snapshot() -> dict[str, list]:
    """The imported data without ids or timestamps: two runs compare equal row for row."""
    ext = {a.pk: a.external_id for a in StoreAccount.objects.all()}
    return {
        "sellers": sorted(Seller.objects.values_list("external_id", "name", "email", "language")),
        "accounts": sorted(
            StoreAccount.objects.values_list("external_id", "plan", "status", "opened_on")
        ),
        "contacts": sorted(EmergencyContact.objects.values_list("seller__external_id", "phone")),
        "orders": sorted(
            (ext[a], d, o)
            for a, d, o in DailyOrders.objects.values_list("store_account_id", "day", "orders")
        ),
        "violations": sorted(Violation.objects.values_list("external_id", "repeat", "scope")),
        "ratings": sorted(
            (ext[a], d, r)
            for a, d, r in DailyRating.objects.values_list("store_account_id", "day", "ahr")
        ),
        "states": sorted(
            (ext[s[0]], *s[1:])
            for s in HealthState.objects.values_list(
                "store_account_id",
                "last_closed_day",
                "ahr",
                "orders_in_window",
                "days_on_record",
                "status",
                "enrolled",
                "enrolled_since",
            )
        ),
        "events": sorted(
            (ext[e[0]], *e[1:])
            for e in EnrollmentEvent.objects.values_list(
                "store_account_id", "kind", "reason", "day"
            )
        ),
        "emails": sorted(
            OutboxEmail.objects.values_list("store_account__external_id", "kind", "status")
        ),
    }


def wipe() -> None:
    for model in (
        OutboxEmail,
        EnrollmentEvent,
        DailyRating,
        HealthState,
        Violation,
        DailyOrders,
        EmergencyContact,
        StoreAccount,
        Seller,
    ):
        model.objects.all().delete()


def test_import_loads_replays_and_enrolls_with_one_email_each(tmp_path):
    call_command("import_history", str(history(tmp_path)), verbosity=0)
    assert StoreAccount.objects.count() == SELLERS
    assert DailyOrders.objects.count() == 5 * 200 + 100
    assert DailyRating.objects.filter(store_account__external_id="a0").count() == 200
    enrolled = set(
        HealthState.objects.filter(enrolled=True).values_list(
            "store_account__external_id", flat=True
        )
    )
    # a4 has 100 days on record, a5 no contact (waiting).
    assert enrolled == {"a0", "a1", "a2", "a3"}
    assert HealthState.objects.get(store_account__external_id="a5").status == "waiting"
    emails = OutboxEmail.objects.values_list("kind", "store_account__external_id")
    assert sorted(emails) == sorted((EmailKind.ENROLLED, a) for a in enrolled)
    assert Violation.objects.get(external_id="v2").repeat is True
    assert Violation.objects.get(external_id="v3").scope == "account"
    run = ImportRun.objects.get()
    assert run.status == "done" and run.counts["orders"] == 1100 and run.seconds is not None


@pytest.mark.parametrize("killed_at", ["contacts", "orders", "violations", "replay"])
def test_killed_mid_way_and_rerun_gives_the_database_of_one_clean_run(
    tmp_path, killed_at, monkeypatch
):
    directory = history(tmp_path)
    imports.import_history(directory, verbose=False)
    clean = snapshot()
    wipe()

    class Killed(Exception):
        pass

    def kill(stage: str) -> None:
        if stage == killed_at:
            raise Killed

    if killed_at == "replay":
        # Killed after the first chunk of the replay committed.
        monkeypatch.setattr(imports, "REPLAY_CHUNK", 1)
        real = imports._confirm_enrollments
        calls = []

        def confirm_then_die(chunk):
            real(chunk)
            calls.append(1)
            if len(calls) == 2:
                raise Killed

        monkeypatch.setattr(imports, "_confirm_enrollments", confirm_then_die)
    with pytest.raises(Killed):
        imports.import_history(directory, verbose=False, after_stage=kill)
    monkeypatch.undo()
    imports.import_history(directory, verbose=False)
    assert snapshot() == clean
    assert ImportRun.objects.filter(status="failed").count() == 1


def test_a_value_its_column_cannot_hold_is_refused_with_its_line_and_loads_nothing_of_it(
    tmp_path,
):
    directory = history(tmp_path)
    (directory / "orders.csv.gz").unlink()
    write(
        directory / "orders.csv",
        ["store_account", "day", "orders"],
        [["a0", "2026-01-01", 5], ["a0", "2026-02-30", 5]],
    )
    with pytest.raises(CommandError, match=r"orders\.csv, line 3: "):
        call_command("import_history", str(directory), verbosity=0)
    assert StoreAccount.objects.count() == SELLERS  # the files before it are in
    assert not DailyOrders.objects.exists()
    assert ImportRun.objects.get().status == "failed"
