"""The wallet app's admin (what Django's autodiscovery imports): the pages of tenancy and of the
business wallet, each registered by importing its module, tenancy's first (the admin's order)."""

# isort: off
import wallet.tenancy.admin  # noqa: F401
import wallet.business.identity.admin  # noqa: F401
import wallet.business.messaging.admin  # noqa: F401
# isort: on
