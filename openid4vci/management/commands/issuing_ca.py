from django.core.management.base import BaseCommand

from openid4vci.services.x509_issuer import issuing_ca


class Command(BaseCommand):
    help = ("Print the certificate (PEM) of the CA that certifies organisations' signing keys "
            "(HAIP 1.0 x5c issuer identification): configure it in wallets and verifiers as a "
            "trust anchor for this service's credentials and status lists. The service's own "
            "root is made on first use; a configured CA is printed as configured. Only public "
            "material is printed.")

    def handle(self, *args, **options):
        self.stdout.write(issuing_ca().pem(), ending="")
