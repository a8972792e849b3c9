"""`manage.py close_days`: close the due days of one or every marketplace here, without a broker."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Marketplace
from health.models import RunStatus
from health.progress import Progress
from health.services.pipeline import close_day_in_process, days_to_close


class Command(BaseCommand):
    help = (
        "Close every local day that has ended and is not closed yet, oldest first, in this "
        "process. --day starts from an earlier day (e.g. to build history); --until stops early."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--marketplace", help="Marketplace code, e.g. PL (default: all).")
        parser.add_argument("--day", type=dt.date.fromisoformat, help="First day, YYYY-MM-DD.")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="Last day, YYYY-MM-DD.")

    def handle(self, *args: object, **options: object) -> None:
        self.verbosity = int(options["verbosity"])
        marketplaces = Marketplace.objects.all()
        if options["marketplace"]:
            marketplaces = marketplaces.filter(code=str(options["marketplace"]).upper())
            if not marketplaces:
                raise CommandError(f"No marketplace {options['marketplace']!r}.")
        now = timezone.now()
        for marketplace in marketplaces:
            days = self.days_for(marketplace, now, options["day"], options["until"])
            for day in days:
                if not self.close(marketplace, day):
                    break

    def days_for(
        self,
        marketplace: Marketplace,
        now: dt.datetime,
        first: dt.date | None,
        until: dt.date | None,
    ) -> list[dt.date]:
        yesterday = marketplace.local_date(now) - dt.timedelta(days=1)
        if until and until > yesterday:
            raise CommandError(f"{until} has not ended yet in {marketplace.code}.")
        last = until or yesterday
        due = days_to_close(marketplace, now)
        start = first or (due[0] if due else last + dt.timedelta(days=1))
        return [start + dt.timedelta(days=n) for n in range((last - start).days + 1)]

    def close(self, marketplace: Marketplace, day: dt.date) -> bool:
        label = f"{marketplace.code} {day}"
        progress: Progress | None = None

        def on_chunk(done: int, total: int) -> None:
            nonlocal progress
            if self.verbosity and progress is None:
                progress = Progress(label, total, stream=self.stdout)
            if progress:
                progress.advance()

        started = time.monotonic()
        run = close_day_in_process(marketplace_code=marketplace.code, day=day, on_chunk=on_chunk)
        if run is None:
            self.stderr.write(
                f"{label}: cannot close yet: an earlier day is not closed, or a later one is."
            )
            return False
        if run.status != RunStatus.DONE:
            self.stderr.write(f"{label}: still running elsewhere ({run.chunks_done} chunks done).")
            return False
        if self.verbosity:
            counts = ", ".join(f"{key} {value}" for key, value in run.counts.items()) or "nothing"
            elapsed = time.monotonic() - started
            self.stdout.write(f"{label}: closed in {elapsed:.1f}s ({counts})")
        return True
