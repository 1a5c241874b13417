"""manage.py signing_keys: list, rotate or declare compromised an organisation's signing keys,
as the operator (docs/keys.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from core.errors import DomainError
from passports.services import keys as key_service
from wallet.tenancy.authority import operator
from wallet.tenancy.models import Organisation


class Command(BaseCommand):
    help = ("An organisation's signing keys. `list`; `rotate` (new keys sign, old ones keep "
            "verifying); `compromise --since <ISO time> --reason <text>` (keys that existed "
            "then are compromised from then on, every passport is re-signed in the background); "
            "`resume` (send the re-signing again, e.g. after the broker was down: what is done "
            "is skipped).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "rotate", "compromise", "resume"])
        parser.add_argument("organisation", help="The organisation's slug.")
        parser.add_argument("--since", help="ISO 8601 time with a time zone (compromise).")
        parser.add_argument("--reason", default="", help="Shown to verifiers (compromise).")

    def handle(self, *args, action, organisation, since, reason, **options):
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"no organisation {organisation!r}")
        try:
            if action == "rotate":
                key_service.keys_rotate(organisation=org, actor=operator())
            elif action == "compromise":
                moment = parse_datetime(since or "")
                if moment is None:
                    raise CommandError("--since: an ISO 8601 time is required, e.g. "
                                       "2026-12-01T08:00:00Z")
                outcome = key_service.keys_compromise(organisation=org, since=moment,
                                                      reason=reason, actor=operator())
                self.stdout.write(f"compromised: {', '.join(outcome.compromised)}\n"
                                  f"new keys: {', '.join(outcome.new_keys)}\n"
                                  f"passports sent for re-signing: {outcome.queued}")
            elif action == "resume":
                queued = key_service.passports_resign_enqueue(org, reason="resumed")
                self.stdout.write(f"passports sent for re-signing: {queued}")
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        for key in key_service.organisation_keys(org):
            state = ("compromised since " + key.compromised_at.isoformat() if key.compromised_at
                     else "retired" if key.retired_at else "active")
            self.stdout.write(f"{key.verification_method}  {key.key_type}  {state}")
