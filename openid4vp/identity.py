"""Who the Verifier is: a certificate and its P-256 key, and the client id they give
(OpenID4VP 1.0 §5.9.3, HAIP 1.0): `x509_hash:<base64url(SHA-256(DER))>` by default, or
`x509_san_dns:<PUBLIC_HOST>` (OPENID4VP_CLIENT_ID_PREFIX), the host being a dNSName SAN of the
certificate.

Configured (OPENID4VP_CERTIFICATE and OPENID4VP_PRIVATE_KEY, PEM text or paths) or, by default,
made once: a P-256 key in the key store (wrapped under KEY_ENCRYPTION_KEY, re-wrapped with the
others) and a self-signed certificate for PUBLIC_HOST, kept in VerifierCertificate. A wallet
validates the certificate up to a trust anchor it knows; the self-signed one is its own anchor,
so real wallets need a configured, CA-issued certificate."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from credentials import x509
from credentials.key_store import ensure_key, signer_for
from credentials.models import KeyPair
from openid4vp.models import VerifierCertificate

KEY_CONTROLLER = "openid4vp:verifier"  # the key store's name for the Verifier's own key
KEY_TYPE = KeyPair.KeyType.P256  # ES256 (HAIP 1.0)


def verifier_identity() -> x509.CertifiedSigner:
    """The certificate and signer the Verifier signs its requests with."""
    configured = configured_identity()
    if configured is not None:
        return configured
    stored = VerifierCertificate.objects.filter(key_controller=KEY_CONTROLLER).first()
    if stored is None or not _key_is_active(stored):
        stored = _make_certificate()
    return x509.certified(bytes(stored.certificate), signer_for(KEY_CONTROLLER, KEY_TYPE))


def verifier_client_id(certified: x509.CertifiedSigner) -> str:
    """The client id new requests are made under, by OPENID4VP_CLIENT_ID_PREFIX. Raises
    ImproperlyConfigured, naming the certificate's DNS names and the host, when the prefix is
    `x509_san_dns` and the certificate does not name the host of PUBLIC_BASE_URL."""
    prefix, host = settings.OPENID4VP_CLIENT_ID_PREFIX, settings.PUBLIC_HOST
    try:
        return certified.client_id_for(prefix, host)
    except x509.CertificateError:
        which = ("the certificate of OPENID4VP_CERTIFICATE" if settings.OPENID4VP_CERTIFICATE
                 else "the Verifier's self-signed certificate (made when PUBLIC_BASE_URL had "
                      "another host; rotating the Verifier's key makes a new one)")
        raise ImproperlyConfigured(
            f"OPENID4VP_CLIENT_ID_PREFIX={prefix}: the client id would be {prefix}:{host} "
            f"(the host of PUBLIC_BASE_URL), but {which} names only "
            f"{', '.join(certified.dns_names) or 'no DNS name'} as dNSName subject alternative "
            f"names; use a certificate for {host}, or the x509_hash prefix") from None


def configured_identity() -> x509.CertifiedSigner | None:
    """The configured certificate and key, None when none is configured. Raises
    x509.CertificateError or OSError (an unreadable file) for a configuration that cannot be
    used."""
    if not settings.OPENID4VP_CERTIFICATE:
        return None
    return _configured(settings.OPENID4VP_CERTIFICATE, settings.OPENID4VP_PRIVATE_KEY)


@lru_cache(maxsize=4)
def _configured(certificate: str, private_key: str) -> x509.CertifiedSigner:
    return x509.load_pem(_pem(certificate), _pem(private_key))


def _pem(value: str) -> str:
    """PEM text as it is, or the content of the file a path names."""
    if value.lstrip().startswith("-----BEGIN"):
        return value
    return Path(value).read_text(encoding="ascii")


def _key_is_active(stored: VerifierCertificate) -> bool:
    return KeyPair.objects.filter(controller=stored.key_controller, key_id=stored.key_id,
                                  key_type=KEY_TYPE, retired_at=None).exists()


def _make_certificate(attempts: int = 3) -> VerifierCertificate:
    """The Verifier's key and self-signed certificate, made once: two processes racing here
    both end with the same certificate (the unique constraints decide, the loser reads)."""
    for _ in range(attempts):
        try:
            with transaction.atomic():
                key = ensure_key(KEY_CONTROLLER, KEY_TYPE)
                certified = x509.self_signed(signer_for(KEY_CONTROLLER, KEY_TYPE),
                                             settings.PUBLIC_HOST)
                return VerifierCertificate.objects.create(
                    key_controller=KEY_CONTROLLER, key_id=key.key_id,
                    certificate=certified.certificate, x509_hash=certified.x509_hash,
                    host=settings.PUBLIC_HOST)
        except IntegrityError:
            stored = VerifierCertificate.objects.filter(key_controller=KEY_CONTROLLER).first()
            if stored is not None and _key_is_active(stored):
                return stored
    raise RuntimeError("could not make the Verifier's certificate")
