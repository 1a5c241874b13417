from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Business wallets"

    def ready(self):
        from wallet.business import checks  # noqa: F401 - registers the start-up checks
