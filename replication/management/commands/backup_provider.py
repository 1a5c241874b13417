import os

from django.core.management.base import BaseCommand, CommandError

from replication.models import BackupProvider
from replication.pushing import ReplicationError, provider_add, provider_push, provider_remove


class Command(BaseCommand):
    help = ("On a primary: `add URL --name NAME` makes the instance at URL (its "
            "PUBLIC_BASE_URL, https) a back-up provider, with the push credential it printed "
            "in BACKUP_PROVIDER_CREDENTIAL (from the environment: never on the command line); "
            "`remove URL`; `list`; `push` pushes what each provider lacks now, in this process "
            "(docs/backup.md).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["add", "remove", "list", "push"])
        parser.add_argument("url", nargs="?")
        parser.add_argument("--name", default="")

    def handle(self, *args, **options):
        action, url = options["action"], options["url"]
        if action == "list":
            for provider in BackupProvider.objects.all():
                state = (f"failing ({provider.failures}): {provider.last_error}"
                         if provider.failures else f"ok {provider.last_error}".strip())
                self.stdout.write(f"{provider.url}  {provider.name}  "
                                  f"{provider.acknowledgements.count()} documents held  "
                                  f"last success {provider.last_success_at}  {state}")
            return
        if action == "push":
            for provider in BackupProvider.objects.filter(active=True):
                sent = provider_push(provider.pk)
                provider.refresh_from_db()
                self.stdout.write(f"{provider.url}: {sent or 0} documents acknowledged"
                                  f"{'; ' + provider.last_error if provider.last_error else ''}")
            return
        if not url:
            raise CommandError("name the provider's URL")
        if action == "remove":
            if not provider_remove(url=url):
                raise CommandError(f"no back-up provider {url}")
            self.stdout.write(f"removed {url}")
            return
        try:
            provider = provider_add(name=options["name"] or url, url=url,
                                    credential=os.environ.get("BACKUP_PROVIDER_CREDENTIAL", ""))
        except ReplicationError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(f"{provider.url} is a back-up provider; pushing starts now")
