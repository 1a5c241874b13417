from django.apps import AppConfig


class OpenId4VciConfig(AppConfig):
    name = "openid4vci"
    verbose_name = "OpenID4VCI issuance (EU wallets)"

    def ready(self):
        from credentials.status_registry import register_token_list_identification
        from openid4vci import signals  # noqa: F401 - connects the receivers
        from openid4vci.services.x509_issuer import token_list_identification

        register_token_list_identification(token_list_identification)
