from django.apps import AppConfig


class OpenId4VciConfig(AppConfig):
    name = "openid4vci"
    verbose_name = "OpenID4VCI issuance (EU wallets)"

    def ready(self):
        from credentials.status_registry import register_token_list_identification
        from openid4vci import signals  # noqa: F401 - connects the receivers
        from openid4vci.services.x509_issuer import (
            token_list_identification,
            trust_anchor_certificate,
        )
        from wallet.business import verification

        # The wallet's verifier trusts the copies this issuer signs (x509 identification), and
        # Token Status List tokens name their issuer as its credentials do (HAIP 1.0).
        verification.own_issuing_ca_source = trust_anchor_certificate
        register_token_list_identification(token_list_identification)
