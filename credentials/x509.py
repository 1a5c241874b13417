"""X.509 certificates of the service as an OpenID4VP Verifier: the `x509_hash` Client Identifier
Prefix (OpenID4VP 1.0 §5.9.3, required by HAIP 1.0).

`client_id = "x509_hash:" + base64url(SHA-256(DER of the leaf certificate))`; the Request Object
is signed with the certificate's key and carries the certificate in its `x5c` header. The
certificate is either configured (PEM, `load_pem`) or made once (`self_signed`): self-signed,
P-256, subject CN and SAN dNSName the service's host, for a key of the key store (so the private
key is wrapped at rest and re-wrapped like every other key).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from credentials.encoding import b64url_encode
from credentials.errors import CredentialError
from credentials.keys import LocalSigner, PublicKey

CLIENT_ID_PREFIX = "x509_hash"
DEFAULT_VALIDITY = timedelta(days=825)  # the longest the CA/Browser Forum ever allowed a leaf


class CertificateError(CredentialError):
    code = "certificate_invalid"


def x509_hash(der: bytes) -> str:
    """base64url(SHA-256(DER)) (OpenID4VP 1.0 §5.9.3)."""
    return b64url_encode(hashlib.sha256(der).digest())


@dataclass(frozen=True)
class CertifiedSigner:
    """A leaf certificate and the signer of its (P-256) key."""

    certificate: bytes  # DER
    signer: LocalSigner = field(repr=False)

    @property
    def x509_hash(self) -> str:
        return x509_hash(self.certificate)

    @property
    def client_id(self) -> str:
        return f"{CLIENT_ID_PREFIX}:{self.x509_hash}"

    @property
    def x5c(self) -> list[str]:
        """The `x5c` header value (RFC 7515 §4.1.6: standard base64 DER, not base64url)."""
        return [base64.b64encode(self.certificate).decode("ascii")]

    def pem(self) -> str:
        return x509.load_der_x509_certificate(self.certificate).public_bytes(
            serialization.Encoding.PEM).decode("ascii")

    def __repr__(self) -> str:  # never print key material
        return f"<CertifiedSigner {self.client_id}>"


def self_signed(signer: LocalSigner, host: str, *, validity: timedelta = DEFAULT_VALIDITY,
                now: datetime | None = None) -> CertifiedSigner:
    """A self-signed certificate for `signer`'s P-256 key, naming `host` as subject CN and SAN
    dNSName (what an `x509_san_dns` Wallet would check too)."""
    private = getattr(signer, "_key", None)
    if not (isinstance(private, ec.EllipticCurvePrivateKey)
            and isinstance(private.curve, ec.SECP256R1)):
        raise CertificateError("certificate: the key must be a local P-256 key (ES256)")
    if not host or not isinstance(host, str):
        raise CertificateError("certificate: a host name is needed")
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate a wallet's slow clock
        .not_valid_after(now + validity)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(private, hashes.SHA256())
    )
    return CertifiedSigner(certificate.public_bytes(serialization.Encoding.DER), signer)


def generate_self_signed(host: str, **options) -> CertifiedSigner:
    """A new P-256 key with a self-signed certificate for `host`."""
    return self_signed(LocalSigner.generate(key_type="P-256"), host, **options)


def generate_pem_pair(host: str) -> tuple[str, str]:
    """(certificate PEM, private key PEM) of a new self-signed P-256 certificate for `host`:
    a starting configuration for OPENID4VP_CERTIFICATE / OPENID4VP_PRIVATE_KEY (and tests)."""
    certified = generate_self_signed(host)
    key_pem = certified.signer._key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode("ascii")
    return certified.pem(), key_pem


def load_pem(certificate_pem: str | bytes, private_key_pem: str | bytes) -> CertifiedSigner:
    """A configured certificate and its key (PEM). The key must be P-256 and belong to the
    certificate (the first certificate in the PEM is the leaf)."""
    try:
        certificate = x509.load_pem_x509_certificate(_bytes(certificate_pem))
    except ValueError as exc:
        raise CertificateError(f"certificate: not a PEM X.509 certificate ({exc})") from None
    try:
        private = serialization.load_pem_private_key(_bytes(private_key_pem), password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"certificate: the private key is not an unencrypted PEM key "
                               f"({exc})") from None
    if not (isinstance(private, ec.EllipticCurvePrivateKey)
            and isinstance(private.curve, ec.SECP256R1)):
        raise CertificateError("certificate: the key must be P-256 (ES256, HAIP 1.0)")
    if certificate.public_key().public_numbers() != private.public_key().public_numbers():
        raise CertificateError("certificate: the private key does not belong to the "
                               "certificate")
    der = certificate.public_bytes(serialization.Encoding.DER)
    return CertifiedSigner(der, LocalSigner(private, f"{CLIENT_ID_PREFIX}:{x509_hash(der)}"))


def certified(certificate_der: bytes, signer: LocalSigner) -> CertifiedSigner:
    """A stored certificate with the signer of its key (refused when they do not match)."""
    der = bytes(certificate_der)
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateError(f"certificate: not DER ({exc})") from None
    if certificate.public_key().public_numbers() != signer._key.public_key().public_numbers():
        raise CertificateError("certificate: the key does not belong to the certificate")
    return CertifiedSigner(der, signer)


def _bytes(value: str | bytes) -> bytes:
    return value.encode("ascii") if isinstance(value, str) else bytes(value)


# --- reading certificates (what a Wallet does with `x5c`) ------------------------------------

@dataclass(frozen=True)
class CertificateInfo:
    der: bytes
    public_key: PublicKey
    subject_common_name: str | None
    dns_names: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    self_signed: bool

    @property
    def x509_hash(self) -> str:
        return x509_hash(self.der)


def read_x5c(x5c: Any) -> CertificateInfo:
    """The leaf certificate of an `x5c` header (a non-empty array of standard base64 DER):
    its public key (P-256 or Ed25519) and names. Raises CertificateError for anything else."""
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise CertificateError("x5c: must be a non-empty array of base64 certificates")
    try:
        der = base64.b64decode(x5c[0], validate=True)
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateError(f"x5c: the leaf is not a DER certificate ({exc})") from None
    return _info(certificate, der)


def _info(certificate: x509.Certificate, der: bytes) -> CertificateInfo:
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        public = PublicKey("P-256", key.public_bytes(serialization.Encoding.X962,
                                                     serialization.PublicFormat.CompressedPoint))
    else:
        raise CertificateError("x5c: the leaf's key is not P-256")
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        dns_names = tuple(names.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        dns_names = ()
    common = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return CertificateInfo(
        der=der, public_key=public,
        subject_common_name=str(common[0].value) if common else None, dns_names=dns_names,
        not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
        self_signed=certificate.issuer == certificate.subject)
