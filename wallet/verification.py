"""The verifier as the wallet uses it: this service's DID resolver, status lists and trust
registry. (Passports add what only they know on top: passports.services.verification.)"""

from credentials.did_web import DidResolver
from credentials.status_fetcher import StatusFetcher
from credentials.verifier import Verifier
from wallet.trust import ServiceTrustRegistry


def wallet_verifier(extra_checks=()) -> Verifier:
    return Verifier(keys=DidResolver(), status=StatusFetcher(), trust=ServiceTrustRegistry(),
                    extra_checks=list(extra_checks))


def verify(secured, **expected) -> dict:
    return wallet_verifier().verify(secured, **expected)
