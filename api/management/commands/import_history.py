"""`manage.py import_history DIR`: the launch-day backfill from CSV files (README: columns)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DataError, IntegrityError

from api.imports import REPLAY_CHUNK, import_history


class Command(BaseCommand):
    help = "Load sellers, store accounts, contacts, orders and violations from CSV, then replay."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--replay-chunk",
            type=int,
            default=REPLAY_CHUNK,
            help=f"Store accounts replayed per transaction (default {REPLAY_CHUNK}).",
        )

    def handle(self, *args: object, **options: object) -> None:
        directory = Path(str(options["directory"]))
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        if int(str(options["replay_chunk"])) < 1:
            raise CommandError("--replay-chunk must be at least 1.")
        try:
            run = import_history(
                directory,
                verbose=int(options["verbosity"]) > 0,
                replay_chunk=int(str(options["replay_chunk"])),
            )
        except (ValueError, DataError, IntegrityError) as error:
            # A value its column cannot hold (COPY names the file and line on PostgreSQL), or
            # one its table refuses (an unknown marketplace, a negative count).
            raise CommandError(str(error).strip()) from None
        self.stdout.write(self.style.SUCCESS(f"Imported in {run.seconds}s: {run.counts}"))
