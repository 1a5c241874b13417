"""X.509 issuer identification of the copies (OPENID4VCI_ISSUER_IDENTIFICATION=x509, HAIP 1.0
§6.1.1): `iss` is the Credential Issuer identifier `{PUBLIC_BASE_URL}/orgs/<slug>` and the
organisation's P-256 key is in the `x5c` header, certified by the service's issuing CA.

The CA is configured (OPENID4VCI_CA_CERTIFICATE / OPENID4VCI_CA_PRIVATE_KEY, PEM text or paths)
or made once: a P-256 key in the key store (wrapped under KEY_ENCRYPTION_KEY) and a self-signed
root kept in IssuerCertificate. Wallets must know that root (or the configured CA's anchor) as a
trust anchor. Only organisations whose identity a trust anchor attested get a certificate (the
certificate states who they are); the others keep did:web issuance.

Also the JWT VC Issuer Metadata (SD-JWT VC §5) of each issuer: its P-256 keys, retired ones too
(copies signed before a rotation must still verify), each with its DID URL as `kid`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from credentials import x509
from credentials.key_store import ensure_key, public_key_of, signer_for
from credentials.models import KeyPair
from openid4vci.models import IssuerCertificate
from openid4vci.services.metadata import issuer_identifier
from wallet.business.trust import ServiceTrustRegistry
from wallet.tenancy.legal_models import LegalDetails
from wallet.tenancy.models import Organisation

X509 = "x509"
CA_KEY_CONTROLLER = "openid4vci:issuing-ca"  # the key store's name for the CA's own key
KEY_TYPE = KeyPair.KeyType.P256
RENEW_BEFORE = timedelta(days=30)  # a leaf this close to expiry is replaced


def x509_mode() -> bool:
    return settings.OPENID4VCI_ISSUER_IDENTIFICATION == X509


# --- the issuing CA ----------------------------------------------------------------------------

def issuing_ca() -> x509.CertifiedSigner:
    """The CA certificate (with its intermediates, when configured) and its signer."""
    if settings.OPENID4VCI_CA_CERTIFICATE:
        return _configured(settings.OPENID4VCI_CA_CERTIFICATE, settings.OPENID4VCI_CA_PRIVATE_KEY)
    stored = _stored_ca()
    if stored is None:
        stored = _make_ca()
    return x509.certified(bytes(stored.certificate), signer_for(CA_KEY_CONTROLLER, KEY_TYPE))


def trust_anchor_certificate() -> bytes | None:
    """DER of the certificate this service's verifier trusts for its own copies: the issuing
    CA itself; None outside x509 mode or before the CA was made (nothing was issued under it
    yet). Called for every verification: it neither loads the CA's key nor makes a CA."""
    if not x509_mode():
        return None
    if settings.OPENID4VCI_CA_CERTIFICATE:
        return _configured(settings.OPENID4VCI_CA_CERTIFICATE,
                           settings.OPENID4VCI_CA_PRIVATE_KEY).certificate
    stored = _stored_ca()
    return bytes(stored.certificate) if stored else None


@lru_cache(maxsize=4)
def _configured(certificate: str, private_key: str) -> x509.CertifiedSigner:
    return x509.load_ca_pem(_pem(certificate), _pem(private_key))


def _pem(value: str) -> str:
    """PEM text as it is, or the content of the file a path names."""
    if value.lstrip().startswith("-----BEGIN"):
        return value
    return Path(value).read_text(encoding="ascii")


def _stored_ca() -> IssuerCertificate | None:
    active = KeyPair.objects.filter(controller=CA_KEY_CONTROLLER, key_type=KEY_TYPE,
                                    retired_at=None).values_list("key_id", flat=True).first()
    if active is None:
        return None
    return IssuerCertificate.objects.filter(kind=IssuerCertificate.Kind.CA,
                                            key_controller=CA_KEY_CONTROLLER,
                                            key_id=active).first()


def _make_ca(attempts: int = 3) -> IssuerCertificate:
    """The CA's key and self-signed root, made once: of two racing processes the unique
    constraint keeps one, the other reads it."""
    for _ in range(attempts):
        try:
            with transaction.atomic():
                key = ensure_key(CA_KEY_CONTROLLER, KEY_TYPE)
                certified = x509.self_signed_ca(
                    signer_for(CA_KEY_CONTROLLER, KEY_TYPE),
                    f"{settings.PUBLIC_HOST} credential issuing CA",
                    organisation=settings.PUBLIC_HOST)
                return IssuerCertificate.objects.create(
                    kind=IssuerCertificate.Kind.CA, key_controller=CA_KEY_CONTROLLER,
                    key_id=key.key_id, certificate=certified.certificate,
                    not_after=x509.not_after(certified.certificate))
        except IntegrityError:
            stored = _stored_ca()
            if stored is not None:
                return stored
    raise RuntimeError("could not make the issuing CA's certificate")


# --- an organisation's signing certificate -----------------------------------------------------

def issuer_certificate(organisation: Organisation, *,
                       now: datetime | None = None) -> x509.CertifiedSigner | None:
    """The organisation's P-256 signer with the leaf certificate the CA issued for it (made on
    first use, and again when the key rotated or the leaf nears its end); None outside x509
    mode or when no trust anchor attests who the organisation is."""
    if not x509_mode():
        return None
    now = now or datetime.now(UTC)
    legal_person, _ = ServiceTrustRegistry().legal_person(organisation.did, now=now)
    if legal_person is None:
        return None
    ensure_key(organisation.did, KEY_TYPE)
    signer = signer_for(organisation.did, KEY_TYPE)
    key_id = signer.verification_method.partition("#")[2]
    identifier = issuer_identifier(organisation)
    ca = issuing_ca()
    stored = (IssuerCertificate.objects
              .filter(kind=IssuerCertificate.Kind.LEAF, key_controller=organisation.did,
                      key_id=key_id, issuer_identifier=identifier,
                      not_after__gt=now + RENEW_BEFORE).first())
    if stored is None or not _issued_by(stored, ca):
        stored = _make_leaf(organisation, legal_person, signer, key_id, identifier, ca, now)
    return x509.CertifiedSigner(bytes(stored.certificate), signer, _chain_above_leaf(ca))


def _chain_above_leaf(ca: x509.CertifiedSigner) -> tuple[bytes, ...]:
    """What x5c carries after the leaf: nothing for a self-signed CA (the anchor stays out,
    HAIP 1.0), else the CA and the intermediates configured after it."""
    if x509.is_self_signed(ca.certificate):
        return ()
    return (ca.certificate, *ca.intermediates)


def _issued_by(stored: IssuerCertificate, ca: x509.CertifiedSigner) -> bool:
    """A leaf of another CA (the configuration changed) is replaced."""
    return x509.issued_by(bytes(stored.certificate), ca.certificate)


def _make_leaf(organisation: Organisation, legal_person: dict, signer, key_id: str,
               identifier: str, ca: x509.CertifiedSigner, now: datetime) -> IssuerCertificate:
    legal = LegalDetails.objects.filter(organisation=organisation).first()
    der = x509.issue_signing_certificate(
        ca, signer.public_key(), uri=identifier,
        organisation=legal_person.get("name") or organisation.legal_name,
        country=(legal.country if legal else "") or legal_person.get("country", ""),
        organisation_identifier=_organisation_identifier(legal), now=now)
    return IssuerCertificate.objects.create(
        kind=IssuerCertificate.Kind.LEAF, key_controller=organisation.did, key_id=key_id,
        issuer_identifier=identifier, certificate=der, not_after=x509.not_after(der))


def _organisation_identifier(legal: LegalDetails | None) -> str:
    """The EUID, else the VAT number in ETSI EN 319 412-1 §5.1.4 form (`VATNL-...`)."""
    if legal is None:
        return ""
    if legal.euid:
        return legal.euid
    vat = legal.vat_id.replace(" ", "")
    if len(vat) > 2 and vat[:2].isalpha():
        return f"VAT{vat[:2].upper()}-{vat[2:]}"
    return ""


# --- Token Status List tokens -----------------------------------------------------------------

def token_list_identification(issuer_did: str, now: datetime):
    """The Status List Tokens of an organisation whose copies carry `x5c` carry it too, with
    the same `iss` (HAIP 1.0 §6.1, §7: a verifier that knows only the CA checks both); None
    for any other list issuer (credentials.status_registry's default: ES256, did:web `kid`)."""
    from credentials.status_registry import TokenListIdentification

    organisation = _organisation_of_did(issuer_did)
    if organisation is None:
        return None
    certified = issuer_certificate(organisation, now=now)
    if certified is None:
        return None
    return TokenListIdentification(issuer_identifier(organisation), certified.signer,
                                   {"x5c": certified.x5c})


def _organisation_of_did(did: str) -> Organisation | None:
    if not x509_mode() or not did.startswith("did:web:"):
        return None
    slug = did.rsplit(":", 1)[-1]
    organisation = Organisation.objects.filter(slug=slug).first()
    return organisation if organisation is not None and organisation.did == did else None


# --- JWT VC Issuer Metadata ----------------------------------------------------------------------

def jwt_vc_issuer_metadata(organisation: Organisation) -> dict:
    """SD-JWT VC §5: `issuer` (identical to the copies' `iss`) and `jwks` inline."""
    keys = KeyPair.objects.filter(controller=organisation.did,
                                  key_type=KEY_TYPE).order_by("created_at")
    jwks = [{**public_key_of(key).jwk(), "kid": key.verification_method, "use": "sig",
             "alg": "ES256"} for key in keys]
    return {"issuer": issuer_identifier(organisation), "jwks": {"keys": jwks}}
