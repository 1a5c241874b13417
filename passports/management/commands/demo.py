from django.core.management.base import BaseCommand

from passports.demo import (
    ensure_demo_entitlement,
    ensure_demo_passports,
    ensure_demo_products,
    ensure_demo_revocation,
)
from wallet.business.identity.demo import ensure_demo_identities, ensure_demo_mandates
from wallet.business.messaging.demo import ensure_demo_messages
from wallet.tenancy.demo import DEMO_USERS, ensure_demo_organisations, ensure_demo_users


class Command(BaseCommand):
    help = ("Create the demo organisations, users, identities, mandates, passports, a message "
            "and an invoice (idempotent, development only).")

    def handle(self, *args, **options):
        organisations = ensure_demo_organisations()
        ensure_demo_users(organisations)
        ensure_demo_identities(organisations)
        ensure_demo_mandates(organisations)
        passports = ensure_demo_passports(ensure_demo_products(organisations["acme"]))
        ensure_demo_revocation(passports)
        ensure_demo_entitlement(organisations["acme"], organisations["recycle"])
        ensure_demo_messages(organisations)
        self.stdout.write(self.style.SUCCESS(
            "Demo data ready: " + ", ".join(sorted(organisations))
        ))
        for user in DEMO_USERS:
            self.stdout.write(f"  login {user['username']} / {user['password']}")
        for passport in passports:
            passport.refresh_from_db()
            self.stdout.write(f"  {passport.state:>10}  {passport.product.digital_link}")
