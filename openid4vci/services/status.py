"""Copies in wallets share their source's fate. A copy that carries its source's own Token
Status List entry needs nothing here; a copy with an entry of its own (passports, access roles,
and a source credential without an entry) is changed here, in the transaction that changes the
source, and published with it (credentials.status_registry coalesces the re-signing)."""

from __future__ import annotations

from django.db.models import Q

from core.bulk import any_of
from credentials.status_list import TokenStatus
from credentials.status_registry import status_changes
from openid4vci.models import CredentialOffer
from passports.models import Passport
from wallet.tenancy.legal_models import WalletCredential

PASSPORT_STATUS = {Passport.State.ISSUED: TokenStatus.VALID,
                   Passport.State.SUSPENDED: TokenStatus.SUSPENDED,
                   Passport.State.REVOKED: TokenStatus.INVALID}  # superseded: still true
CREDENTIAL_STATUS = {WalletCredential.State.ACTIVE: TokenStatus.VALID,
                     WalletCredential.State.SUSPENDED: TokenStatus.SUSPENDED,
                     WalletCredential.State.REVOKED: TokenStatus.INVALID}


def _set(offers, value: TokenStatus) -> int:
    entries = list(offers.filter(status_list__isnull=False)
                   .values_list("status_list_id", "status_index").distinct())
    status_changes((list_id, index, value) for list_id, index in entries)
    return len(entries)


def copies_follow_passports(passport_ids, state: str) -> int:
    """Passports revoked, suspended or reinstated: so are their copies."""
    value = PASSPORT_STATUS.get(state)
    if value is None:
        return 0
    return _set(CredentialOffer.objects.filter(any_of("passport", passport_ids)), value)


def copies_follow_entitlement_withdrawn(entitlement_id) -> int:
    """An entitlement taken away: the access roles issued for it are revoked."""
    return _set(CredentialOffer.objects.filter(entitlement_id=entitlement_id),
                TokenStatus.INVALID)


def copies_follow_credential(held: WalletCredential) -> int:
    """A source credential changed state: copies with entries of their own follow it (copies
    carrying the source's own entry changed with it already)."""
    value = CREDENTIAL_STATUS.get(held.state)
    if value is None:
        return 0
    sources = Q(wallet_credential=held) | Q(mandate__credential=held)
    if held.attestation_id and held.kind == WalletCredential.Kind.BUSINESS_IDENTITY:
        sources |= Q(attestation_id=held.attestation_id,
                     configuration=CredentialOffer.Configuration.BUSINESS_IDENTITY)
    offers = CredentialOffer.objects.filter(sources)
    if held.status_list_id is not None:
        offers = offers.exclude(status_list_id=held.status_list_id,
                                status_index=held.status_index)
    return _set(offers, value)
