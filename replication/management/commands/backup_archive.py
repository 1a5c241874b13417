from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from replication.archive import ArchiveError, archive_key, write_archive


class Command(BaseCommand):
    help = ("Write an encrypted archive of the whole service (its database, the key store "
            "among it) to FILE: one consistent snapshot, sealed with BACKUP_ARCHIVE_KEY from "
            "the environment. KEY_ENCRYPTION_KEY is not in it: keep it apart (docs/backup.md).")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive to write (must not exist)")

    def handle(self, *args, **options):
        try:
            manifest = write_archive(Path(options["file"]), archive_key())
        except (ArchiveError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"archived the {manifest['engine']} database of {manifest['public_base_url']} "
            f"to {options['file']}"))
