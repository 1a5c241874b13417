"""A small X.509 PKI for tests: a root CA (the trust anchor a Verifier is configured with),
optional intermediates, and issuer signing certificates the way EU PID and (Q)EAA providers
have them (SAN URI = the issuer's `iss`, subject O / organizationIdentifier / C, keyUsage
digitalSignature), with the signer of the leaf's key; and what such a provider signs with it:
SD-JWT VCs and Token Status Lists carrying the chain in their `x5c` header."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from credentials import jose, sd_jwt
from credentials.keys import LocalSigner, PublicKey
from credentials.status_list import TokenStatusList

NOW = datetime.now(UTC).replace(microsecond=0)
ISSUER = "https://pid-provider.example.eu/issuer"
PID_VCT = "urn:eudi:pid:1"  # the EU PID's SD-JWT VC type (PID Rulebook)
PID_CLAIMS = {"given_name": "Erika", "family_name": "Mustermann", "birthdate": "1964-08-12",
              "address": {"street_address": "Heidestraße 17", "locality": "Köln",
                          "postal_code": "51147", "country": "DE"},
              "nationalities": ["DE"]}
PID_DISCLOSABLE = ["given_name", "family_name", "birthdate", "address",
                   "address.street_address", "address.locality", "address.postal_code",
                   "address.country", "nationalities"]


def _usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signing, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=not signing, crl_sign=not signing, encipher_only=False,
                         decipher_only=False)


def _name(common_name: str, organisation: str | None = None,
          organisation_identifier: str | None = None, country: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if organisation_identifier:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER,
                                             organisation_identifier))
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    return x509.Name(attributes)


@dataclass
class IssuerCertificate:
    """An issuer's signing certificate, its key's signer, and the intermediates above it."""

    certificate: x509.Certificate
    signer: LocalSigner = field(repr=False)
    intermediates: list[x509.Certificate] = field(default_factory=list)

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def x5c(self) -> list[str]:
        """The `x5c` header: leaf first, then intermediates, the anchor left out."""
        return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii")
                for c in [self.certificate, *self.intermediates]]


@dataclass
class Authority:
    """A CA: a root (self-signed) or an intermediate issued by another Authority."""

    key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate
    parents: list[x509.Certificate] = field(default_factory=list)  # intermediates above it

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def x5c_entry(self) -> str:
        """This CA's certificate as an x5c entry (standard base64 DER)."""
        return base64.b64encode(self.certificate.public_bytes(
            serialization.Encoding.DER)).decode("ascii")

    def intermediate(self, common_name: str = "Test PID Issuing CA", *,
                     ca: bool = True) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = self._builder(_name(common_name, "Test Trust Service"), key.public_key(),
                                NOW - timedelta(days=1), NOW + timedelta(days=365))
        builder = (builder
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(_usage(signing=not ca), critical=True))
        certificate = builder.sign(self.key, hashes.SHA256())
        return Authority(key, certificate, [certificate, *self.parents])

    def issue(self, *, uris: tuple[str, ...] = (ISSUER,), dns_names: tuple[str, ...] = (),
              organisation: str = "PID Provider Example", organisation_identifier: str
              | None = "VATDE-123456789", country: str = "DE", key_type: str = "P-256",
              not_before: datetime | None = None, not_after: datetime | None = None,
              digital_signature: bool = True, ca: bool = False) -> IssuerCertificate:
        """An issuer signing certificate issued by this CA, and the signer of its key."""
        private = (ec.generate_private_key(ec.SECP256R1()) if key_type == "P-256"
                   else ed25519.Ed25519PrivateKey.generate())
        builder = self._builder(
            _name(f"{organisation} signing", organisation, organisation_identifier, country),
            private.public_key(), not_before or NOW - timedelta(days=1),
            not_after or NOW + timedelta(days=90))
        names = ([x509.UniformResourceIdentifier(u) for u in uris]
                 + [x509.DNSName(d) for d in dns_names])
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = (builder
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(_usage(signing=digital_signature), critical=True))
        certificate = builder.sign(self.key, hashes.SHA256())
        return IssuerCertificate(certificate, LocalSigner(private, ""), list(self.parents))

    def _builder(self, subject: x509.Name, public_key, not_before: datetime,
                 not_after: datetime) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder()
                .subject_name(subject).issuer_name(self.certificate.subject)
                .public_key(public_key).serial_number(x509.random_serial_number())
                .not_valid_before(not_before).not_valid_after(not_after)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.key.public_key()), critical=False))


def root_ca(common_name: str = "Test PID Provider Root CA",
            organisation: str = "Test Trust Service") -> Authority:
    """A self-signed root: what the Verifier's trusted list would hold."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, organisation, country="EU")
    certificate = (x509.CertificateBuilder()
                   .subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - timedelta(days=30))
                   .not_valid_after(NOW + timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .add_extension(_usage(signing=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    return Authority(key, certificate)


def self_signed_issuer(uri: str = ISSUER) -> IssuerCertificate:
    """A leaf that vouches for itself: no CA behind it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Self-made issuer", "Self-made issuer")
    certificate = (x509.CertificateBuilder()
                   .subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - timedelta(days=1))
                   .not_valid_after(NOW + timedelta(days=90))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.UniformResourceIdentifier(uri)]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(_usage(signing=True), critical=True)
                   .sign(key, hashes.SHA256()))
    return IssuerCertificate(certificate, LocalSigner(key, ""))


# --- what a foreign provider signs -----------------------------------------------------------

def foreign_sd_jwt_vc(issued: IssuerCertificate, holder_key: PublicKey | None, *,
                      iss: str = ISSUER, vct: str = PID_VCT, claims: dict | None = None,
                      status: dict | None = None, x5c: list[str] | None = None,
                      signer: LocalSigner | None = None, exp: datetime | None = None) -> str:
    """An SD-JWT VC as a PID provider issues it (HAIP 1.0): iss an https URL, the chain in
    `x5c` and no `kid`, holder-bound by cnf.jwk. `signer`/`x5c` replace the genuine ones."""
    payload = {"iss": iss, "iat": int(NOW.timestamp()),
               "exp": int((exp or NOW + timedelta(days=30)).timestamp()), "vct": vct,
               **(PID_CLAIMS if claims is None else claims)}
    if holder_key is not None:
        payload["cnf"] = {"jwk": holder_key.jwk()}
    if status is not None:
        payload["status"] = status
    disclosable = PID_DISCLOSABLE if claims is None else list(claims)
    return sd_jwt.issue(payload, signer or issued.signer, disclosable=disclosable,
                        header={"typ": "dc+sd-jwt", "x5c": issued.x5c if x5c is None else x5c})


def status_list_token(issued: IssuerCertificate, uri: str, statuses: dict[int, int], *,
                      iss: str | None = ISSUER) -> str:
    """A Status List Token (JWT) signed under the provider's certificate (HAIP 1.0: x5c)."""
    codec = TokenStatusList()
    for index, status in statuses.items():
        codec.set(index, status)
    claims = {"sub": uri, "iat": int(NOW.timestamp()),
              "exp": int((NOW + timedelta(days=1)).timestamp()), "ttl": 300,
              "status_list": codec.to_claim()}
    if iss is not None:
        claims["iss"] = iss
    return jose.sign(claims, issued.signer, {"typ": "statuslist+jwt", "x5c": issued.x5c})


def key_pem(signer) -> str:
    return signer._key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode("ascii")
