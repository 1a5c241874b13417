
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from passports.services.bulk_import import ImportFailed, import_format, products_import
from wallet.tenancy.authority import NotAuthorised, actor_of, operator
from wallet.tenancy.models import Organisation


class Command(BaseCommand):
    help = ("Import products from a CSV or JSON file into an organisation, all or nothing. "
            "Prints the number imported, or every error with its row and column.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a .csv or .json file")
        parser.add_argument("--org", required=True, metavar="SLUG",
                            help="slug of the organisation that owns the products")
        parser.add_argument("--issue", action="store_true",
                            help="also request a passport for every imported product")
        parser.add_argument("--for-user", metavar="USERNAME",
                            help="import as this member (with --issue: under their "
                                 "passports:issue mandate); without it the operator acts, "
                                 "and the events say so")

    def handle(self, *args, file: Path, org: str, issue: bool, for_user: str | None,
               **options):
        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        user = get_user_model().objects.filter(username=for_user).first() if for_user else None
        if for_user and user is None:
            raise CommandError(f"No user {for_user!r}.")
        try:
            data = file.read_bytes()
        except OSError as unreadable:
            raise CommandError(f"Cannot read {file}: {unreadable.strerror}") from None
        try:
            products = products_import(organisation=organisation, data=data,
                                       format=import_format(file.name), issue=issue,
                                       actor=actor_of(user) if user else operator())
        except ImportFailed as failed:
            for error in failed.errors:
                where = f"row {error['row']}" + (f", {error['column']}" if error["column"] else "")
                self.stderr.write(f"{where}: {error['error']}")
            raise CommandError(f"Nothing imported: {len(failed.errors)} error(s).") from None
        except NotAuthorised as refused:
            raise CommandError(refused.detail) from None
        issued = " and requested their passports" if issue else ""
        self.stdout.write(self.style.SUCCESS(f"Imported {len(products)} products{issued}."))
