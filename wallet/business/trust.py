"""The trust registry the verifier asks: which legal person is behind an issuer's DID?

Answer: the subject of a valid, unrevoked UNTP Digital Identity Anchor credential issued to that
DID by an anchor in the trust registry (TrustedAnchor rows, or TRUSTED_ANCHOR_DIDS); an anchor
on this service is itself the legal person the registry vouches for."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from credentials.did_web import is_hosted_here
from credentials.signing import decode_jwt_parts
from wallet.tenancy.legal_models import TrustedAnchor, WalletCredential
from wallet.tenancy.models import Organisation


def trusted_anchor_dids() -> set[str]:
    dids = set(getattr(settings, "TRUSTED_ANCHOR_DIDS", []))
    for organisation in Organisation.objects.filter(trusted_as_anchor__isnull=False):
        dids.add(organisation.did)
    return dids


def organisation_for_did(did: str) -> Organisation | None:
    """The organisation of `did`: `did:web:<host>:orgs:<slug>` at this service's address, or
    at an earlier one it still holds keys of."""
    organisations = _organisations_of(did)
    return organisations.first() if organisations is not None else None


def _organisations_of(did: str):
    """The query for organisation_for_did (None: `did` is none of ours)."""
    prefix = Organisation(slug="x").did[:-1]  # did:web:<host>:orgs:
    host, separator, slug = did.partition(":orgs:")
    if did.startswith(prefix):
        slug = did[len(prefix):]
    elif not (separator and host.count(":") == 2 and is_hosted_here(did)):
        return None
    return Organisation.objects.filter(slug=slug)


def _is_anchor(organisation_ref: str) -> Exists:
    return Exists(TrustedAnchor.objects.filter(organisation=OuterRef(organisation_ref)))


class ServiceTrustRegistry:
    def legal_person(self, issuer: str, *, now: datetime) -> tuple[dict | None, str]:
        # Asked for every verification, so usually one query: the organisation's current
        # identity credentials, with the organisation and each party's place in the trust
        # registry; the organisation alone only when it holds none. A DID is in
        # trusted_anchor_dids() when the setting names it or it is a TrustedAnchor's DID.
        organisations = _organisations_of(issuer)
        credentials = [] if organisations is None else list(
            WalletCredential.objects
            .filter(holder__in=organisations, kind=WalletCredential.Kind.IDENTITY_ANCHOR,
                    valid_from__lte=now)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
            .select_related("issuer", "holder")
            .annotate(issuer_is_anchor=_is_anchor("issuer"), holder_is_anchor=_is_anchor("holder"))
            .order_by("-created_at"))
        if credentials:
            organisation, is_anchor = credentials[0].holder, credentials[0].holder_is_anchor
        else:
            organisation = (organisations.annotate(is_anchor=_is_anchor("pk")).first()
                            if organisations is not None else None)
            is_anchor = organisation is not None and organisation.is_anchor
        if organisation is None:
            return None, "the issuer is not an organisation registered on this service"
        named = set(getattr(settings, "TRUSTED_ANCHOR_DIDS", []))
        if issuer in named or is_anchor and issuer == organisation.did:
            # an anchor is trusted by the registry itself, not by attestation
            return {"name": organisation.legal_name, "registry_id": "",
                    "register": "trust registry", "anchor": issuer,
                    "anchor_name": organisation.legal_name, "credential": None}, ""
        reasons = []
        for held in credentials:
            if held.state != WalletCredential.State.ACTIVE:
                reasons.append(f"its identity credential from {held.issuer.legal_name} is "
                               f"{held.state}")
                continue
            if not (held.issuer_is_anchor or held.issuer.did in named):
                reasons.append(f"{held.issuer.legal_name} is not in the trust registry")
                continue
            _, dia = decode_jwt_parts(held.credential)
            subject = dia["credentialSubject"]
            return {"name": subject["registeredName"], "registry_id": subject["registeredId"],
                    "register": subject["idScheme"]["name"], "anchor": held.issuer.did,
                    "anchor_name": held.issuer.legal_name,
                    "credential": held.credential_id}, ""
        if not reasons:
            reasons.append("no identity credential from a trust anchor")
        return None, "; ".join(reasons)
