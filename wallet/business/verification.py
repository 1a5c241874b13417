"""The verifier as the wallet uses it: this service's DID resolver, status lists and trust
registry, and the trust anchors of issuers that are not DIDs (EU PID and (Q)EAA providers).
(Passports add what only they know on top: passports.services.verification.)"""

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from credentials import x509
from credentials.did_web import DidResolver, note_earlier_address
from credentials.foreign_issuers import ForeignIssuers
from credentials.models import KeyPair
from credentials.status_fetcher import StatusFetcher
from credentials.verifier import Verifier
from wallet.business.trust import ServiceTrustRegistry
from wallet.tenancy.models import Organisation


def foreign_issuers(*, own_issuing_ca: bool = True) -> ForeignIssuers:
    """The configured X.509 trust anchors and listed JWT VC Issuer Metadata issuers, and in
    x509 issuer identification (OPENID4VCI_ISSUER_IDENTIFICATION) the service's own issuing
    CA, so that the copies it issued verify as trusted."""
    configured = _foreign_issuers(settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES or "",
                                  tuple(settings.OPENID4VP_TRUSTED_ISSUERS or ()))
    if not own_issuing_ca:
        return configured
    # The own CA is read when an x5c chain is checked, not for every verification.
    return ForeignIssuers(anchors=x509.TrustAnchors(configured.anchors.certificates,
                                                    load_more=_own_issuing_ca),
                          listed=configured.listed)


# The service's own issuing CA (DER), when OpenID4VCI issues with x509 issuer identification:
# openid4vci registers its source here when it loads (openid4vci.apps); the wallet never
# imports a protocol app (docs/architecture.md, Layers).
own_issuing_ca_source: Callable[[], bytes | None] | None = None


def _own_issuing_ca() -> tuple[bytes, ...]:
    certificate = own_issuing_ca_source() if own_issuing_ca_source else None
    return (certificate,) if certificate is not None else ()


def organisation_dids(issuer: str) -> set[str]:
    """The DID of the organisation whose Credential Issuer identifier `issuer` is
    (`{PUBLIC_BASE_URL}/orgs/<slug>`): its copies' status lists are issued under that DID. The
    same for the did:key of an organisation's key (VC-API credentials issued as did:key)."""
    if issuer.startswith("did:key:"):  # the did:key of one of our keys: its controller
        return set(KeyPair.objects.filter(public_key_multibase=issuer.removeprefix("did:key:"))
                   .values_list("controller", flat=True))
    prefix = f"{settings.PUBLIC_BASE_URL}/orgs/"
    if not issuer.startswith(prefix) or "/" in issuer[len(prefix):]:
        return set()
    organisation = Organisation.objects.filter(slug=issuer[len(prefix):]).first()
    return {organisation.did} if organisation else set()


@lru_cache(maxsize=4)
def _foreign_issuers(certificates: str, listed: tuple[str, ...]) -> ForeignIssuers:
    anchors = x509.NO_ANCHORS
    if certificates:
        try:
            pem = (certificates if "-----BEGIN" in certificates
                   else Path(certificates).read_text(encoding="ascii"))
            anchors = x509.load_trust_anchors(pem)
        except (OSError, UnicodeDecodeError) as exc:
            raise ImproperlyConfigured(f"OPENID4VP_TRUSTED_ISSUER_CERTIFICATES: cannot read "
                                       f"{certificates!r} ({exc})") from None
        except x509.CertificateError as exc:
            raise ImproperlyConfigured(
                f"OPENID4VP_TRUSTED_ISSUER_CERTIFICATES: {exc.detail}") from None
    return ForeignIssuers(anchors=anchors, listed=frozenset(listed))


def wallet_verifier(extra_checks=(), read_ahead=None) -> Verifier:
    issuers = foreign_issuers()
    return Verifier(keys=DidResolver(), status=StatusFetcher(foreign_issuers=issuers),
                    trust=ServiceTrustRegistry(),
                    extra_checks=[note_earlier_address, *extra_checks],
                    foreign_issuers=issuers, issuer_aliases=organisation_dids,
                    read_ahead=read_ahead)


def verify(secured, **expected) -> dict:
    return wallet_verifier().verify(secured, **expected)
