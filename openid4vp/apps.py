from django.apps import AppConfig


class OpenId4VpConfig(AppConfig):
    name = "openid4vp"
    verbose_name = "OpenID4VP verification (EU wallets)"
