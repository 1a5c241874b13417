"""Verifying passports and any credential, the same way for partners, the VC-API and the
public page: the engine's verifier, with this service's resolver, status lists, and what only
the service knows (a passport suspended or superseded here)."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from core import hot_queries
from credentials.did_web import earlier_address, organisation_did, own_url_path
from credentials.status_fetcher import own_entry_query
from credentials.verifier import Verifier, status_entries
from passports.models import Passport, Product
from wallet.business import trust
from wallet.business.verification import wallet_verifier
from wallet.tenancy.models import Organisation

# The ids our passport credentials carry: the public address, and the API address of those
# signed before it existed; each with `/<access group>` for a restricted group's credential.
CREDENTIAL_PATHS = re.compile(
    r"^/(?:passports/(?P<public>[0-9a-f-]{36})|api/v1/passports/(?P<api>[0-9a-f-]{36})"
    r"/credential)(?:/[a-z_]+)?$")


def passport_for_credential(credential: dict) -> PassportState | None:
    """The state of the passport a credential (or one of its restricted group credentials)
    belongs to, by its id at this service's address (or an earlier one: own_url_path)."""
    passport_id = _passport_id(credential)
    return None if passport_id is None else _passport_state(passport_id)


def _passport_id(credential: dict) -> uuid.UUID | None:
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    path = own_url_path(credential_id)
    match = CREDENTIAL_PATHS.match(path) if path else None
    if match is None:
        return None
    try:
        return uuid.UUID(match["public"] or match["api"])
    except ValueError:
        return None


def read_ahead(credential: dict, now: datetime):
    """What a credential's checks will ask PostgreSQL, asked in one statement before they run
    (core.hot_queries.asked_together): the issuer's place in the trust registry, its own status
    list entries and its passport's state, which three layers ask one after the other (three
    round trips and three executions per uncached verification). Each check still asks its
    question and judges the answer as before; an answer not read ahead is read then."""
    queries = []
    issuer = credential.get("issuer", credential.get("iss"))
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    slug = trust.slug_of(issuer_id) if isinstance(issuer_id, str) and issuer_id else None
    if slug is not None:
        queries.append(trust.registry_query(slug, now))
    for kind, _, index, url in status_entries(credential):
        query = own_entry_query(kind, url, index)
        if query is not None:
            queries.append(query)
    passport_id = _passport_id(credential)
    if passport_id is not None:
        queries.append(_passport_query(passport_id))
    return hot_queries.asked_together(queries)


@dataclass(frozen=True, slots=True)
class PassportState:
    """What the state check reads of a passport and of its organisation (one query)."""

    id: uuid.UUID
    version: int
    state: str
    state_reason: str
    superseded_by_id: uuid.UUID | None
    organisation_slug: str

    @property
    def organisation_did(self) -> str:
        return organisation_did(self.organisation_slug)


@functools.cache
def _passport_sql() -> str:
    passport, product = Passport._meta, Product._meta
    organisation = Organisation._meta
    return (f"SELECT p.id, p.version, p.state, p.state_reason, p.superseded_by_id, "  # noqa: S608
            f"o.slug FROM {passport.db_table} p "
            f"JOIN {product.db_table} pr ON pr.id = p.product_id "
            f"JOIN {organisation.db_table} o ON o.id = pr.organisation_id WHERE p.id = %s")


def _passport_query(passport_id: uuid.UUID) -> hot_queries.Query:
    return hot_queries.Query(
        _passport_sql(), (Passport._meta.pk.get_db_prep_value(passport_id, connection),), 6)


def _passport_state(passport_id: uuid.UUID) -> PassportState | None:
    """Plain SQL into a plain record: asked for every verification, and building the ORM query
    (select_related, defer) and then three model instances cost more CPU than the round trip.
    Ids are converted as the ORM converts them (a uuid from SQLite's text)."""
    pk_field = Passport._meta.pk
    row = hot_queries.one(*_passport_query(passport_id)[:2])
    if row is None:
        return None
    id_, version, state, reason, superseded_by, slug = row
    return PassportState(id=pk_field.to_python(id_), version=version, state=state,
                         state_reason=reason or "",
                         superseded_by_id=None if superseded_by is None
                         else pk_field.to_python(superseded_by),
                         organisation_slug=slug)


def issued_by_its_organisation(passport: PassportState, verdict: dict) -> bool:
    """Whether the verdict's issuer is the passport's organisation, by its DID at this address
    or an earlier one: anyone can copy a passport's id into a credential, not its issuer."""
    issuer = (verdict.get("issuer") or {}).get("id")
    if not isinstance(issuer, str):
        return False
    return issuer == passport.organisation_did or (
        issuer.endswith(f":orgs:{passport.organisation_slug}")
        and earlier_address(issuer) is not None)


def service_state_check(credential: dict, verdict: dict) -> None:
    """Add what the service knows about its own passports to the verdict."""
    passport = passport_for_credential(credential)
    if passport is None or not issued_by_its_organisation(passport, verdict):
        return
    verdict["passport"] = {"id": str(passport.id), "version": passport.version,
                           "state": passport.state}
    if passport.state in (Passport.State.SUSPENDED, Passport.State.REVOKED):
        verdict["passport"]["reason"] = passport.state_reason or ""
    if passport.state == Passport.State.SUSPENDED:
        # The credential carries a revocation entry only (UNTP 0.7.0): suspension is ours.
        verdict["checks"].append({"check": "status", "ok": False, "purpose": "suspension",
                                  "detail": "suspended",
                                  "reason": passport.state_reason or ""})
    elif passport.state == Passport.State.REVOKED:
        # Our own lists are read with their pending changes, so the status check normally
        # says revoked already; the passport's state is the backstop (e.g. a restricted
        # credential, which has no status entry).
        revoked = [c for c in verdict["checks"]
                   if c["check"] == "status" and c.get("detail") == "revoked"]
        for check in revoked:
            check["reason"] = passport.state_reason or ""
        if not revoked:
            verdict["checks"].append({"check": "status", "ok": False, "purpose": "revocation",
                                      "detail": "revoked",
                                      "reason": passport.state_reason or ""})
    elif passport.state == Passport.State.SUPERSEDED:
        current = _current_version(Passport.objects.get(pk=passport.id))
        verdict["superseded_by"] = {"id": str(current.pk), "version": current.version,
                                    "credential_url": current.credential_url}
        verdict["warnings"].append(
            f"superseded: version {passport.version} was replaced by version {current.version}")


def _current_version(passport: Passport) -> Passport:
    current = passport
    while current.superseded_by_id is not None and current.superseded_by is not None:
        current = current.superseded_by
    return current


def plain_verifier() -> Verifier:
    """The verifier without following evidence links: what each linked credential gets."""
    return wallet_verifier(extra_checks=[service_state_check], read_ahead=read_ahead)


def verifier() -> Verifier:
    return wallet_verifier(extra_checks=[service_state_check, evidence_check],
                           read_ahead=read_ahead)


def evidence_check(credential: dict, verdict: dict) -> None:
    """The evidence tree of a credential that links others (docs/evidence.md)."""
    from passports.services.evidence_tree import evidence_tree

    evidence_tree(credential, verdict)


def verify_credential(secured, **expected) -> dict:
    """The verdict for any credential or presentation (docs/architecture.md, Verdict)."""
    return verifier().verify(secured, **expected)


def verify_passport_uncached(passport: Passport) -> dict:
    """The verdict for one of our passports, from its stored credential."""
    if not passport.jwt:
        return {"verified": False, "format": "vc+jwt", "issuer": None,
                "checks": [{"check": "issued", "ok": False, "detail": passport.state}],
                "errors": [f"issued: the passport is {passport.state}"], "warnings": [],
                "credential": None}
    return verify_credential(passport.jwt)

