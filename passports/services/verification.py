"""Verifying passports and any credential, the same way for partners, the VC-API and the
public page: the engine's verifier, with this service's resolver, status lists, and what only
the service knows (a passport suspended or superseded here)."""

from __future__ import annotations

import re
import uuid

from credentials.did_web import earlier_address, own_url_path
from credentials.verifier import Verifier
from passports.models import Passport
from wallet.verification import wallet_verifier  # resolver, status lists, trust registry

# The ids our passport credentials carry: the public address, and the API address of those
# signed before it existed; each with `/<access group>` for a restricted group's credential.
CREDENTIAL_PATHS = re.compile(
    r"^/(?:passports/(?P<public>[0-9a-f-]{36})|api/v1/passports/(?P<api>[0-9a-f-]{36})"
    r"/credential)(?:/[a-z_]+)?$")


def passport_for_credential(credential: dict) -> Passport | None:
    """The passport a credential (or one of its restricted group credentials) belongs to, by
    its id at this service's address (or an earlier one: own_url_path)."""
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    path = own_url_path(credential_id)
    match = CREDENTIAL_PATHS.match(path) if path else None
    if match is None:
        return None
    try:
        passport_id = uuid.UUID(match["public"] or match["api"])
    except ValueError:
        return None
    # Asked for every verification: one query, without the credentials and attributes the
    # check never reads (kilobytes a row).
    return (Passport.objects.select_related("superseded_by", "product__organisation")
            .defer("jwt", "embedded", "superseded_by__jwt", "superseded_by__embedded",
                   "product__attributes", "product__description")
            .filter(pk=passport_id).first())


def issued_by_its_organisation(passport: Passport, verdict: dict) -> bool:
    """Whether the verdict's issuer is the passport's organisation, by its DID at this address
    or an earlier one: anyone can copy a passport's id into a credential, not its issuer."""
    issuer = (verdict.get("issuer") or {}).get("id")
    organisation = passport.product.organisation
    if not isinstance(issuer, str):
        return False
    return issuer == organisation.did or (issuer.endswith(f":orgs:{organisation.slug}")
                                          and earlier_address(issuer) is not None)


def service_state_check(credential: dict, verdict: dict) -> None:
    """Add what the service knows about its own passports to the verdict."""
    passport = passport_for_credential(credential)
    if passport is None or not issued_by_its_organisation(passport, verdict):
        return
    verdict["passport"] = {"id": str(passport.pk), "version": passport.version,
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
        current = _current_version(passport)
        verdict["superseded_by"] = {"id": str(current.pk), "version": current.version,
                                    "credential_url": current.credential_url}
        verdict["warnings"].append(
            f"superseded: version {passport.version} was replaced by version {current.version}")


def _current_version(passport: Passport) -> Passport:
    current = passport
    while current.superseded_by_id is not None and current.superseded_by is not None:
        current = current.superseded_by
    return current


def verifier() -> Verifier:
    return wallet_verifier(extra_checks=[service_state_check])


def verify_credential(secured, **expected) -> dict:
    """The verdict for any credential or presentation (DESIGN §5 Verdict)."""
    return verifier().verify(secured, **expected)


def verify_passport(passport: Passport) -> dict:
    """The verdict for one of our passports, from its stored credential."""
    if not passport.jwt:
        return {"verified": False, "format": "vc+jwt", "issuer": None,
                "checks": [{"check": "issued", "ok": False, "detail": passport.state}],
                "errors": [f"issued: the passport is {passport.state}"], "warnings": [],
                "credential": None}
    return verify_credential(passport.jwt)

