from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = _("Business wallets")

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from wallet.business import checks  # noqa: F401 - registers the start-up checks
        from wallet.tenancy.login_sessions import ended_by_logout

        user_logged_out.connect(ended_by_logout, dispatch_uid="mandate_login_ended_by_logout")
