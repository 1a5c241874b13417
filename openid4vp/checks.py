"""Start-up checks of the Verifier's configuration (`manage.py check`, runserver, migrate)."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from credentials.x509 import CertificateError, is_self_signed


@register()
def verifier_certificate(app_configs=None, **kwargs) -> list[Error]:
    """A configured certificate must load and, under `x509_san_dns`, name the service's host:
    say so at start, not when the first presentation request is made. (The default
    certificate is made for PUBLIC_HOST on first use, in the database.)"""
    from openid4vp.identity import configured_identity, verifier_client_id

    try:
        configured = configured_identity()
        if configured is not None:
            verifier_client_id(configured)
            if is_self_signed(configured.certificate):
                return [Error("OPENID4VP_CERTIFICATE is self-signed: wallets refuse it "
                              "(HAIP 1.0 §5: the certificate signing a request must not be "
                              "self-signed)", id="openid4vp.E003",
                              hint="Configure a certificate issued by a CA the wallets trust, "
                                   "followed by its intermediates; or configure none, and "
                                   "give wallets the root of `manage.py verifier_ca`.")]
    except (CertificateError, OSError) as exc:
        return [Error(f"OPENID4VP_CERTIFICATE / OPENID4VP_PRIVATE_KEY: {exc}",
                      id="openid4vp.E001",
                      hint="Set them to a PEM certificate and its P-256 key (text or paths).")]
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="openid4vp.E002")]
    return []
