"""`manage.py create_api_client NAME --scopes orders:write,...`: prints the token once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import Scope
from api.services.clients import create_api_client, parse_scopes


class Command(BaseCommand):
    help = "Create an API client for an upstream system and print its bearer token (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Which upstream system this is, e.g. order-feed.")
        parser.add_argument(
            "--scopes", required=True, help=f"Comma-separated: {', '.join(Scope.values)}."
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            client, token = create_api_client(
                name=str(options["name"]), scopes=parse_scopes(str(options["scopes"]))
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"API client {client.name!r} with scopes {', '.join(client.scopes)}.")
        self.stdout.write("Its bearer token, shown this once (only a hash is kept):")
        self.stdout.write(token)
