from types import SimpleNamespace

from django.apps import AppConfig


class OpenId4VpConfig(AppConfig):
    name = "openid4vp"
    verbose_name = "OpenID4VP verification (EU wallets)"

    def ready(self):
        from django.contrib import admin

        from openid4vp import (
            checks,  # noqa: F401 - registers the start-up checks
            passport_access,
        )
        from openid4vp.services import links
        from passports.services import presentation_access

        # Passports offer access to restricted data through an EU wallet with these.
        presentation_access.wallet_access = SimpleNamespace(
            access_request_create=passport_access.access_request_create,
            access_result_read=passport_access.access_result_read, links=links)
        # The admin's login page offers "Log in with your wallet" (openid4vp/login_views.py).
        admin.site.login_template = "openid4vp/admin_login.html"
