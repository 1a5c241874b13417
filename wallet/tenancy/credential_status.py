"""Suspending, reinstating and revoking credentials the wallet issued: the state here and the
recorded status-list change commit together; a Celery task re-signs the list soon after."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction

from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import WalletCredential
from wallet.tenancy.models import Organisation

# IETF Token Status List values (2 bits): 0 valid, 1 invalid, 2 suspended.
TOKEN_VALUES = {WalletCredential.State.ACTIVE: 0, WalletCredential.State.REVOKED: 1,
                WalletCredential.State.SUSPENDED: 2}


def credential_url(issuer: Organisation) -> str:
    return f"{settings.PUBLIC_BASE_URL}/orgs/{issuer.slug}/credentials/{uuid.uuid4()}"


def _flip(credential: WalletCredential, to_state: str) -> None:
    from credentials.status_registry import status_change

    if credential.status_list_id is None:
        return
    if credential.format == "dc+sd-jwt":
        value = TOKEN_VALUES[to_state]
    else:  # a Bitstring revocation entry: set means revoked
        value = 1 if to_state == WalletCredential.State.REVOKED else 0
    # Recorded in this transaction; the list is re-signed (coalesced) after commit.
    status_change(credential.status_list_id, credential.status_index, value)


def wallet_credential_set_state(credential: WalletCredential, to_state: str,
                                reason: str = "") -> WalletCredential:
    credential = WalletCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.state == WalletCredential.State.REVOKED:
        raise WalletError("a revoked credential stays revoked", code="revoked_is_final")
    if to_state == WalletCredential.State.SUSPENDED and credential.format != "dc+sd-jwt":
        raise WalletError("only SD-JWT credentials (Token Status List) can be suspended; "
                          "this one can only be revoked", code="not_suspendable")
    credential.state, credential.state_reason = to_state, reason
    credential.save(update_fields=["state", "state_reason", "updated_at"])
    _flip(credential, to_state)
    return credential


@transaction.atomic
def wallet_credential_revoke(*, credential: WalletCredential, reason: str = "") -> None:
    wallet_credential_set_state(credential, WalletCredential.State.REVOKED, reason)


@transaction.atomic
def wallet_credential_suspend(*, credential: WalletCredential, reason: str = "") -> None:
    wallet_credential_set_state(credential, WalletCredential.State.SUSPENDED, reason)


@transaction.atomic
def wallet_credential_reinstate(*, credential: WalletCredential, reason: str = "") -> None:
    wallet_credential_set_state(credential, WalletCredential.State.ACTIVE, reason)
