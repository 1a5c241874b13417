from django.apps import AppConfig


class OpenId4VpConfig(AppConfig):
    name = "openid4vp"
    verbose_name = "OpenID4VP verification (EU wallets)"

    def ready(self):
        from openid4vp import checks  # noqa: F401 - registers the start-up checks
