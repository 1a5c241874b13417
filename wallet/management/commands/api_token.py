
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wallet.tenancy.api_tokens import DEFAULT_SCOPES, api_token_create
from wallet.tenancy.authority import NotAuthorised, actor_of, operator, scope_refusal
from wallet.tenancy.models import ApiToken, Organisation


class Command(BaseCommand):
    help = ("Create an API key for an organisation and print it once (it is stored only as a "
            "hash). Without --scope the key can only read. The operator makes the key; a scope "
            "that acts in a person's name (issuing and revoking passports, sending messages "
            "and invoices, managing mandates) needs --for-user, a member who holds the mandate "
            "(the key then acts with that member's mandate, named on every event).")

    def add_arguments(self, parser):
        parser.add_argument("organisation", metavar="org-slug")
        parser.add_argument("--scope", action="append", dest="scopes",
                            choices=ApiToken.Scope.values,
                            help="Repeat for several scopes (default: "
                                 f"{' '.join(DEFAULT_SCOPES)}).")
        parser.add_argument("--all-scopes", action="store_true",
                            help="Every scope the key's maker may give (without --for-user, "
                                 "none that acts in a person's name; anchor scopes only for "
                                 "trust anchors).")
        parser.add_argument("--for-user", metavar="USERNAME",
                            help="The member the key acts for (its mandates, its name).")
        parser.add_argument("--name", default="Created with manage.py api_token")

    def handle(self, *args, organisation, scopes, all_scopes, for_user, name, **options):
        try:
            owner = Organisation.objects.get(slug=organisation)
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation with the slug {organisation!r}.") from None
        if for_user:
            user = get_user_model().objects.filter(username=for_user).first()
            if user is None:
                raise CommandError(f"No user {for_user!r}.")
            actor = actor_of(user)
        else:
            actor = operator()
        if all_scopes:
            chosen = [scope for scope in ApiToken.Scope.values
                      if scope_refusal(maker=actor, organisation=owner, scope=scope) is None]
        else:
            chosen = scopes or DEFAULT_SCOPES
        try:
            token, key = api_token_create(actor=actor, organisation=owner, name=name,
                                          scopes=chosen)
        except ValidationError as invalid:
            raise CommandError("; ".join(invalid.messages)) from None
        except NotAuthorised as refused:
            raise CommandError(refused.detail) from None
        self.stderr.write(f"API key {token.prefix}… for {owner.slug}, scopes: "
                          f"{' '.join(token.scopes)}. It is shown only now:")
        self.stdout.write(key)
