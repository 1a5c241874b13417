"""Who the Verifier is: a certificate and its P-256 key, and the client id they give
(OpenID4VP 1.0 §5.9.3, HAIP 1.0): `x509_hash:<base64url(SHA-256(DER))>` by default, or
`x509_san_dns:<PUBLIC_HOST>` (OPENID4VP_CLIENT_ID_PREFIX), the host being a dNSName SAN of the
certificate.

Configured (OPENID4VP_CERTIFICATE and OPENID4VP_PRIVATE_KEY, PEM text or paths; in production a
certificate from a CA the wallets trust) or, by default, made once: a P-256 key in the key store
(wrapped under KEY_ENCRYPTION_KEY, re-wrapped with the others) and a certificate for
PUBLIC_HOST issued by the service's own Verifier CA (a self-signed root, made once too, its key
in the key store), both kept in VerifierCertificate. HAIP 1.0 §5: the certificate signing a
request is never self-signed; a wallet given the root (`verifier_ca_pem`, `manage.py
verifier_ca`) validates the chain up to it. `x5c` carries the leaf only: the root is the
wallet's trust anchor and stays out."""

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
CA_KEY_CONTROLLER = "openid4vp:verifier-ca"  # ... and for the key of the CA that certifies it
KEY_TYPE = KeyPair.KeyType.P256  # ES256 (HAIP 1.0)


def verifier_identity() -> x509.CertifiedSigner:
    """The certificate and signer the Verifier signs its requests with."""
    configured = configured_identity()
    if configured is not None:
        return configured
    ca = verifier_ca()
    stored = VerifierCertificate.objects.filter(key_controller=KEY_CONTROLLER).first()
    if stored is None or not _key_is_active(stored):
        stored = _make_certificate(ca)
    elif not x509.issued_by(bytes(stored.certificate), bytes(ca.certificate)):
        stored = _reissue(stored, ca)  # a self-signed one from before, or another CA's
    return x509.certified(bytes(stored.certificate), signer_for(KEY_CONTROLLER, KEY_TYPE))


def verifier_ca() -> x509.CertifiedSigner:
    """The service's Verifier CA: the root wallets are given as the trust anchor of the
    default Verifier certificate (made once)."""
    stored = _stored(CA_KEY_CONTROLLER)
    if stored is None:
        stored = _make(CA_KEY_CONTROLLER, lambda signer: x509.self_signed_ca(
            signer, f"{settings.PUBLIC_HOST} Verifier CA", organisation=settings.PUBLIC_HOST))
    return x509.certified(bytes(stored.certificate), signer_for(CA_KEY_CONTROLLER, KEY_TYPE))


def verifier_ca_pem() -> str:
    """The Verifier CA's root certificate (PEM), to configure as a trust anchor in wallets;
    when a certificate is configured, its CA is the wallets' anchor and this one is unused."""
    return verifier_ca().pem()


def verifier_client_id(certified: x509.CertifiedSigner) -> str:
    """The client id new requests are made under, by OPENID4VP_CLIENT_ID_PREFIX. Raises
    ImproperlyConfigured, naming the certificate's DNS names and the host, when the prefix is
    `x509_san_dns` and the certificate does not name the host of PUBLIC_BASE_URL."""
    prefix, host = settings.OPENID4VP_CLIENT_ID_PREFIX, settings.PUBLIC_HOST
    try:
        return certified.client_id_for(prefix, host)
    except x509.CertificateError:
        which = ("the certificate of OPENID4VP_CERTIFICATE" if settings.OPENID4VP_CERTIFICATE
                 else "the Verifier's default certificate (made when PUBLIC_BASE_URL had "
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


def _stored(controller: str) -> VerifierCertificate | None:
    stored = VerifierCertificate.objects.filter(key_controller=controller).first()
    return stored if stored is not None and _key_is_active(stored) else None


def _make_certificate(ca: x509.CertifiedSigner) -> VerifierCertificate:
    return _make(KEY_CONTROLLER, lambda signer: x509.certified(x509.issue_host_certificate(
        ca, signer.public_key(), settings.PUBLIC_HOST), signer))


def _make(controller: str, certify, attempts: int = 3) -> VerifierCertificate:
    """A key and its certificate, made once: two processes racing here both end with the same
    certificate (the unique constraints decide, the loser reads)."""
    for _ in range(attempts):
        try:
            with transaction.atomic():
                key = ensure_key(controller, KEY_TYPE)
                certified = certify(signer_for(controller, KEY_TYPE))
                return VerifierCertificate.objects.create(
                    key_controller=controller, key_id=key.key_id,
                    certificate=certified.certificate, x509_hash=certified.x509_hash,
                    host=settings.PUBLIC_HOST)
        except IntegrityError:
            stored = _stored(controller)
            if stored is not None:
                return stored
    raise RuntimeError(f"could not make the certificate of {controller}")


def _reissue(stored: VerifierCertificate, ca: x509.CertifiedSigner) -> VerifierCertificate:
    """The same key certified by `ca`, replacing a certificate another process has not
    replaced meanwhile (the row is updated only while it still holds the old one)."""
    signer = signer_for(KEY_CONTROLLER, KEY_TYPE)
    der = x509.issue_host_certificate(ca, signer.public_key(), settings.PUBLIC_HOST)
    VerifierCertificate.objects.filter(pk=stored.pk, x509_hash=stored.x509_hash).update(
        certificate=der, x509_hash=x509.x509_hash(der), host=settings.PUBLIC_HOST)
    return VerifierCertificate.objects.get(pk=stored.pk)
