from django.core.management.base import BaseCommand

from openid4vp.identity import verifier_ca_pem


class Command(BaseCommand):
    help = ("Print the root certificate (PEM) of the service's Verifier CA, which issues the "
            "default Verifier certificate: configure it in wallets as a trust anchor for this "
            "Verifier's requests. Made on first use. Only public material is printed.")

    def handle(self, *args, **options):
        self.stdout.write(verifier_ca_pem(), ending="")
