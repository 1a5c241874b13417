"""DPoP (RFC 9449): access tokens bound to a key the wallet proves at the token endpoint and at
every use, with server-provided nonces (HAIP 1.0 §4: wallets and authorization servers support
DPoP; ES256 at least).

A DPoP proof is a JWT (`typ` dpop+jwt) signed by the wallet's key, carried in its `jwk` header,
claiming the request it is for (`htm`, `htu`), when (`iat`), once (`jti`), the server's `nonce`
and, at the credential endpoints, the access token's hash (`ath`). The token is bound to the
key's JWK SHA-256 thumbprint (RFC 7638), stored on the offer.

Nonces are stateless: a time window and an HMAC of it under the server's secret, per issuer, so
every web process accepts what another handed out; a nonce of the current or the previous
window is fresh. A proof is used once: its `jti` is kept in the cache (Redis in production)
for as long as a proof can be fresh, added atomically, so a replayed proof is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from credentials import jose
from credentials.encoding import b64url_encode
from credentials.errors import MalformedCredential, ProofInvalid
from credentials.keys import PublicKey
from openid4vci.services import errors
from openid4vci.services.metadata import DPOP_ALGORITHMS
from openid4vci.services.proofs import PRIVATE_JWK_MEMBERS

DPOP_TYP = "dpop+jwt"
ALGORITHMS = DPOP_ALGORITHMS
NONCE_WINDOW_SECONDS = 300  # a nonce is fresh in its window and the next one
PROOF_MAX_AGE_SECONDS = 300  # a proof's iat this old (or as far ahead, clock skew) at most
CLOCK_SKEW_SECONDS = 60
MAX_JTI_LENGTH = 128
TOKEN_TYPE = "DPoP"  # noqa: S105 - a token type, not a secret


# --- nonces ------------------------------------------------------------------------------------

def _nonce_for(issuer_slug: str, window: int) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"dpop-nonce:{issuer_slug}:{window}".encode(),
                   hashlib.sha256).digest()
    return f"{window}.{b64url_encode(mac[:18])}"


def nonce_issue(*, issuer_slug: str, now: float) -> str:
    """The DPoP nonce this issuer hands out now (the `DPoP-Nonce` response header)."""
    return _nonce_for(issuer_slug, int(now // NONCE_WINDOW_SECONDS))


def nonce_fresh(*, issuer_slug: str, nonce, now: float) -> bool:
    if not isinstance(nonce, str) or "." not in nonce:
        return False
    window = int(now // NONCE_WINDOW_SECONDS)
    return any(hmac.compare_digest(nonce, _nonce_for(issuer_slug, w))
               for w in (window, window - 1))


# --- proofs ------------------------------------------------------------------------------------

def thumbprint(key: PublicKey) -> str:
    """The JWK SHA-256 thumbprint (RFC 7638 §3): the required members, sorted, no spaces."""
    jwk = key.jwk()
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"),
                           sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def access_token_hash(access_token: str) -> str:
    """`ath` (RFC 9449 §4.2): base64url of the SHA-256 of the token's ASCII."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


@dataclass(frozen=True)
class Proven:
    key: PublicKey
    jkt: str  # the key's thumbprint, what the token is bound to


class DPoPFailure(errors.OAuthError):
    """A DPoP proof refused: `invalid_dpop_proof`, or `use_dpop_nonce` with a fresh nonce in the
    `DPoP-Nonce` header. At the token endpoint a 400 (RFC 9449 §5, §8); at a protected
    resource a 401 with a `DPoP` challenge (§7.1, §9)."""

    def __init__(self, error: str, description: str, *, nonce: str, resource: bool,
                 realm: str = ""):
        super().__init__(error, description, status=401 if resource else 400,
                         headers={"DPoP-Nonce": nonce})
        if resource:
            parts = ([f'realm="{errors.description_text(realm)}"'] if realm else []) + [
                f'error="{error}"', f'error_description="{self.description}"',
                f'algs="{" ".join(ALGORITHMS)}"']
            self.headers["WWW-Authenticate"] = "DPoP " + ", ".join(parts)


def proof_check(proof: str | None, *, method: str, url: str, issuer_slug: str, now: float,
                access_token: str | None = None, realm: str = "") -> Proven:
    """Check the `DPoP` header of a request (RFC 9449 §4.3) and use its `jti` up. `url` is the
    endpoint's public URL (`htu` compares without query and fragment); `access_token` is given
    at a protected resource (then `ath` must be its hash). Raises DPoPFailure."""
    fresh = nonce_issue(issuer_slug=issuer_slug, now=now)
    resource = access_token is not None

    def refuse(description: str, error: str = "invalid_dpop_proof"):
        return DPoPFailure(error, description, nonce=fresh, resource=resource, realm=realm)

    if not proof or not isinstance(proof, str) or "," in proof:
        raise refuse("one DPoP header with a DPoP proof JWT is needed (RFC 9449)")
    try:
        jws = jose.decode(proof.strip())
        claims = jws.claims()
    except MalformedCredential as exc:
        raise refuse(f"the DPoP proof is not a valid JWS ({exc.detail})") from None
    header = jws.header
    if jose.media_type(header.get("typ")) != DPOP_TYP:
        raise refuse(f"DPoP proof typ must be {DPOP_TYP}, got {header.get('typ')}")
    if header.get("alg") not in ALGORITHMS:
        raise refuse(f"DPoP proof alg {header.get('alg')} is not one of {', '.join(ALGORITHMS)}")
    key = _header_key(header, refuse)
    try:
        jose.verify_signature(jws, key)
    except ProofInvalid as exc:
        raise refuse(f"DPoP proof {exc.detail}") from None
    if claims.get("htm") != method:
        raise refuse(f"DPoP proof htm must be {method}, got {claims.get('htm')}")
    htu = claims.get("htu")
    if not isinstance(htu, str) or htu.split("#", 1)[0].split("?", 1)[0] != url:
        raise refuse(f"DPoP proof htu must be {url}, got {htu}")
    _check_iat(claims.get("iat"), now, refuse)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise refuse("DPoP proof jti missing or not a short string")
    if resource and claims.get("ath") != access_token_hash(access_token):
        raise refuse("DPoP proof ath is not the hash of the access token sent with it")
    if not nonce_fresh(issuer_slug=issuer_slug, nonce=claims.get("nonce"), now=now):
        raise refuse("a DPoP proof must carry the server's nonce: use the DPoP-Nonce given",
                     "use_dpop_nonce")
    # Only a proof that passed everything uses its jti up (a nonce challenge costs nothing).
    seen = f"openid4vci:dpop:jti:{issuer_slug}:{hashlib.sha256(jti.encode()).hexdigest()}"
    if not cache.add(seen, 1, PROOF_MAX_AGE_SECONDS + 2 * CLOCK_SKEW_SECONDS):
        raise refuse("DPoP proof replayed: this jti was used before")
    return Proven(key, thumbprint(key))


def _header_key(header: Mapping, refuse) -> PublicKey:
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise refuse("DPoP proof header needs the public key as jwk")
    if PRIVATE_JWK_MEMBERS & jwk.keys():
        raise refuse("DPoP proof jwk contains private key material")
    try:
        return PublicKey.from_jwk(jwk)
    except ValueError as exc:
        raise refuse(f"DPoP proof jwk unusable ({exc})") from None


def _check_iat(issued, now: float, refuse) -> None:
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        raise refuse("DPoP proof iat missing or not a NumericDate")
    if issued > now + CLOCK_SKEW_SECONDS:
        raise refuse("DPoP proof iat is in the future")
    if issued < now - PROOF_MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS:
        raise refuse(f"DPoP proof iat is too old (more than {PROOF_MAX_AGE_SECONDS} s)")
