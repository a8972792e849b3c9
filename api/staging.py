"""CSV files into session scratch tables (`stage_<name>`), the first step of the launch-day
import: COPY on PostgreSQL, the file's bytes sent as they are and parsed by the server; batched
inserts on SQLite, each value checked and stored as Django stores its type there."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO, cast

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper

from health.progress import Progress

# A file's columns and the SQL type of each in its scratch table.
Columns = tuple[tuple[str, str], ...]
PROGRESS_STEP = 10000
COPY_BLOCK = 1 << 20


def stage_file(path: Path, name: str, columns: Columns, *, verbose: bool) -> int:
    """Load the file into the scratch table `stage_<name>`; returns its rows."""
    if connection.vendor == "postgresql":
        # Progress in bytes of the file as stored: no pass over it just to count its lines.
        sized = verbose and path.is_file()  # a named pipe has no size to count against
        progress = Progress(f"Loading {name} (bytes)", path.stat().st_size) if sized else None
        with open_bytes(path) as (stream, stored):
            return _stage_by_copy(name, columns, stream, progress, stored)
    progress = Progress(f"Loading {name}", _count_lines(path)) if verbose else None
    with open_text(path) as stream:
        return _stage_rows(name, columns, stream, progress)


def find_csv(directory: Path, name: str) -> Path | None:
    """`name.csv`, or else `name.csv.gz`, in the directory; None if neither is there."""
    for path in (directory / f"{name}.csv", directory / f"{name}.csv.gz"):
        if path.exists():
            return path
    return None


def open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


@contextmanager
def open_bytes(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """The file's bytes, uncompressed as they are read if it is gzipped, and the file as stored
    (whose position tells the progress)."""
    with path.open("rb") as raw:
        if path.suffix != ".gz":
            yield raw, raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
            yield cast(BinaryIO, unpacked), raw


def csv_rows(stream: TextIO, name: str, columns: Columns) -> Iterator[list[str | None]]:
    names = [column for column, _type in columns]
    reader = csv.DictReader(stream)
    missing = [c for c in names if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{name}.csv lacks the column(s) {', '.join(missing)}")
    for row in reader:
        yield [row[c] if row[c] != "" else None for c in names]


def _stage_table(
    cursor: CursorWrapper, name: str, columns: Columns, extra: Iterable[str] = ()
) -> None:
    """A session scratch table of the file's columns (and `extra` text columns, unused)."""
    definition = [*(f"{c} {t}" for c, t in columns), *(f"{c} text" for c in extra)]
    cursor.execute(f"DROP TABLE IF EXISTS stage_{name}")
    cursor.execute(f"CREATE TEMPORARY TABLE stage_{name} ({', '.join(definition)})")


def _stage_rows(name: str, columns: Columns, stream: TextIO, progress: Progress | None) -> int:
    """SQLite: load one file into its scratch table by batched inserts; returns its rows."""
    with connection.cursor() as cursor:
        _stage_table(cursor, name, columns)
        rows = _CountedRows(csv_rows(stream, name, columns), progress)
        _insert_batches(cursor, name, columns, rows)
    if progress:
        progress.advance(rows.loaded % PROGRESS_STEP)
    return rows.loaded


PROGRESS_STEP = 10000
COPY_BLOCK = 1 << 20


def _stage_by_copy(
    name: str, columns: Columns, stream: BinaryIO, progress: Progress | None, stored: BinaryIO
) -> int:
    """PostgreSQL: the file's bytes as they are into its scratch table by COPY (CSV), which
    parses them in the server; returns its rows. Only the header is read here: its columns are
    matched to the table's by name, others go to unused columns."""
    header = next(csv.reader([stream.readline().decode("utf-8-sig")]), [])
    known = [column for column, _type in columns]
    if missing := [c for c in known if c not in header]:
        raise ValueError(f"{name}.csv lacks the column(s) {', '.join(missing)}")
    if len(set(header)) < len(header):
        raise ValueError(f"{name}.csv names a column twice")
    # Names from the file are never formatted into SQL: unknown ones get names of ours.
    in_file = [c if c in known else f"unused_{n}" for n, c in enumerate(header)]
    with connection.cursor() as cursor:
        _stage_table(cursor, name, columns, extra=[c for c in in_file if c not in known])
        listed = ", ".join(in_file)
        try:
            with cursor.copy(
                f"COPY stage_{name} ({listed}) FROM STDIN (FORMAT csv, FORCE_NULL ({listed}))"
            ) as copy:
                while block := stream.read1(COPY_BLOCK):
                    copy.write(block)
                    if progress:
                        progress.advance(stored.tell() - progress.done)
            return cursor.rowcount
        except psycopg.DataError as error:
            # COPY counts the rows after the header from 1.
            found = re.search(r"line (\d+)", error.diag.context or "")
            line = f", line {int(found.group(1)) + 1}" if found else ""
            raise ValueError(f"{name}.csv{line}: {error.diag.message_primary}") from None


class _CountedRows:
    """The rows of a file, counted as they pass, the progress bar moved every PROGRESS_STEP."""

    def __init__(self, rows: Iterator[list[str | None]], progress: Progress | None) -> None:
        self.rows, self.progress, self.loaded = rows, progress, 0

    def __iter__(self) -> Iterator[list[str | None]]:
        for row in self.rows:
            yield row
            self.loaded += 1
            if self.progress and self.loaded % PROGRESS_STEP == 0:
                self.progress.advance(PROGRESS_STEP)


def _insert_batches(
    cursor: CursorWrapper, name: str, columns: Columns, rows: Iterable[list[str | None]]
) -> None:
    """SQLite: the rows in batches of one prepared INSERT, each value checked and stored as
    Django stores its type there (COPY checks them on PostgreSQL)."""
    convert = [_SQLITE_VALUES[sql_type] for _column, sql_type in columns]
    insert = (
        f"INSERT INTO stage_{name} ({', '.join(c for c, _t in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    batch: list[list[object]] = []
    for line, row in enumerate(rows, start=2):
        try:
            batch.append([None if v is None else f(v) for f, v in zip(convert, row, strict=True)])
        except ValueError as error:
            raise ValueError(f"{name}.csv, line {line}: {error}") from None
        if len(batch) == PROGRESS_STEP:
            cursor.executemany(insert, batch)
            batch = []
    if batch:
        cursor.executemany(insert, batch)


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "t", "1", "yes", "y", "on"):
        return True
    if value in ("false", "f", "0", "no", "n", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _timestamp(text: str) -> str:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a time without its offset: {text!r}")
    return connection.ops.adapt_datetimefield_value(moment)


_SQLITE_VALUES: dict[str, Callable[[str], object]] = {
    "text": str,
    "integer": int,
    "date": lambda text: dt.date.fromisoformat(text).isoformat(),
    "boolean": _boolean,
    "timestamptz": _timestamp,
}


def _count_lines(path: Path) -> int:
    with open_text(path) as stream:
        return max(sum(1 for _line in stream) - 1, 0)
