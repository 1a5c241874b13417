from django.core.management.base import BaseCommand

from passports.demo import ensure_demo_passports, ensure_demo_products
from wallet.demo import DEMO_USERS, ensure_demo_organisations, ensure_demo_users


class Command(BaseCommand):
    help = "Create the demo organisations, users and passports (idempotent, development only)."

    def handle(self, *args, **options):
        organisations = ensure_demo_organisations()
        ensure_demo_users(organisations)
        passports = ensure_demo_passports(ensure_demo_products(organisations["acme"]))
        self.stdout.write(self.style.SUCCESS(
            "Demo data ready: " + ", ".join(sorted(organisations))
        ))
        for user in DEMO_USERS:
            self.stdout.write(f"  login {user['username']} / {user['password']}")
        for passport in passports:
            self.stdout.write(f"  {passport.state:>10}  {passport.product.digital_link}")
