from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from passports.services.verification import verify_passport_uncached
from replication.archive import ArchiveError, archive_key, restore_archive


class Command(BaseCommand):
    help = ("Restore an archive written by backup_archive into the database DATABASE_URL names, "
            "which must be empty (a fresh instance), with the archived instance's "
            "KEY_ENCRYPTION_KEY configured and BACKUP_ARCHIVE_KEY in the environment; then "
            "migrate and verify every passport (docs/backup.md).")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive to restore")

    def handle(self, *args, **options):
        try:
            restored = restore_archive(Path(options["file"]), archive_key(),
                                       verify=verify_passport_uncached)
        except (ArchiveError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored the archive of {restored.manifest['public_base_url']} made at "
            f"{restored.manifest['created_at']}: {restored.keys} keys open, "
            f"{restored.verified} of {restored.passports} passports verify")
        if restored.not_verified:
            for line in restored.not_verified[:20]:
                self.stderr.write(f"not verified: {line}")
            raise CommandError(f"{len(restored.not_verified)} passports do not verify")
        self.stdout.write(self.style.SUCCESS("restore complete"))
