from django.core.management.base import BaseCommand, CommandError

from replication.models import ReplicationSource
from replication.receiving import PushRefused, primary_silence, source_add


class Command(BaseCommand):
    help = ("On a back-up provider: `add ORIGIN --name NAME` accepts pushes from the primary at "
            "ORIGIN (its PUBLIC_BASE_URL) and prints the push credential to give it (shown "
            "once); `list` shows the primaries and when each was last heard from "
            "(docs/backup.md).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["add", "list"])
        parser.add_argument("origin", nargs="?")
        parser.add_argument("--name", default="")

    def handle(self, *args, **options):
        if options["action"] == "list":
            for source in ReplicationSource.objects.all():
                silence = primary_silence(source)
                heard = silence.last_heard.isoformat() if silence.last_heard else "never"
                self.stdout.write(f"{source.pk}  {source.origin}  {source.replicas.count()} "
                                  f"copies  last heard {heard}"
                                  f"{'  (unreachable)' if silence.silent else ''}")
            return
        if not options["origin"]:
            raise CommandError("name the primary's origin (its PUBLIC_BASE_URL)")
        try:
            source, credential = source_add(name=options["name"] or options["origin"],
                                            origin=options["origin"])
        except PushRefused as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(f"# Give this push credential to {source.origin}'s operator (shown "
                          f"once), as BACKUP_PROVIDER_CREDENTIAL for `manage.py "
                          f"backup_provider add`:")
        self.stdout.write(credential)
