"""manage.py create_api_client SUPPLIER_ID NAME: make a platform API token and show it once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from baogong.orders.api_auth import api_client_create
from baogong.supply.models import Supplier


class Command(BaseCommand):
    help = (
        "Create an API client for a supplier and print its token. The token is shown only "
        "this once (only its hash is stored): hand it to the platform now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("supplier_id", type=int, help="id of the supplier the client acts for")
        parser.add_argument("name", help="who holds the token, e.g. the platform's name")
        parser.add_argument(
            "--quiet", action="store_true", help="print the token alone (for scripts)"
        )

    def handle(self, *args: Any, supplier_id: int, name: str, quiet: bool, **options: Any) -> None:
        supplier = Supplier.objects.filter(pk=supplier_id).first()
        if supplier is None:
            raise CommandError(f"No supplier with id {supplier_id}.")
        if not name.strip():
            raise CommandError("Give the client a name.")
        client, token = api_client_create(supplier=supplier, name=name)
        if quiet:
            self.stdout.write(token)
            return
        self.stdout.write(
            self.style.SUCCESS(f"API client {client.pk} “{client.name}” for {supplier.name}.")
        )
        self.stdout.write("Token (shown once, keep it secret):")
        self.stdout.write(token)
        self.stdout.write("Send it as: Authorization: Bearer <token>")
