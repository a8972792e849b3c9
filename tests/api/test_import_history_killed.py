"""The launch-day backfill killed for real: `manage.py import_history` in a process of its own,
SIGKILLed during a COPY or mid-replay, then run again, gives the database of one clean run."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import CompositePrimaryKey, Model

from accounts.models import EmergencyContact, Seller, StoreAccount
from api.models import ImportRun
from health.models import (
    DailyOrders,
    DailyRating,
    EnrollmentEvent,
    HealthState,
    OutboxEmail,
    StatusChange,
    Violation,
)
from tests.api.test_import_history import history
from tests.conftest import database_url_for_subprocess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]
SELLERS = 40
# Every table the import writes, child tables first (the order they are emptied in).
WRITTEN = (
    OutboxEmail,
    StatusChange,
    EnrollmentEvent,
    DailyRating,
    HealthState,
    Violation,
    DailyOrders,
    EmergencyContact,
    StoreAccount,
    Seller,
)
# Columns that are not the import's content besides surrogate ids: the instant a row was made.
# (An email's delivery belongs to the sender, not to the import: see emails().)
NOT_CONTENT = {Seller: {"created_at"}, EmergencyContact: {"updated_at"}}
TIMEOUT = 120


def table(model: type[Model]) -> list[tuple]:
    """A table's rows by content: ids of store accounts and sellers as their external ids."""
    names = {
        StoreAccount: dict(StoreAccount.objects.values_list("id", "external_id")),
        Seller: dict(Seller.objects.values_list("id", "external_id")),
    }
    fields = [
        f
        for f in model._meta.concrete_fields
        if not isinstance(f, CompositePrimaryKey)
        and not (f.primary_key and not f.is_relation)
        and f.name not in NOT_CONTENT.get(model, set())
    ]
    rows = model.objects.values_list(*(f.attname for f in fields))
    return sorted(
        (
            tuple(
                names[f.related_model].get(value, value)
                if f.is_relation and f.related_model in names
                else value
                for f, value in zip(fields, row, strict=True)
            )
            for row in rows
        ),
        key=repr,
    )


def emails() -> list[tuple]:
    """The outbox by content: an email's key and context name its store account or seller by
    database id, which differs between two databases; here by external id."""
    names = dict(StoreAccount.objects.values_list("id", "external_id"))
    sellers = dict(Seller.objects.values_list("id", "external_id"))
    found = []
    for email in OutboxEmail.objects.all():
        kind, owner, occurrence = email.key.split(":", 2)
        owner_ids = names if int(owner) == email.store_account_id else sellers
        context = email.context | {"store_account_id": names.get(email.context["store_account_id"])}
        found.append(
            (
                kind,
                owner_ids[int(owner)],
                occurrence,
                names[email.store_account_id],
                sellers[email.seller_id],
                email.to,
                email.language,
                sorted(context.items()),
            )
        )
    return sorted(found)


def database() -> dict[str, list[tuple]]:
    found = {model._meta.db_table: table(model) for model in WRITTEN if model is not OutboxEmail}
    return found | {"emails": emails()}


def wipe() -> None:
    for model in (*WRITTEN, ImportRun):
        model.objects.all().delete()


def start_import(directory: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "DJANGO_SETTINGS_MODULE": "aha_site.settings",
    }
    # No broker: the emails' delivery is no part of what is compared.
    env.pop("REDIS_URL", None)
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_history",
            str(directory),
            "--verbosity=0",
            # A transaction per store account: the replay has many points to be killed at.
            "--replay-chunk=1",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_to_completion(directory: Path) -> None:
    process = start_import(directory)
    output, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, output


def kill(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=TIMEOUT)


def wait_for(condition, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if process.poll() is not None:
            pytest.fail("the import ended before the point it was to be killed at")
        assert time.monotonic() < deadline, "the import never reached the point"
        time.sleep(0.002)


def copying(name: str) -> bool:
    """A backend is running the COPY of `name` (and so is inside its stage's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
            [f"COPY stage_{name} %"],
        )
        return cursor.fetchone()[0] > 0


def killed_during_copy(directory: Path, name: str) -> None:
    """The file comes through a pipe that is fed half its rows and then left waiting, so the
    COPY is surely under way when the process dies."""
    path = directory / f"{name}.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.unlink()
    os.mkfifo(path)
    process = start_import(directory)
    pipe = open_for_writing(path, process)
    os.write(pipe, b"".join(lines[: len(lines) // 2]))
    wait_for(lambda: copying(name), process)
    kill(process)
    os.close(pipe)
    path.unlink()
    path.write_bytes(b"".join(lines))


def open_for_writing(path: Path, process: subprocess.Popen[str]) -> int:
    """The pipe's writing end, once the import has opened it to read."""
    opened: list[int] = []

    def reader_there() -> bool:
        try:
            opened.append(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as error:
            if error.errno != errno.ENXIO:
                raise
        return bool(opened)

    wait_for(reader_there, process)
    os.set_blocking(opened[0], True)
    return opened[0]


def killed_mid_replay(directory: Path) -> None:
    closed = HealthState.objects.filter(last_closed_day__isnull=False)
    process = start_import(directory)
    wait_for(lambda: closed.count() >= SELLERS // 2, process)
    os.killpg(process.pid, signal.SIGSTOP)
    # Frozen: what is committed now is what the kill leaves.
    assert SELLERS // 2 <= closed.count() < SELLERS
    kill(process)


def uncompressed(directory: Path) -> Path:
    """The history with every file plain CSV (a pipe carries no gzip member)."""
    import gzip

    for packed in directory.glob("*.csv.gz"):
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    return directory


@pytest.mark.parametrize("killed_at", ["store_accounts", "orders", "violations", "replay"])
def test_import_killed_by_sigkill_and_rerun_gives_the_database_of_one_clean_run(
    tmp_path, killed_at
):
    directory = uncompressed(history(tmp_path, sellers=SELLERS))
    run_to_completion(directory)
    clean = database()
    assert len(clean["health_dailyrating"]) > SELLERS * 100
    assert {change[2] for change in clean["health_statuschange"]} == {"AT_RISK", "NORMAL"}
    wipe()
    if killed_at == "replay":
        killed_mid_replay(directory)
    else:
        killed_during_copy(directory, killed_at)
        assert not table(
            {"orders": DailyOrders, "violations": Violation}.get(killed_at, StoreAccount)
        )
    assert ImportRun.objects.get().status == "running"
    run_to_completion(directory)
    assert database() == clean
    assert list(ImportRun.objects.order_by("started_at").values_list("status", flat=True)) == [
        "running",
        "done",
    ]
