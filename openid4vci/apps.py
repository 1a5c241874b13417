from django.apps import AppConfig


class OpenId4VciConfig(AppConfig):
    name = "openid4vci"
    verbose_name = "OpenID4VCI issuance (EU wallets)"

    def ready(self):
        from openid4vci import signals  # noqa: F401 - connects the receivers
        from openid4vci.services.x509_issuer import trust_anchor_certificate
        from wallet.business import verification

        # The wallet's verifier trusts the copies this issuer signs (x509 identification).
        verification.own_issuing_ca_source = trust_anchor_certificate
