"""`manage.py seed_demo`: deterministic demo data, safe to run again."""

import time

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.models import User
from health.demo import history, seed, states
from health.demo.load import load_demo_base


class Command(BaseCommand):
    help = "Load deterministic, realistic demo data and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")

    def handle(self, *args: object, **options: object) -> None:
        seed_value = int(str(options["seed"]))
        verbosity = int(str(options["verbosity"]))
        started = time.monotonic()
        # Each marketplace then closes only the days its own calendar has finished.
        last_day = history.latest_finished_day(seed.DEMO_MARKETPLACES)
        # The base data as production loads it: CSV files through the launch-day import.
        loaded = load_demo_base(
            today=timezone.now().date(),
            last_day=last_day,
            seed_value=seed_value,
            verbosity=verbosity,
        )
        # What the import cannot do: the logins, the staff's group and authenticators.
        logins = seed.seed_logins()
        done = history.seed_history(
            last_day=last_day,
            seed=seed_value,
            seller_user=User.objects.get(username="seller"),
            specialist=User.objects.get(username="specialist"),
            verbosity=verbosity,
        )
        state_logins = states.seed_states()
        self.stdout.write(
            f"History: {loaded['orders']} daily orders and {loaded['violations']} violations "
            f"loaded, {done['days']} days closed, {done['decisions']} specialist decisions "
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
