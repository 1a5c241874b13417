"""The trust registry the verifier asks: which legal person is behind an issuer's DID?

Answer: the subject of a valid, unrevoked UNTP Digital Identity Anchor credential issued to that
DID by an anchor in the trust registry (TrustedAnchor rows, or TRUSTED_ANCHOR_DIDS); an anchor
on this service is itself the legal person the registry vouches for."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection

from core import hot_queries
from credentials.did_web import is_hosted_here, organisation_did
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
    slug = slug_of(did)
    return None if slug is None else Organisation.objects.filter(slug=slug).first()


def slug_of(did: str) -> str | None:
    """The slug of `did` when it names an organisation of ours (at this service's address or an
    earlier one), else None."""
    prefix = organisation_did("x")[:-1]  # did:web:<host>:orgs:
    host, separator, slug = did.partition(":orgs:")
    if did.startswith(prefix):
        return did[len(prefix):]
    if not (separator and host.count(":") == 2 and is_hosted_here(did)):
        return None
    return slug


@functools.cache
def _registry_sql() -> str:
    """The organisation of a slug with its place in the trust registry, and its identity
    credentials valid at a moment (newest first), each with its issuer and the issuer's place:
    one row per credential, or one row with the credential's columns NULL when it holds none."""
    organisation, anchor = Organisation._meta.db_table, TrustedAnchor._meta.db_table
    held = WalletCredential._meta.db_table
    return (f"SELECT o.legal_name, oa.id IS NOT NULL, c.state, c.credential, "  # noqa: S608
            f"c.credential_id, i.slug, i.legal_name, ia.id IS NOT NULL "
            f"FROM {organisation} o "
            f"LEFT JOIN {anchor} oa ON oa.organisation_id = o.id "
            f"LEFT JOIN {held} c ON c.holder_id = o.id AND c.kind = %s AND c.valid_from <= %s "
            f"AND (c.valid_until IS NULL OR c.valid_until > %s) "
            f"LEFT JOIN {organisation} i ON i.id = c.issuer_id "
            f"LEFT JOIN {anchor} ia ON ia.organisation_id = i.id "
            f"WHERE o.slug = %s ORDER BY c.created_at DESC")


@dataclass(frozen=True)
class _Held:
    """An identity credential as legal_person reads it."""

    state: str
    credential: str
    credential_id: str
    issuer_did: str
    issuer_name: str
    issuer_is_anchor: bool


def _registry_rows(slug: str, now: datetime) -> tuple[tuple[str, bool] | None, list[_Held]]:
    """((legal name, is anchor) of the organisation or None, its identity credentials). Plain
    SQL: asked for every verification, and building the ORM query (a select_related and two
    Exists annotations) cost more CPU than everything else the verifier does."""
    rows = hot_queries.rows(*registry_query(slug, now)[:2])
    if not rows:
        return None, []
    organisation = (rows[0][0], bool(rows[0][1]))
    held = [_Held(state=state, credential=credential, credential_id=credential_id,
                  issuer_did=organisation_did(issuer_slug), issuer_name=issuer_name,
                  issuer_is_anchor=bool(issuer_is_anchor))
            for _, _, state, credential, credential_id, issuer_slug, issuer_name,
            issuer_is_anchor in rows if credential_id is not None]
    return organisation, held


def registry_query(slug: str, now: datetime) -> hot_queries.Query:
    """What _registry_rows asks the database (asked ahead with others by the passports layer)."""
    moment = WalletCredential._meta.get_field("valid_from").get_db_prep_value(now, connection)
    return hot_queries.Query(_registry_sql(), (WalletCredential.Kind.IDENTITY_ANCHOR.value,
                                               moment, moment, slug), 8)


class ServiceTrustRegistry:
    def legal_person(self, issuer: str, *, now: datetime) -> tuple[dict | None, str]:
        # Asked for every verification: one query (_registry_rows). A DID is in
        # trusted_anchor_dids() when the setting names it or it is a TrustedAnchor's DID.
        slug = slug_of(issuer)
        organisation, credentials = (None, []) if slug is None else _registry_rows(slug, now)
        if organisation is None:
            return None, "the issuer is not an organisation registered on this service"
        legal_name, is_anchor = organisation
        named = set(getattr(settings, "TRUSTED_ANCHOR_DIDS", []))
        if issuer in named or is_anchor and issuer == organisation_did(slug):
            # an anchor is trusted by the registry itself, not by attestation
            return {"name": legal_name, "registry_id": "",
                    "register": "trust registry", "anchor": issuer,
                    "anchor_name": legal_name, "credential": None}, ""
        reasons = []
        for held in credentials:
            if held.state != WalletCredential.State.ACTIVE:
                reasons.append(f"its identity credential from {held.issuer_name} is "
                               f"{held.state}")
                continue
            if not (held.issuer_is_anchor or held.issuer_did in named):
                reasons.append(f"{held.issuer_name} is not in the trust registry")
                continue
            subject = _anchored_subject(held.credential)
            return {"name": subject["registeredName"], "registry_id": subject["registeredId"],
                    "register": subject["idScheme"]["name"], "anchor": held.issuer_did,
                    "anchor_name": held.issuer_name,
                    "credential": held.credential_id}, ""
        if not reasons:
            reasons.append("no identity credential from a trust anchor")
        return None, "; ".join(reasons)


@functools.lru_cache(maxsize=256)
def _anchored_subject(credential: str) -> dict:
    """The subject of an identity credential (a compact JWT this service stored): decoded once
    per process, as the same few are read for every verification. Not to be mutated."""
    _, dia = decode_jwt_parts(credential)
    return dia["credentialSubject"]
