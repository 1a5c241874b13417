"""Mandates: an organisation lets a person or another organisation act for it, one scope each.

Each mandate is also an SD-JWT VC signed by the organisation (held by the service for a person,
bound to the grantee's key for an organisation), with a Token Status List entry, so it can be
shown to others and suspended or revoked cryptographically as well as here."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import events
from credentials import signing
from credentials.models import StatusList
from credentials.status_registry import allocate, status_list_url
from wallet.tenancy.credential_status import credential_url
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import Mandate, WalletCredential
from wallet.tenancy.models import Organisation

MANDATE_VCT = "https://w3id.org/dpp-wallet/vct/mandate/v1"


def _person_id(organisation: Organisation, user) -> str:
    # A person has no DID here: the organisation's wallet holds the mandate on their behalf.
    return f"{settings.PUBLIC_BASE_URL}/orgs/{organisation.slug}/members/{user.pk}"


@transaction.atomic
def mandate_grant(*, organisation: Organisation, scope: str, user=None,
                  grantee: Organisation | None = None, valid_from: datetime | None = None,
                  valid_until: datetime | None = None, created_by=None) -> Mandate:
    now = timezone.now().replace(microsecond=0)
    mandate = Mandate(organisation=organisation, scope=scope, grantee_user=user,
                      grantee_organisation=grantee, valid_from=valid_from or now,
                      valid_until=valid_until, created_by=created_by)
    mandate.full_clean()
    if valid_until and valid_until <= mandate.valid_from:
        raise ValidationError({"valid_until": "The mandate must end after it starts."})
    [(status_list, index)] = allocate(organisation.did, kind=StatusList.Kind.TOKEN,
                                      purpose=StatusList.Purpose.STATUS)
    credential_id = credential_url(organisation)
    claims = {"vct": MANDATE_VCT, "iss": organisation.did, "jti": credential_id,
              "sub": grantee.did if grantee else _person_id(organisation, user),
              "principal": {"id": organisation.did, "legal_name": organisation.legal_name},
              "scope": scope}
    if user is not None:
        claims["representative"] = {"name": user.get_full_name() or user.get_username()}
    sd_jwt = signing.secure_sd_jwt(
        claims, signing.signer_for(organisation.did),
        disclosable=["principal", "scope"] + (["representative"] if user else []),
        holder_key=signing.signer_for(grantee.did).public_key() if grantee else None,
        status={"status_list": {"idx": index, "uri": status_list_url(status_list.id)}},
        nbf=int(mandate.valid_from.timestamp()),
        exp=int(valid_until.timestamp()) if valid_until else None)
    mandate.credential = WalletCredential.objects.create(
        kind=WalletCredential.Kind.MANDATE, format="dc+sd-jwt", issuer=organisation,
        holder=grantee, credential_id=credential_id, credential=sd_jwt,
        status_list=status_list, status_index=index, valid_from=mandate.valid_from,
        valid_until=valid_until)
    mandate.save()
    return mandate


def active_mandate(*, user, organisation: Organisation, scope: str,
                   now: datetime | None = None) -> Mandate | None:
    """The mandate that lets `user` act for `organisation` within `scope` right now, or None.
    Read from the database on every call, so a revocation takes effect at once."""
    now = now or timezone.now()
    return (Mandate.objects
            .filter(organisation=organisation, grantee_user=user, scope=scope,
                    state=Mandate.State.ACTIVE, valid_from__lte=now)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
            .order_by("-created_at").first())


def active_mandate_among(ids, *, organisation: Organisation, scope: str,
                         now: datetime | None = None) -> Mandate | None:
    """The one of the mandates `ids` (presented at a login) that lets its holder act for
    `organisation` within `scope` right now, or None. Read fresh, like active_mandate."""
    now = now or timezone.now()
    return (Mandate.objects
            .filter(pk__in=ids, organisation=organisation, scope=scope,
                    state=Mandate.State.ACTIVE, valid_from__lte=now)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
            .order_by("-created_at").first())


def active_mandate_for_organisation(*, grantee: Organisation, organisation: Organisation,
                                    scope: str, now: datetime | None = None) -> Mandate | None:
    now = now or timezone.now()
    return (Mandate.objects
            .filter(organisation=organisation, grantee_organisation=grantee, scope=scope,
                    state=Mandate.State.ACTIVE, valid_from__lte=now)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now)).first())


def _transition(mandate: Mandate, to_state: str, reason: str) -> Mandate:
    from wallet.tenancy.credential_status import wallet_credential_set_state

    mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.state == Mandate.State.REVOKED:
        raise WalletError("a revoked mandate stays revoked", code="revoked_is_final")
    mandate.state, mandate.state_reason = to_state, reason
    mandate.save(update_fields=["state", "state_reason"])
    if mandate.credential_id:
        wallet_credential_set_state(mandate.credential, to_state, reason)
    return mandate


@transaction.atomic
def mandate_revoke(*, mandate: Mandate, reason: str = "") -> Mandate:
    mandate = _transition(mandate, Mandate.State.REVOKED, reason)
    events.publish(events.MANDATE_REVOKED,  # webhooks, after commit
                   organisations={mandate.organisation_id, mandate.grantee_organisation_id}
                   - {None}, payload={"mandate": str(mandate.pk), "scope": mandate.scope,
                                      "reason": reason})
    return mandate


@transaction.atomic
def mandate_suspend(*, mandate: Mandate, reason: str = "") -> Mandate:
    return _transition(mandate, Mandate.State.SUSPENDED, reason)


@transaction.atomic
def mandate_reinstate(*, mandate: Mandate, reason: str = "") -> Mandate:
    return _transition(mandate, Mandate.State.ACTIVE, reason)
