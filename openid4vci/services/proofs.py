"""c_nonce values (OpenID4VCI 1.0 §7) and `jwt` key proofs (Appendix F.1, F.4).

A c_nonce is random, kept in the cache (Redis in production, so every web process shares it)
for OPENID4VCI_NONCE_SECONDS, and used once: it is taken with an atomic delete, so two requests
racing with the same proof cannot both pass."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from django.conf import settings
from django.core.cache import cache

from credentials import jose
from credentials.dids import resolve_did_key
from credentials.encoding import b64url_decode
from credentials.errors import CredentialError, MalformedCredential, ProofInvalid
from credentials.keys import PublicKey
from openid4vci.services import errors
from openid4vci.services.metadata import PROOF_ALGORITHMS

PROOF_TYP = "openid4vci-proof+jwt"
CLOCK_SKEW_SECONDS = 60  # a proof's iat may be this far in the future
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def _nonce_key(issuer_slug: str, nonce: str) -> str:
    return f"openid4vci:c_nonce:{issuer_slug}:{nonce}"


def nonce_issue(*, issuer_slug: str) -> str:
    """A fresh, unpredictable c_nonce of this issuer."""
    nonce = secrets.token_urlsafe(24)
    cache.set(_nonce_key(issuer_slug, nonce), 1, settings.OPENID4VCI_NONCE_SECONDS)
    return nonce


def nonce_take(*, issuer_slug: str, nonce: str) -> bool:
    """Use a c_nonce up: True once for a nonce this issuer handed out and that has not expired,
    False for anything else (Redis DEL decides atomically between racing requests)."""
    return bool(cache.delete(_nonce_key(issuer_slug, nonce)))


def proof_verify(proof, *, audience: str, issuer_slug: str, now: float | None = None
                 ) -> PublicKey:
    """Check one `jwt` key proof (Appendix F.4) and take its c_nonce; return the proven key.

    Raises OAuthError invalid_proof naming the failed check (typ, alg, key, signature, aud, iat,
    missing nonce), or invalid_nonce for a nonce that is unknown, expired or already used."""
    if not isinstance(proof, str):
        raise errors.invalid_proof("a jwt proof must be a compact JWT string")
    try:
        jws = jose.decode(proof)
    except MalformedCredential as exc:
        raise errors.invalid_proof(f"proof is not a valid JWS ({exc.detail})") from None
    header = jws.header
    if jose.media_type(header.get("typ")) != PROOF_TYP:  # media type: case-insensitive
        raise errors.invalid_proof(f"proof typ must be {PROOF_TYP}, got {header.get('typ')}")
    if header.get("alg") not in PROOF_ALGORITHMS:
        raise errors.invalid_proof(f"proof alg {header.get('alg')} is not one of "
                                   f"{', '.join(PROOF_ALGORITHMS)}")
    key = _proof_key(header)
    try:
        jose.verify_signature(jws, key)
    except ProofInvalid as exc:
        raise errors.invalid_proof(f"proof {exc.detail}") from None
    try:
        claims = jws.claims()
    except MalformedCredential as exc:
        raise errors.invalid_proof(f"proof {exc.detail}") from None
    _check_audience(claims.get("aud"), audience)
    _check_issued_at(claims, jose.seconds() if now is None else now)
    nonce = claims.get("nonce")
    if nonce is None:
        raise errors.invalid_proof("proof nonce missing: get a c_nonce from the nonce endpoint")
    if not isinstance(nonce, str) or not nonce_take(issuer_slug=issuer_slug, nonce=nonce):
        raise errors.invalid_nonce("c_nonce unknown, expired or already used: get a fresh one "
                                   "from the nonce endpoint")
    return key


def _proof_key(header: Mapping) -> PublicKey:
    """The key the credential is to be bound to: `jwk`, or `kid` as did:key / did:jwk; exactly
    one of jwk, kid, x5c (x5c is not supported here)."""
    given = [name for name in ("jwk", "kid", "x5c") if name in header]
    if len(given) != 1:
        raise errors.invalid_proof("the proof header needs exactly one of jwk or kid (did:key, "
                                   f"did:jwk); it has {', '.join(given) or 'none'}")
    if given == ["x5c"]:
        raise errors.invalid_proof("x5c key proofs are not supported; send the key as jwk")
    if given == ["jwk"]:
        jwk = header["jwk"]
        if not isinstance(jwk, dict):
            raise errors.invalid_proof("proof jwk is not a JSON object")
        if PRIVATE_JWK_MEMBERS & jwk.keys():
            raise errors.invalid_proof("proof jwk contains private key material")
        try:
            return PublicKey.from_jwk(jwk)
        except ValueError as exc:
            raise errors.invalid_proof(f"proof jwk unusable ({exc})") from None
    return _did_key(header["kid"])


def _did_key(kid) -> PublicKey:
    if not isinstance(kid, str):
        raise errors.invalid_proof("proof kid is not a string")
    try:
        if kid.startswith("did:key:"):
            return resolve_did_key(kid)
        if kid.startswith("did:jwk:"):
            return _resolve_did_jwk(kid)
    except (CredentialError, ValueError) as exc:
        raise errors.invalid_proof(f"proof kid unusable ({getattr(exc, 'detail', exc)})") \
            from None
    raise errors.invalid_proof("proof kid must be a did:key or did:jwk DID URL")


def _resolve_did_jwk(kid: str) -> PublicKey:
    """did:jwk: the DID is the base64url of the JWK itself; its one method is #0."""
    did, _, fragment = kid.partition("#")
    if fragment not in ("", "0"):
        raise ValueError(f"did:jwk has no verification method #{fragment}")
    try:
        jwk = jose.loads_json(b64url_decode(did.removeprefix("did:jwk:")))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid did:jwk ({exc})") from None
    if not isinstance(jwk, dict) or PRIVATE_JWK_MEMBERS & jwk.keys():
        raise ValueError("did:jwk does not hold a public JWK")
    return PublicKey.from_jwk(jwk, f"{did}#0")


def _check_audience(aud, audience: str) -> None:
    # OpenID4VCI types aud as a string; RFC 7519 §4.1.3 also allows an array naming us.
    if aud is None:
        raise errors.invalid_proof("proof aud missing: it must be the credential issuer "
                                   f"identifier {audience}")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise errors.invalid_proof(f"proof aud must be the credential issuer identifier "
                                   f"{audience}, got {aud}")


def _check_issued_at(claims: Mapping, now: float) -> None:
    issued = claims.get("iat")
    if issued is None:
        raise errors.invalid_proof("proof iat missing")
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        raise errors.invalid_proof("proof iat is not a NumericDate")
    if issued > now + CLOCK_SKEW_SECONDS:
        raise errors.invalid_proof("proof iat is in the future")
    if issued < now - settings.OPENID4VCI_PROOF_MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS:
        raise errors.invalid_proof(f"proof iat is too old (more than "
                                   f"{settings.OPENID4VCI_PROOF_MAX_AGE_SECONDS} s)")
