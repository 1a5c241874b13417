"""`python manage.py make_secrets`: fresh values for every secret, as lines for `.env`.

Runs before (and without) the settings, so it imports nothing of config/ (whose import reads
them): it makes the values they refuse to start without."""

import secrets

from core.encryption_key import new_encryption_key_text


def fresh_secrets() -> dict[str, str]:
    # URL-safe alphabets only: the values go into .env files and URLs (DATABASE_URL) unquoted.
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "KEY_ENCRYPTION_KEY": new_encryption_key_text(),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        # Seals `manage.py backup_archive` archives (docs/backup.md); keep a copy off the host.
        "BACKUP_ARCHIVE_KEY": new_encryption_key_text(),
    }


def main() -> None:
    print("# Fresh secrets: put them in .env (KEY_ENCRYPTION_KEY: keep it safe, it opens "
          "every private key; change it only with `manage.py rewrap_keys`).")
    for name, value in fresh_secrets().items():
        print(f"{name}={value}")
