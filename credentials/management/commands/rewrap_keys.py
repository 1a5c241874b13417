import os

from cryptography.exceptions import InvalidTag
from django.core.management.base import BaseCommand, CommandError

from credentials.key_store import rewrap_all_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every private key under a new key-encryption key. Reads the keys from the "
        "environment (OLD_KEY_ENCRYPTION_KEY, NEW_KEY_ENCRYPTION_KEY) so they never appear in "
        "the process list or shell history. Then set KEY_ENCRYPTION_KEY to the new value."
    )

    def handle(self, *args, **options):
        old = os.environ.get("OLD_KEY_ENCRYPTION_KEY")
        new = os.environ.get("NEW_KEY_ENCRYPTION_KEY")
        if not old or not new:
            raise CommandError("set OLD_KEY_ENCRYPTION_KEY and NEW_KEY_ENCRYPTION_KEY")
        try:
            count = rewrap_all_keys(old, new)
        except InvalidTag:
            raise CommandError("OLD_KEY_ENCRYPTION_KEY does not decrypt the stored keys; "
                               "nothing was changed") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"re-wrapped {count} keys"))
