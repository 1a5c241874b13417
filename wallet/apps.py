from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = _("Business wallets")

    def ready(self):
        from wallet.business import checks  # noqa: F401 - registers the start-up checks
