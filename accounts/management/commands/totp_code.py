"""`manage.py totp_code <username>`: the code a staff user's authenticator shows now.

For the demo, and for operators helping a specialist who lost their phone to sign in once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import two_factor
from accounts.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of a user's confirmed authenticator device."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, **options: object) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        device = two_factor.confirmed_device(user)
        if device is None:
            raise CommandError(f"{user.username} has no confirmed authenticator device.")
        self.stdout.write(two_factor.current_code(device))
