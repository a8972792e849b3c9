"""`manage.py seed_demo`: deterministic demo data, safe to run again."""

import random
import time

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.models import User
from health.demo import history, seed, states


class Command(BaseCommand):
    help = "Load deterministic, realistic demo data and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")

    def handle(self, *args: object, **options: object) -> None:
        rng = random.Random(options["seed"])
        today = timezone.now().date()
        verbosity = int(options["verbosity"])
        started = time.monotonic()
        seed.seed_sellers(today=today, rng=rng, verbosity=verbosity)
        logins = seed.seed_logins()
        done = history.seed_history(
            # Each marketplace then closes only the days its own calendar has finished.
            last_day=history.latest_finished_day(seed.DEMO_MARKETPLACES),
            seed=options["seed"],
            seller_user=User.objects.get(username="seller"),
            specialist=User.objects.get(username="specialist"),
            verbosity=verbosity,
        )
        state_logins = states.seed_states()
        self.stdout.write(
            f"History: {done['orders']} daily orders, {done['violations']} violations, "
            f"{done['days']} days closed, {done['decisions']} specialist decisions "
            f"({time.monotonic() - started:.1f}s)."
        )
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo logins:"))
        for login in logins:
            self.stdout.write(
                f"  {login.role:<11} username: {login.username:<11} password: {login.password}"
            )
        for line in states.login_lines(state_logins):
            self.stdout.write(line)
        self.stdout.write(
            "  Staff also give a one-time code in the back office (/admin/): "
            "python manage.py totp_code specialist"
        )
