"""Who the Verifier is: a certificate and its P-256 key, giving the client id
`x509_hash:<base64url(SHA-256(DER))>` (OpenID4VP 1.0 §5.9.3, HAIP 1.0).

Configured (OPENID4VP_CERTIFICATE and OPENID4VP_PRIVATE_KEY, PEM text or paths) or, by default,
made once: a P-256 key in the key store (wrapped under KEY_ENCRYPTION_KEY, re-wrapped with the
others) and a self-signed certificate for PUBLIC_HOST, kept in VerifierCertificate."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from credentials import x509
from credentials.key_store import ensure_key, signer_for
from credentials.models import KeyPair
from openid4vp.models import VerifierCertificate

KEY_CONTROLLER = "openid4vp:verifier"  # the key store's name for the Verifier's own key
KEY_TYPE = KeyPair.KeyType.P256  # ES256 (HAIP 1.0)


def verifier_identity() -> x509.CertifiedSigner:
    """The certificate and signer the Verifier signs its requests with."""
    if settings.OPENID4VP_CERTIFICATE:
        return _configured(settings.OPENID4VP_CERTIFICATE, settings.OPENID4VP_PRIVATE_KEY)
    stored = VerifierCertificate.objects.filter(key_controller=KEY_CONTROLLER).first()
    if stored is None or not _key_is_active(stored):
        stored = _make_certificate()
    return x509.certified(bytes(stored.certificate), signer_for(KEY_CONTROLLER, KEY_TYPE))


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
