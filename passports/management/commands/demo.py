from django.core.management.base import BaseCommand

from wallet.demo import DEMO_USERS, ensure_demo_organisations, ensure_demo_users


class Command(BaseCommand):
    help = "Create the demo organisations, users and passports (idempotent, development only)."

    def handle(self, *args, **options):
        organisations = ensure_demo_organisations()
        ensure_demo_users(organisations)
        self.stdout.write(self.style.SUCCESS(
            "Demo data ready: " + ", ".join(sorted(organisations))
        ))
        for user in DEMO_USERS:
            self.stdout.write(f"  login {user['username']} / {user['password']}")
