"""The demo's base data loaded the way production loads the sellers who already sell: written as
the launch-day import's CSV files into a scratch directory and loaded by its own loading step
(api/imports.py), so that a newcomer's demo goes through the path production uses."""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path

from api.imports import FILES, load_files
from health.demo import history, seed


def load_demo_base(
    *, today: dt.date, last_day: dt.date, seed_value: int, verbosity: int = 1
) -> dict[str, int]:
    """Sellers, store accounts, contacts, daily orders and violations through the import; rows
    already there are kept, so a rerun loads only days not generated yet. Returns rows read."""
    seed.name_earlier_demo_rows()
    base = seed.base_rows(today=today, rng=random.Random(seed_value))
    orders, violations = history.generate_inputs(base.accounts, last_day=last_day, seed=seed_value)
    rows = {
        "sellers": base.sellers,
        "store_accounts": base.store_accounts,
        "contacts": base.contacts,
        "orders": orders,
        "violations": violations,
    }
    with tempfile.TemporaryDirectory(prefix="aha-demo-") as scratch:
        directory = Path(scratch)
        for name, lines in rows.items():
            write_csv(directory / f"{name}.csv", name, lines)
        return load_files(directory, verbose=verbosity > 0)


def write_csv(path: Path, name: str, rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([column for column, _type in FILES[name]])
        writer.writerows(rows)
