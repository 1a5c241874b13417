"""The verifier as the wallet uses it: this service's DID resolver, status lists and trust
registry, and the trust anchors of issuers that are not DIDs (EU PID and (Q)EAA providers).
(Passports add what only they know on top: passports.services.verification.)"""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from credentials import x509
from credentials.did_web import DidResolver
from credentials.foreign_issuers import ForeignIssuers
from credentials.status_fetcher import StatusFetcher
from credentials.verifier import Verifier
from wallet.trust import ServiceTrustRegistry


def foreign_issuers() -> ForeignIssuers:
    """The configured X.509 trust anchors and listed JWT VC Issuer Metadata issuers."""
    return _foreign_issuers(settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES or "",
                            tuple(settings.OPENID4VP_TRUSTED_ISSUERS or ()))


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


def wallet_verifier(extra_checks=()) -> Verifier:
    issuers = foreign_issuers()
    return Verifier(keys=DidResolver(), status=StatusFetcher(foreign_issuers=issuers),
                    trust=ServiceTrustRegistry(), extra_checks=list(extra_checks),
                    foreign_issuers=issuers)


def verify(secured, **expected) -> dict:
    return wallet_verifier().verify(secured, **expected)
