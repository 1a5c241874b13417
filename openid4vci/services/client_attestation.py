"""Wallet authentication with a Wallet Attestation (OAuth 2.0 Attestation-Based Client
Authentication, as OpenID4VCI 1.0 Appendix E and HAIP 1.0 §4.4.1 use it).

The wallet sends two headers: `OAuth-Client-Attestation`, a JWT its provider signed (`typ`
oauth-client-attestation+jwt, the provider's certificate chain in `x5c`, `sub` the wallet's
client_id, `cnf.jwk` the wallet instance's key, `exp`), and `OAuth-Client-Attestation-PoP`, a
JWT that key signed for this server (`typ` oauth-client-attestation-pop+jwt, `aud` the
issuer, `jti` used once, a fresh `iat`). When OPENID4VCI_WALLET_ATTESTATION_ANCHORS is set,
the PAR and token endpoints require both, the chain leading to one of those anchors (never a
self-signed certificate); unset, wallets are public clients."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from credentials import jose, x509
from credentials.errors import CredentialError
from credentials.keys import PublicKey
from openid4vci.services import errors
from openid4vci.services.proofs import PRIVATE_JWK_MEMBERS

ATTESTATION_TYP = "oauth-client-attestation+jwt"
POP_TYP = "oauth-client-attestation-pop+jwt"
AUTH_METHOD = "attest_jwt_client_auth"
ALGORITHMS = ("ES256",)
POP_MAX_AGE_SECONDS = 300
CLOCK_SKEW_SECONDS = 60


def required() -> bool:
    return bool(settings.OPENID4VCI_WALLET_ATTESTATION_ANCHORS)


@lru_cache(maxsize=4)
def _anchors(value: str) -> x509.TrustAnchors:
    pem = value if "-----BEGIN" in value else Path(value).read_text(encoding="ascii")
    return x509.load_trust_anchors(pem)


def client_authenticate(*, issuer_identifier: str, client_id: str | None, attestation,
                        pop, now: float) -> str | None:
    """The authenticated client_id, None when wallets are public clients here. Raises
    OAuthError invalid_client (401) naming the failed check."""
    if not required():
        return None
    if not attestation or not pop:
        raise _invalid("a Wallet Attestation is required: send OAuth-Client-Attestation and "
                       "OAuth-Client-Attestation-PoP")
    try:
        jws = jose.decode(attestation)
        claims = jws.claims()
        if jose.media_type(jws.header.get("typ")) != ATTESTATION_TYP:
            raise _invalid(f"the attestation's typ must be {ATTESTATION_TYP}")
        if jws.header.get("alg") not in ALGORITHMS:
            raise _invalid("the attestation must be signed ES256")
        chain = x509.validate_chain(jws.header.get("x5c"),
                                    _anchors(settings.OPENID4VCI_WALLET_ATTESTATION_ANCHORS))
        jose.verify_signature(jws, chain.leaf.public_key)
    except CredentialError as exc:
        raise _invalid(f"the Wallet Attestation is not valid: {exc.detail}") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise _invalid("the attestation names no sub (the wallet's client_id)")
    if client_id is not None and client_id != subject:
        raise _invalid("client_id is not the sub of the Wallet Attestation")
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float) \
            or expires < now - CLOCK_SKEW_SECONDS:
        raise _invalid("the Wallet Attestation has expired (or has no exp)")
    _check_pop(pop, _instance_key(claims), subject, issuer_identifier, now)
    return subject


def _instance_key(claims: dict) -> PublicKey:
    jwk = (claims.get("cnf") or {}).get("jwk") if isinstance(claims.get("cnf"), dict) else None
    if not isinstance(jwk, dict) or PRIVATE_JWK_MEMBERS & jwk.keys():
        raise _invalid("the attestation's cnf.jwk is missing or not a public key")
    try:
        return PublicKey.from_jwk(jwk)
    except ValueError as exc:
        raise _invalid(f"the attestation's cnf.jwk is unusable ({exc})") from None


def _check_pop(pop: str, key: PublicKey, client_id: str, audience: str, now: float) -> None:
    try:
        jws = jose.decode(pop)
        claims = jws.claims()
        if jose.media_type(jws.header.get("typ")) != POP_TYP:
            raise _invalid(f"the attestation PoP's typ must be {POP_TYP}")
        jose.verify_signature(jws, key)
    except CredentialError as exc:
        raise _invalid(f"the attestation PoP is not valid: {exc.detail}") from None
    if claims.get("iss", client_id) != client_id:
        raise _invalid("the attestation PoP's iss is not the client_id")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise _invalid(f"the attestation PoP's aud must be {audience}")
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float) \
            or not now - POP_MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS <= issued \
            <= now + CLOCK_SKEW_SECONDS:
        raise _invalid("the attestation PoP's iat is missing or not fresh")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 128:
        raise _invalid("the attestation PoP needs a jti")
    seen = f"openid4vci:attestation-pop:{hashlib.sha256(f'{client_id}:{jti}'.encode()).hexdigest()}"
    if not cache.add(seen, 1, POP_MAX_AGE_SECONDS + 2 * CLOCK_SKEW_SECONDS):
        raise _invalid("the attestation PoP was used before (jti)")


def _invalid(description: str) -> errors.OAuthError:
    return errors.OAuthError("invalid_client", description, status=401)
