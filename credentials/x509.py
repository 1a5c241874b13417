"""X.509 certificates of the service as an OpenID4VP Verifier: the `x509_hash` and `x509_san_dns`
Client Identifier Prefixes (OpenID4VP 1.0 §5.9.3; HAIP 1.0).

`client_id = "x509_hash:" + base64url(SHA-256(DER of the leaf certificate))`, or
`"x509_san_dns:" + a dNSName SAN of the leaf`; either way the Request Object is signed with the
certificate's key and carries the certificate in its `x5c` header. The
certificate is either configured (PEM, `load_pem`) or made once (`self_signed`): self-signed,
P-256, subject CN and SAN dNSName the service's host, for a key of the key store (so the private
key is wrapped at rest and re-wrapped like every other key).

The other side: reading an `x5c` header (`read_x5c`) and validating a foreign issuer's chain
against configured trust anchors (`validate_chain`), SD-JWT VC's X.509 Issuer Signature
Mechanism, which HAIP 1.0 makes mandatory.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from credentials.encoding import b64url_encode
from credentials.errors import CredentialError
from credentials.keys import LocalSigner, PublicKey, Signer

X509_HASH, X509_SAN_DNS = "x509_hash", "x509_san_dns"
CLIENT_ID_PREFIXES = (X509_HASH, X509_SAN_DNS)
DEFAULT_VALIDITY = timedelta(days=825)  # the longest the CA/Browser Forum ever allowed a leaf


class CertificateError(CredentialError):
    code = "certificate_invalid"


def x509_hash(der: bytes) -> str:
    """base64url(SHA-256(DER)) (OpenID4VP 1.0 §5.9.3)."""
    return b64url_encode(hashlib.sha256(der).digest())


@dataclass(frozen=True)
class CertifiedSigner:
    """A leaf certificate and the signer of its (P-256) key, with the intermediate CA
    certificates up to (not including) the trust anchor, when a CA issued it."""

    certificate: bytes  # DER
    signer: Signer = field(repr=False)
    intermediates: tuple[bytes, ...] = ()  # DER, the leaf's issuer first

    @property
    def x509_hash(self) -> str:
        return x509_hash(self.certificate)

    @property
    def client_id(self) -> str:
        return f"{X509_HASH}:{self.x509_hash}"

    @property
    def dns_names(self) -> tuple[str, ...]:
        """The leaf's dNSName Subject Alternative Names."""
        return tuple(_alternative_names(x509.load_der_x509_certificate(self.certificate),
                                        x509.DNSName))

    def client_id_for(self, prefix: str, dns_name: str | None = None) -> str:
        """The Client Identifier under `prefix` (OpenID4VP 1.0 §5.9.3): `x509_hash:<hash of
        the certificate>`, or `x509_san_dns:<dns_name>`, where `dns_name` must be a dNSName
        SAN of the certificate (an exact entry: a Wallet compares names, so a wildcard entry
        does not count). Raises CertificateError otherwise."""
        if prefix == X509_HASH:
            return self.client_id
        if prefix != X509_SAN_DNS:
            raise CertificateError(f"client id prefix {prefix!r} is not supported "
                                   f"({', '.join(CLIENT_ID_PREFIXES)})")
        if not dns_name or not names_dns(self.dns_names, dns_name):
            names = ", ".join(self.dns_names) or "none"
            raise CertificateError(f"certificate: {dns_name!r} is not among its dNSName "
                                   f"subject alternative names ({names}), so it cannot be "
                                   f"the {X509_SAN_DNS} client id")
        return f"{X509_SAN_DNS}:{dns_name}"

    @property
    def x5c(self) -> list[str]:
        """The `x5c` header value (RFC 7515 §4.1.6: standard base64 DER, not base64url): the
        leaf, then its intermediates, so that a Wallet can build the path to its anchor."""
        return [base64.b64encode(der).decode("ascii")
                for der in (self.certificate, *self.intermediates)]

    def pem(self) -> str:
        return x509.load_der_x509_certificate(self.certificate).public_bytes(
            serialization.Encoding.PEM).decode("ascii")

    def __repr__(self) -> str:  # never print key material
        return f"<CertifiedSigner {self.client_id}>"


def self_signed(signer: LocalSigner, host: str, *, validity: timedelta = DEFAULT_VALIDITY,
                now: datetime | None = None) -> CertifiedSigner:
    """A self-signed certificate for `signer`'s P-256 key, naming `host` as subject CN and SAN
    dNSName (what an `x509_san_dns` Wallet would check too)."""
    private = _p256_private(signer)
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
        .add_extension(_key_usage(ca=False), critical=True)
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
    certificate (the first certificate in the PEM is the leaf; any that follow are its
    intermediate CAs, sent along in `x5c`)."""
    try:
        certificate, *intermediates = x509.load_pem_x509_certificates(_bytes(certificate_pem))
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
    return CertifiedSigner(der, LocalSigner(private, f"{X509_HASH}:{x509_hash(der)}"),
                           tuple(c.public_bytes(serialization.Encoding.DER)
                                 for c in intermediates))


def certified(certificate_der: bytes, signer: Signer) -> CertifiedSigner:
    """A stored certificate with the signer of its key (refused when they do not match)."""
    der = bytes(certificate_der)
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateError(f"certificate: not DER ({exc})") from None
    if _public_key(certificate).jwk() != signer.public_key().jwk():
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
    uris: tuple[str, ...] = ()  # uniformResourceIdentifier SANs
    subject: str = ""  # RFC 4514
    organisation: str | None = None  # O
    organisation_identifier: str | None = None  # organizationIdentifier (2.5.4.97)
    country: str | None = None  # C

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
    return CertificateInfo(
        der=der, public_key=_public_key(certificate),
        subject_common_name=_attribute(certificate.subject, NameOID.COMMON_NAME),
        dns_names=tuple(_alternative_names(certificate, x509.DNSName)),
        not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
        self_signed=certificate.issuer == certificate.subject,
        uris=tuple(_alternative_names(certificate, x509.UniformResourceIdentifier)),
        subject=certificate.subject.rfc4514_string(),
        organisation=_attribute(certificate.subject, NameOID.ORGANIZATION_NAME),
        organisation_identifier=_attribute(certificate.subject,
                                           NameOID.ORGANIZATION_IDENTIFIER),
        country=_attribute(certificate.subject, NameOID.COUNTRY_NAME))


def _public_key(certificate: x509.Certificate) -> PublicKey:
    """The leaf's key as the engine knows keys: P-256 (ES256) or Ed25519 (EdDSA)."""
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey("P-256", key.public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.CompressedPoint))
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey("Ed25519", key.public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw))
    raise CertificateError("x5c: the leaf's key is not P-256 (ES256) or Ed25519 (EdDSA)")


def _alternative_names(certificate: x509.Certificate, kind: type) -> list[str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(names.value.get_values_for_type(kind))


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


# --- validating a foreign issuer's chain ------------------------------------------------------

MAX_CHAIN_LENGTH = 8  # certificates in x5c, and the depth of the path to an anchor


class ChainError(CertificateError):
    code = "certificate_chain"


@dataclass(frozen=True)
class TrustAnchors:
    """The certificates an `x5c` chain must lead to: in production the anchors of the EU
    trusted lists for PID and (Q)EAA providers."""

    certificates: tuple[x509.Certificate, ...] = ()
    # More anchors (DER) read when first needed, e.g. a CA kept in the database: verifying
    # what needs no anchor then costs no query.
    load_more: Callable[[], tuple[bytes, ...]] | None = field(default=None, compare=False,
                                                                repr=False)

    @cached_property
    def all(self) -> tuple[x509.Certificate, ...]:
        more = self.load_more() if self.load_more is not None else ()
        return self.certificates + tuple(x509.load_der_x509_certificate(bytes(d)) for d in more)

    def __bool__(self) -> bool:
        return bool(self.all)

    def __len__(self) -> int:
        return len(self.all)

    @cached_property
    def store(self) -> verification.Store:
        return verification.Store(list(self.all))


NO_ANCHORS = TrustAnchors()


def load_trust_anchors(pem: str | bytes) -> TrustAnchors:
    """Every certificate of a PEM bundle. Raises CertificateError when there is none."""
    try:
        certificates = x509.load_pem_x509_certificates(_bytes(pem))
    except ValueError as exc:
        raise CertificateError(f"trust anchors: not a PEM certificate bundle ({exc})") from None
    return TrustAnchors(tuple(certificates))


@dataclass(frozen=True)
class ValidatedChain:
    """An `x5c` chain that leads to a trust anchor: its leaf, and the anchor it ends at."""

    leaf: CertificateInfo
    anchor_subject: str  # RFC 4514
    anchor_name: str | None  # the anchor's O, else its CN


def validate_chain(x5c: Any, anchors: TrustAnchors, *,
                   now: datetime | None = None) -> ValidatedChain:
    """Validate an `x5c` header (leaf first, then intermediates; the anchor itself normally
    left out, HAIP 1.0) against `anchors` at `now` (RFC 5280 path validation): signatures up
    the chain, every certificate within its validity period, intermediates CAs
    (basicConstraints), the leaf an end entity whose keyUsage allows digitalSignature and
    whose key is P-256 or Ed25519. Raises ChainError naming the first failure."""
    now = now or datetime.now(UTC)
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    certificates = _parse_chain(x5c)
    leaf, intermediates = certificates[0], certificates[1:]
    info = _info(leaf, base64.b64decode(x5c[0]))  # raises for a key the engine cannot use
    _check_leaf(leaf)
    for position, certificate in enumerate(certificates, 1):
        _check_period(certificate, position, now)
    for position, certificate in enumerate(intermediates, 2):
        if not _is_ca(certificate):
            raise ChainError(f"x5c: {_which(certificate, position)} is not a CA certificate "
                             f"(basicConstraints), yet it would have issued the one before it")
    if not anchors:
        raise ChainError("x5c chain does not lead to a trusted anchor (no trust anchors are "
                         "configured)")
    verifier = (verification.PolicyBuilder().store(anchors.store).time(now)
                .max_chain_depth(MAX_CHAIN_LENGTH)
                # Issuer certificates are not TLS client certificates: the CAs follow the
                # Web PKI profile, the leaf is checked above and by the caller (its SAN).
                .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                                    ee_policy=verification.ExtensionPolicy.permit_all())
                .build_client_verifier())
    try:
        verified = verifier.verify(leaf, intermediates)
    except verification.VerificationError as exc:
        raise ChainError(f"x5c chain does not lead to a trusted anchor ({_reason(exc)})") \
            from None
    anchor = verified.chain[-1]
    return ValidatedChain(
        info, anchor.subject.rfc4514_string(),
        _attribute(anchor.subject, NameOID.ORGANIZATION_NAME)
        or _attribute(anchor.subject, NameOID.COMMON_NAME))


def names_dns(dns_names: tuple[str, ...] | list[str], name: str) -> bool:
    """Whether `name` is one of `dns_names` (DNS names compare without case or a final dot;
    no wildcard matching)."""
    wanted = name.lower().rstrip(".")
    return bool(wanted) and wanted in {entry.lower().rstrip(".") for entry in dns_names}


def names_issuer(info: CertificateInfo, issuer: str) -> bool:
    """Whether the certificate names `issuer` (an SD-JWT VC `iss`): a uniformResourceIdentifier
    SAN equal to it, or, for an https `iss`, a dNSName SAN equal to its host (the rule of
    SD-JWT VC's X.509 mechanism, draft-ietf-oauth-sd-jwt-vc up to -08 §3.5)."""
    if issuer in info.uris:
        return True
    parts = urlsplit(issuer)
    return (parts.scheme == "https" and bool(parts.hostname)
            and names_dns(info.dns_names, parts.hostname))


def _parse_chain(x5c: Any) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise ChainError("x5c: must be a non-empty array of base64 certificates")
    if len(x5c) > MAX_CHAIN_LENGTH:
        raise ChainError(f"x5c: more than {MAX_CHAIN_LENGTH} certificates")
    certificates = []
    for position, entry in enumerate(x5c, 1):
        try:
            certificates.append(x509.load_der_x509_certificate(
                base64.b64decode(entry, validate=True)))
        except ValueError:
            raise ChainError(f"x5c: certificate {position} is not a base64 DER certificate") \
                from None
    return certificates


def _check_leaf(leaf: x509.Certificate) -> None:
    if _is_ca(leaf):
        raise ChainError("x5c: the leaf certificate is a CA certificate, not an issuer's "
                         "signing certificate")
    if leaf.issuer == leaf.subject:
        raise ChainError("x5c: the leaf certificate is self-signed; it must be issued by a CA "
                         "that leads to a trusted anchor")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise ChainError("x5c: the leaf certificate's keyUsage does not allow "
                         "digitalSignature")


def _check_period(certificate: x509.Certificate, position: int, now: datetime) -> None:
    if certificate.not_valid_after_utc < now:
        raise ChainError(f"x5c: {_which(certificate, position)} expired on "
                         f"{certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}")
    if certificate.not_valid_before_utc > now:
        raise ChainError(f"x5c: {_which(certificate, position)} is not valid before "
                         f"{certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}")


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _which(certificate: x509.Certificate, position: int) -> str:
    if position == 1:
        return "the leaf certificate"
    return f"certificate {position} ({certificate.subject.rfc4514_string()})"


def _reason(error: Exception) -> str:
    """The path builder's reason, without its boilerplate."""
    text = str(error)
    for prefix in ("validation failed: ", "candidates exhausted: "):
        text = text.removeprefix(prefix)
    if "no interior errors" in text:
        return "no configured anchor or certificate of the chain issued it"
    return text


# --- a service CA issuing its organisations' signing certificates (HAIP 1.0 issuers) ----------

CA_VALIDITY = timedelta(days=3650)
ISSUER_LEAF_VALIDITY = timedelta(days=365)


def self_signed_ca(signer: LocalSigner, common_name: str, *, organisation: str | None = None,
                   validity: timedelta = CA_VALIDITY,
                   now: datetime | None = None) -> CertifiedSigner:
    """A self-signed root CA certificate for `signer`'s P-256 key (basicConstraints CA, no
    intermediates below it: pathLength 0; keyUsage keyCertSign and cRLSign)."""
    private = _p256_private(signer)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    name = x509.Name(attributes)
    public = private.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(private, hashes.SHA256())
    )
    return CertifiedSigner(certificate.public_bytes(serialization.Encoding.DER), signer)


def load_ca_pem(certificate_pem: str | bytes, private_key_pem: str | bytes) -> CertifiedSigner:
    """A configured CA certificate and its P-256 key (PEM), refused unless it is a CA
    certificate allowed to sign certificates. Intermediates after it go into `x5c`."""
    loaded = load_pem(certificate_pem, private_key_pem)
    certificate = x509.load_der_x509_certificate(loaded.certificate)
    if not _is_ca(certificate):
        raise CertificateError("certificate: not a CA certificate (basicConstraints)")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.key_cert_sign:
        raise CertificateError("certificate: the CA certificate's keyUsage does not allow "
                               "keyCertSign")
    return loaded


def issue_signing_certificate(ca: CertifiedSigner, subject_key: PublicKey, *, uri: str,
                              organisation: str, country: str = "",
                              organisation_identifier: str = "",
                              validity: timedelta = ISSUER_LEAF_VALIDITY,
                              now: datetime | None = None) -> bytes:
    """DER of an end-entity certificate, issued by `ca`, for an issuer's P-256 signing key:
    SAN uniformResourceIdentifier `uri` (the SD-JWT VC `iss` it names), subject O, C and
    organizationIdentifier (2.5.4.97), keyUsage digitalSignature, not a CA. Never valid
    beyond the CA itself."""
    if subject_key.key_type != "P-256":
        raise CertificateError("certificate: the issuer's key must be P-256 (ES256)")
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, organisation),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)]
    if organisation_identifier:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER,
                                             organisation_identifier))
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
    return _issue_end_entity(ca, subject_key, x509.Name(attributes),
                             x509.UniformResourceIdentifier(uri), validity, now)


def issue_host_certificate(ca: CertifiedSigner, subject_key: PublicKey, host: str, *,
                           validity: timedelta = DEFAULT_VALIDITY,
                           now: datetime | None = None) -> bytes:
    """DER of an end-entity certificate, issued by `ca`, for a relying party's P-256 key (the
    Verifier signing its Request Objects): subject CN and SAN dNSName `host` (what a wallet
    checks under `x509_san_dns`), keyUsage digitalSignature, not a CA. HAIP 1.0 §5: the
    certificate that signs a request is never self-signed."""
    if subject_key.key_type != "P-256":
        raise CertificateError("certificate: the key must be P-256 (ES256)")
    if not host or not isinstance(host, str):
        raise CertificateError("certificate: a host name is needed")
    return _issue_end_entity(ca, subject_key,
                             x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]),
                             x509.DNSName(host), validity, now)


def _issue_end_entity(ca: CertifiedSigner, subject_key: PublicKey, subject: x509.Name,
                      alternative_name: x509.GeneralName, validity: timedelta,
                      now: datetime | None) -> bytes:
    from credentials.keys import _p256

    ca_private = _p256_private(ca.signer)
    ca_certificate = x509.load_der_x509_certificate(ca.certificate)
    public = _p256(subject_key.raw)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    not_after = min(now + validity, ca_certificate.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([alternative_name]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_private.public_key()), critical=False)
        .sign(ca_private, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def not_after(der: bytes) -> datetime:
    return x509.load_der_x509_certificate(bytes(der)).not_valid_after_utc


def anchors_from_der(*ders: bytes) -> TrustAnchors:
    return TrustAnchors(tuple(x509.load_der_x509_certificate(bytes(d)) for d in ders))


def combined(first: TrustAnchors, second: TrustAnchors) -> TrustAnchors:
    return TrustAnchors(first.certificates + second.certificates)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """A CA signs certificates (and CRLs); an end entity signs data (JWS) and nothing else."""
    return x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def _p256_private(signer) -> ec.EllipticCurvePrivateKey:
    if hasattr(signer, "unlogged"):  # the key store's signer: certificates need the key object
        signer = signer.unlogged()
    private = getattr(signer, "_key", None)
    if not (isinstance(private, ec.EllipticCurvePrivateKey)
            and isinstance(private.curve, ec.SECP256R1)):
        raise CertificateError("certificate: the key must be a local P-256 key (ES256)")
    return private


def authority_key_identifiers(x5c: Any) -> set[bytes]:
    """The keyIdentifier of the AuthorityKeyIdentifier of every certificate of an `x5c` header
    (what a DCQL `aki` trusted authority names). Raises CertificateError for a malformed x5c."""
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise CertificateError("x5c: must be a non-empty array of base64 certificates")
    found = set()
    for entry in x5c[:MAX_CHAIN_LENGTH]:
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(entry, validate=True))
            value = certificate.extensions.get_extension_for_class(
                x509.AuthorityKeyIdentifier).value
        except x509.ExtensionNotFound:
            continue
        except ValueError:
            raise CertificateError("x5c: not a base64 DER certificate") from None
        if value.key_identifier:
            found.add(value.key_identifier)
    return found


def is_self_signed(der: bytes) -> bool:
    certificate = x509.load_der_x509_certificate(bytes(der))
    return certificate.issuer == certificate.subject


def issued_by(der: bytes, issuer_der: bytes) -> bool:
    """Whether the certificate `der` was signed by the certificate `issuer_der`'s key."""
    certificate = x509.load_der_x509_certificate(bytes(der))
    issuer = x509.load_der_x509_certificate(bytes(issuer_der))
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
