"""Checking a VP Token against its request (OpenID4VP 1.0 §8.6 "VP Token Validation").

Each presentation goes through the service's verifier (issuer signature, the issuer's legal
person, validity, token status) with key binding required and bound to the request's
`client_id` (aud) and `nonce`; then this Verifier's policy: an issuer it trusts (a legal person
attested by a trusted anchor, or a trusted anchor itself; optionally only some issuers), a `vct` the
query asked for, every requested claim and no unrequested one. A failed presentation is
discarded (§8.6); the response is accepted only when what remains satisfies the query
(`credential_sets` included)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from credentials import jose, sd_jwt, x509
from credentials.encoding import b64url_encode
from credentials.errors import CredentialError
from openid4vp import dcql
from wallet.business.verification import organisation_dids, wallet_verifier

# Failures that are about the protocol (the response does not belong to this request, or is
# not well formed): the Wallet gets `invalid_request`. Anything else is a credential the
# Verifier does not accept: `access_denied`.
PROTOCOL_CODES = frozenset({"malformed", "replay", "nonce", "audience", "key_binding",
                            "not_requested", "format"})
HIDDEN_CLAIMS = frozenset({"cnf", "_sd_alg"})  # technical, not shown as disclosed data


class ResponseMalformed(ValueError):
    """The VP Token itself is not what §8.1 defines."""


def parse_vp_token(value: Any, query: dict) -> dict[str, list[str]]:
    """The VP Token as {credential query id: [presentation, ...]} (§8.1), or ResponseMalformed.
    In a form post it is a JSON string; inside an encrypted response, already an object."""
    if isinstance(value, str):
        try:  # strict: duplicate members, NaN and hostile nesting are refused, not crashed on
            value = jose.loads_json(value.encode("utf-8"))
        except ValueError as exc:
            raise ResponseMalformed(f"vp_token: not a JSON object ({exc})") from None
    if not isinstance(value, dict) or not value:
        raise ResponseMalformed("vp_token: must be a non-empty JSON object keyed by the "
                                "credential query ids")
    queries = dcql.credential_queries(query)
    for query_id, presentations in value.items():
        if query_id not in queries:
            raise ResponseMalformed(f"vp_token: {query_id!r} is not a credential query of "
                                    f"this request")
        if (not isinstance(presentations, list) or not presentations
                or not all(isinstance(p, str) and p for p in presentations)):
            raise ResponseMalformed(f"vp_token: {query_id!r} must be a non-empty array of "
                                    f"presentations (strings)")
        if len(presentations) > 1 and not queries[query_id].get("multiple", False):
            raise ResponseMalformed(f"vp_token: {query_id!r} allows one presentation "
                                    f"(multiple is not set), got {len(presentations)}")
    return value


def presentation_digest(presentation: str) -> str:
    return hashlib.sha256(presentation.encode("utf-8")).hexdigest()


@dataclass
class PresentationOutcome:
    """The verdict on one presentation, as the result shows it."""

    credential_query_id: str
    ok: bool
    code: str = ""
    reason: str = ""
    vct: str | None = None
    issuer: dict | None = None
    holder: str | None = None
    claims: dict = field(default_factory=dict)
    disclosed: list[list] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Evaluation:
    ok: bool
    code: str
    reason: str
    presentations: list[PresentationOutcome]

    @property
    def wallet_error(self) -> str:
        return "invalid_request" if self.code in PROTOCOL_CODES else "access_denied"

    def result(self) -> dict:
        """What the stored request shows: each credential's verdict and what was disclosed."""
        return {"credentials": [p.as_dict() for p in self.presentations],
                "disclosed": {p.credential_query_id: p.claims
                              for p in self.presentations if p.ok}}


def evaluate(vp_token: dict[str, list[str]], *, query: dict, client_id: str, nonce: str,
             accepted_issuers: list[str] | None = None) -> Evaluation:
    """The verdict on a parsed VP Token for the request with this query, client id and nonce.
    (Replays are checked by the caller, which knows the presentations seen before.)"""
    queries = dcql.credential_queries(query)
    asked = dcql.requested_ids(query)
    verifier = wallet_verifier()
    outcomes = []
    for query_id, presentations in vp_token.items():
        for presentation in presentations:
            if query_id not in asked:
                outcomes.append(PresentationOutcome(
                    query_id, False, "not_requested",
                    f"{query_id}: not in any option of the query's credential_sets"))
                continue
            outcomes.append(_presentation(
                query_id, presentation, queries[query_id], query, verifier=verifier,
                client_id=client_id, nonce=nonce,
                accepted_issuers=accepted_issuers))
    answered = {o.credential_query_id for o in outcomes if o.ok}
    satisfied, missing = dcql.sets_satisfied(query, answered)
    failed = [o for o in outcomes if not o.ok]
    if satisfied:
        return Evaluation(True, "", "", outcomes)
    if failed:  # the reason it is not satisfied is a presentation that was refused
        return Evaluation(False, failed[0].code, "; ".join(
            f"{o.credential_query_id}: {o.reason}" for o in failed), outcomes)
    return Evaluation(False, "missing_credential", missing, outcomes)


def _presentation(query_id: str, presentation: str, credential_query: dict, query: dict, *,
                  verifier, client_id: str, nonce: str,
                  accepted_issuers: list[str] | None) -> PresentationOutcome:
    outcome = PresentationOutcome(query_id, False)
    verdict = verifier.verify(presentation, aud=client_id, nonce=nonce,
                              require_key_binding=True)
    outcome.checks = verdict.get("checks", [])
    outcome.issuer = verdict.get("issuer")
    if verdict.get("format") != dcql.FORMAT:
        return _refused(outcome, "format", f"expected a {dcql.FORMAT} presentation, got "
                                           f"{verdict.get('format')}")
    if not verdict["verified"]:
        return _refused(outcome, _failure_code(verdict), "; ".join(verdict["errors"]))
    credential = verdict["credential"]
    outcome.vct = credential.get("vct")
    outcome.holder = credential.get("sub")
    issuer = (outcome.issuer or {}).get("id")
    # One of our organisations known by x5c (HAIP 1.0) is named by its https Credential Issuer
    # identifier; the policy (and whoever reads the result) knows it by its DID.
    dids = sorted(organisation_dids(issuer)) if isinstance(issuer, str) else []
    did = dids[0] if dids else None
    if did is not None:
        outcome.issuer = {**outcome.issuer, "did": did}
    if accepted_issuers is not None and not {issuer, did} & set(accepted_issuers):
        return _refused(outcome, "untrusted_issuer",
                        f"issuer {issuer} is not one this request accepts")
    if not (outcome.issuer or {}).get("trusted"):
        why = next((w for w in verdict.get("warnings", []) if w.startswith("issuer not")),
                   "issuer not trusted")
        return _refused(outcome, "untrusted_issuer", f"{why} ({issuer})")
    unmatched = _trusted_authorities_unmatched(credential_query, presentation)
    if unmatched:
        return _refused(outcome, "untrusted_issuer", unmatched)
    if outcome.vct not in credential_query["meta"]["vct_values"]:
        return _refused(outcome, "vct", f"vct {outcome.vct!r} is not among the requested "
                                        f"{credential_query['meta']['vct_values']}")
    disclosed = disclosed_paths(presentation)
    outcome.disclosed = [list(path) for path in disclosed]
    outcome.claims = {name: value for name, value in credential.items()
                      if name not in HIDDEN_CLAIMS}
    claims = dcql.check_claims(credential_query, credential, disclosed,
                               also_allowed=_same_credential_claims(query, credential_query,
                                                                    outcome.vct))
    if not claims.ok:
        return _refused(outcome, claims.code, claims.reason)
    outcome.ok = True
    return outcome


def _trusted_authorities_unmatched(credential_query: dict, presentation: str) -> str:
    """Why the credential matches none of the query's `trusted_authorities` of type `aki`
    (OpenID4VP 1.0 §6.1.1, HAIP 1.0 §5): the base64url KeyIdentifier of the
    AuthorityKeyIdentifier of a certificate in the credential's `x5c`. "" when it matches, or
    when the query names no `aki` (other types are not evaluated here)."""
    wanted = {value for entry in credential_query.get("trusted_authorities", [])
              if entry.get("type") == "aki" for value in entry.get("values", [])}
    if not wanted:
        return ""
    try:
        header = jose.decode(sd_jwt.SdJwt.parse(presentation).jwt).header
        found = x509.authority_key_identifiers(header.get("x5c"))
    except (CredentialError, ValueError):
        found = set()
    if not {b64url_encode(identifier) for identifier in found} & wanted:
        return ("issuer: its certificate chain matches none of the trusted_authorities (aki) "
                "the query asks for")
    return ""


def _refused(outcome: PresentationOutcome, code: str, reason: str) -> PresentationOutcome:
    outcome.ok, outcome.code, outcome.reason = False, code, reason
    outcome.claims = {}  # a refused presentation's data is not kept
    return outcome


def _failure_code(verdict: dict) -> str:
    """A stable code for the first failed check of a verdict."""
    for check in verdict["checks"]:
        if check["ok"]:
            continue
        detail = check.get("detail", "")
        if check["check"] == "status":
            return {"revoked": "revoked", "suspended": "suspended"}.get(detail, "status")
        if check["check"] == "proof":
            if "nonce mismatch" in detail:
                return "nonce"
            if "aud mismatch" in detail:
                return "audience"
            if detail.startswith("kb_jwt"):
                return "key_binding"
            if detail.startswith("issuer:"):  # no key of iss this Verifier accepts (x5c, ...)
                return "untrusted_issuer"
            return "proof"
        if check["check"] == "validity_period":
            return "credential_expired"
        return check["check"]
    return "not_verified"


def _same_credential_claims(query: dict, this: dict, vct: str | None) -> list[tuple]:
    """Paths other Credential Queries ask of the same credential type: §7 lets one
    presentation carry the claims of every query it answers."""
    paths = []
    for other in query["credentials"]:
        if other is this or vct not in other["meta"]["vct_values"]:
            continue
        paths += [tuple(claim["path"]) for claim in other.get("claims") or []]
    return paths


def disclosed_paths(presentation: str) -> list[tuple]:
    """The claim paths the presentation's Disclosures reveal (RFC 9901 §7.1), for the
    over-disclosure check. Called after the verifier accepted the presentation."""
    try:
        parsed = sd_jwt.SdJwt.parse(presentation)
        payload = jose.decode(parsed.jwt).claims()
        revealed = sd_jwt.reveal(payload, parsed.disclosures,
                                 payload.get("_sd_alg", sd_jwt.DEFAULT_SD_ALG))
    except CredentialError:
        return []
    return [tuple(path) for path, _ in revealed.disclosed]
