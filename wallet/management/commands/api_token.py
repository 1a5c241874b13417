from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wallet.tenancy.api_tokens import DEFAULT_SCOPES, api_token_create
from wallet.tenancy.models import ApiToken, Organisation


class Command(BaseCommand):
    help = ("Create an API key for an organisation and print it once (it is stored only as a "
            "hash). Without --scope the key can only read.")

    def add_arguments(self, parser):
        parser.add_argument("organisation", metavar="org-slug")
        parser.add_argument("--scope", action="append", dest="scopes",
                            choices=ApiToken.Scope.values,
                            help="Repeat for several scopes (default: "
                                 f"{' '.join(DEFAULT_SCOPES)}).")
        parser.add_argument("--all-scopes", action="store_true", help="Every scope.")
        parser.add_argument("--name", default="Created with manage.py api_token")

    def handle(self, *args, organisation, scopes, all_scopes, name, **options):
        try:
            owner = Organisation.objects.get(slug=organisation)
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation with the slug {organisation!r}.") from None
        chosen = ApiToken.Scope.values if all_scopes else (scopes or DEFAULT_SCOPES)
        try:
            token, key = api_token_create(organisation=owner, name=name, scopes=chosen)
        except ValidationError as invalid:
            raise CommandError("; ".join(invalid.messages)) from None
        self.stderr.write(f"API key {token.prefix}… for {owner.slug}, scopes: "
                          f"{' '.join(token.scopes)}. It is shown only now:")
        self.stdout.write(key)
