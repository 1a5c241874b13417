from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PassportsConfig(AppConfig):
    name = "passports"
    verbose_name = _("Product passports")
