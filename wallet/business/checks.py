"""Start-up checks of the wallet's configuration (`manage.py check`, runserver, migrate)."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def foreign_issuer_anchors(app_configs=None, **kwargs) -> list[Error]:
    """OPENID4VP_TRUSTED_ISSUER_CERTIFICATES must load, or every x5c-signed credential would
    be refused: say so at start, not on the first presentation."""
    from wallet.business.verification import foreign_issuers

    try:
        foreign_issuers(own_issuing_ca=False)  # the configuration alone: no database here
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="wallet.E001",
                      hint="Set it to PEM certificates or the path of a readable PEM bundle.")]
    return []
