from django.apps import AppConfig


class OpenId4VciConfig(AppConfig):
    name = "openid4vci"
    verbose_name = "OpenID4VCI issuance (EU wallets)"

    def ready(self):
        from openid4vci import signals  # noqa: F401 - connects the receivers
