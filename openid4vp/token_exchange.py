"""Machines log in with mandates too (issue #21; docs/wallet-login.md, "Access tokens"): an
OAuth 2.0 Token Exchange (RFC 8693) of a verified presentation of mandates for a short-lived
access token with exactly the presented scopes, instead of a long-lived API key.

1. POST /oauth/nonce → {"nonce", "expires_in", "audience"}: a fresh nonce (signed by the
   service with a time stamp, valid NONCE_SECONDS; used once: the exchange that uses it
   records its digest, and a second exchange with it is refused as replayed).
2. POST /oauth/token, form-encoded:
     grant_type=urn:ietf:params:oauth:grant-type:token-exchange
     subject_token_type=urn:dpp-wallet:params:oauth:token-type:vp_token
     subject_token=<a VP Token (OpenID4VP 1.0 §8.1): {"mandate": ["<SD-JWT VC~…~KB-JWT>", …]}>
     scope=<optional: a subset of the presented scopes, space-separated>
   Each presentation's KB-JWT has `aud` = the token endpoint's URL and `nonce` = the nonce.
   The presentations go through the same checks as an OpenID4VP response (openid4vp.evaluation:
   signature, trusted issuer, status, validity, key binding, disclosures), then through
   wallet.tenancy.mandate_login (which mandates, still standing, one organisation).
3. 200 {"access_token": "dpp_at_…", "issued_token_type":
   "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in",
   "scope"}; the API takes it as `Authorization: Bearer <token>` on every endpoint.

Errors are RFC 6749 §5.2 JSON: `invalid_request` (a parameter missing or malformed),
`unsupported_grant_type`, `invalid_grant` (the presentation is not accepted: the
error_description starts with the reason code: revoked, suspended, expired, replayed,
wrong_audience_or_nonce, untrusted_issuer, no_mandate, …), `invalid_scope`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from credentials import jose, sd_jwt
from credentials.errors import CredentialError
from openid4vp.evaluation import ResponseMalformed, evaluate, parse_vp_token, presentation_digest
from openid4vp.login import REFUSAL_OF
from wallet.tenancy.mandate_login import LoginRefused, Presented, access_token_issue
from wallet.tenancy.mandates import MANDATE_VCT

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693 §2.1
# Token type identifiers (RFC 8693 §3), not secrets.
SUBJECT_TOKEN_TYPE = "urn:dpp-wallet:params:oauth:token-type:vp_token"  # noqa: S105
ISSUED_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
NONCE_SECONDS = 300
QUERY_ID = "mandate"
NONCE_SALT = "openid4vp.token_exchange.nonce"


def token_query() -> dict:
    """What a machine presents: one or more mandates, disclosing their scope and whose."""
    return {"credentials": [{
        "id": QUERY_ID, "format": "dc+sd-jwt", "multiple": True,
        "meta": {"vct_values": [MANDATE_VCT]},
        "claims": [{"path": ["scope"]}, {"path": ["principal", "legal_name"]}]}]}


def token_endpoint_url() -> str:
    """The KB-JWT's `aud`: this endpoint, so a presentation made for it is good nowhere else."""
    return settings.PUBLIC_BASE_URL + reverse("oauth-token")


def nonce_issue() -> dict:
    nonce = signing.TimestampSigner(salt=NONCE_SALT).sign(secrets.token_urlsafe(24))
    return {"nonce": nonce, "expires_in": NONCE_SECONDS, "audience": token_endpoint_url()}


class TokenError(Exception):
    """An RFC 6749 §5.2 error response."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


@dataclass
class Issued:
    access_token: str
    expires_in: int
    scope: str

    def body(self) -> dict:
        return {"access_token": self.access_token, "issued_token_type": ISSUED_TOKEN_TYPE,
                "token_type": "Bearer", "expires_in": self.expires_in, "scope": self.scope}


def _refused(code: str, detail: str = "") -> TokenError:
    message = str(LoginRefused(code).message)
    return TokenError("invalid_grant", f"{code}: {message}" + (f" ({detail})" if detail else ""))


def _nonce_of(presentations: list[str]) -> str:
    """The nonce the KB-JWTs carry (read before verifying; evaluate() then verifies each
    KB-JWT's signature over it). All must carry the same, valid, unexpired one."""
    nonces = set()
    for presentation in presentations:
        try:
            kb_jwt = sd_jwt.SdJwt.parse(presentation).kb_jwt
            nonce = jose.decode(kb_jwt).claims().get("nonce") if kb_jwt else None
        except (CredentialError, ValueError):
            nonce = None
        if not isinstance(nonce, str):
            raise _refused("wrong_audience_or_nonce", "a presentation has no KB-JWT nonce")
        nonces.add(nonce)
    if len(nonces) != 1:
        raise _refused("wrong_audience_or_nonce", "the presentations carry different nonces")
    [nonce] = nonces
    try:
        signing.TimestampSigner(salt=NONCE_SALT).unsign(nonce, max_age=NONCE_SECONDS)
    except signing.SignatureExpired:
        raise _refused("wrong_audience_or_nonce", "the nonce expired; get a new one") from None
    except signing.BadSignature:
        raise _refused("wrong_audience_or_nonce", "the nonce is not one this service gave") \
            from None
    return nonce


def token_exchange(form: dict[str, str]) -> Issued:
    """The access token for a token-exchange request, or TokenError."""
    if form.get("grant_type") != GRANT_TYPE:
        raise TokenError("unsupported_grant_type", f"grant_type must be {GRANT_TYPE}")
    if form.get("subject_token_type") != SUBJECT_TOKEN_TYPE:
        raise TokenError("invalid_request", f"subject_token_type must be {SUBJECT_TOKEN_TYPE}")
    if not form.get("subject_token"):
        raise TokenError("invalid_request", "subject_token: missing (a VP Token)")
    query = token_query()
    try:
        vp_token = parse_vp_token(form["subject_token"], query)
    except ResponseMalformed as exc:
        raise TokenError("invalid_request", f"subject_token: {exc}") from None
    presentations = vp_token[QUERY_ID]
    nonce = _nonce_of(presentations)
    outcome = evaluate(vp_token, query=query, client_id=token_endpoint_url(), nonce=nonce)
    if not outcome.ok:
        raise _refused(REFUSAL_OF.get(outcome.code, "invalid"), outcome.reason)
    presented = [Presented(p.claims) for p in outcome.presentations if p.ok]
    wanted = set(form.get("scope", "").split())
    held = {p.claims.get("scope") for p in presented}
    if wanted - held:
        raise TokenError("invalid_scope", f"not among the presented mandates' scopes: "
                                          f"{' '.join(sorted(wanted - held))}")
    if wanted:
        presented = [p for p in presented if p.claims.get("scope") in wanted]
    # A nonce is used once: any second exchange with it (the same presentations, or some of
    # them) is refused as replayed.
    digest = presentation_digest(nonce)
    asked_at = timezone.now()
    try:
        login, token = access_token_issue(presented=presented, presentation_digest=digest)
    except LoginRefused as refused:
        raise _refused(refused.code, refused.detail) from None
    seconds = max(0, round((login.expires_at - asked_at).total_seconds()))
    return Issued(token, seconds, " ".join(login.scopes))
