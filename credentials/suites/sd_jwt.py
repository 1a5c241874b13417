"""`dc+sd-jwt`: SD-JWT VC (draft-ietf-oauth-sd-jwt-vc) over RFC 9901 SD-JWT, for the EU wallet
credentials (identity, mandates).

The issuer's key is found, in this order: when `iss` is a DID, the header's `kid` is a DID URL
of it (what this service issues); else by the `x5c` header (an X.509 chain to the Verifier's
trust anchors, HAIP 1.0) or, for an https `iss` without one, JWT VC Issuer Metadata
(credentials.foreign_issuers: the way EU PID and (Q)EAA providers sign). Holder binding is
`cnf.jwk` (RFC 7800), status an IETF Token Status List reference `status.status_list {idx,
uri}`. The holder side is `credentials.sd_jwt.present`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from credentials import jose, sd_jwt
from credentials.errors import CredentialError, MalformedCredential
from credentials.foreign_issuers import NO_FOREIGN_ISSUERS, ForeignIssuers, IssuerKey
from credentials.keys import PublicKey, Signer
from credentials.sd_jwt import PathSpec
from credentials.suites import register
from credentials.suites.base import KeyResolver, ProofResult, ProofSuite
from credentials.suites.jose import did_of, key_id, resolve_key

TYP = "dc+sd-jwt"
ACCEPTED_TYP = frozenset({TYP, "vc+sd-jwt"})  # vc+sd-jwt: the typ of earlier drafts
# SD-JWT VC "Registered JWT Claims": these must stay in the clear, never disclosable.
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
DEFAULT_LEEWAY = 60  # seconds of clock skew tolerated on exp, nbf and the KB-JWT's iat
DEFAULT_KB_MAX_AGE = 300  # seconds a KB-JWT stays acceptable after its iat


class SdJwtVc(ProofSuite):
    name = "dc+sd-jwt"

    def recognises(self, secured: dict | str) -> bool:
        if not isinstance(secured, str) or "~" not in secured:
            return False
        header = jose.peek_header(secured[:secured.index("~")])
        return header is not None and jose.media_type(header.get("typ")) in ACCEPTED_TYP

    def secure(self, credential: dict, signer: Signer, *,
               disclosable: Iterable[PathSpec] = (),
               holder_key: PublicKey | Mapping | None = None, status: Mapping | None = None,
               iat: datetime | int | None = None, nbf: datetime | int | None = None,
               exp: datetime | int | None = None, decoys: int = 0,
               x5c: Sequence[str] | None = None, **options: Any) -> str:
        """An SD-JWT VC (ending in `~`) from the plain claims in `credential` (which needs a
        `vct`). `disclosable` names the claims to conceal ("address.street",
        ("nationalities", 0)); `holder_key` becomes `cnf.jwk`; `status` is put as given,
        e.g. {"status_list": {"idx": 7, "uri": "https://.../status/1"}}. With `x5c` (the
        signer's certificate chain, leaf first, base64 DER) the issuer is X.509-identified
        (HAIP 1.0): `credential` names `iss`, which the leaf must name; else `iss` is the DID
        of the signer."""
        if x5c:
            issuer = credential.get("iss")
            if not isinstance(issuer, str) or not issuer or issuer.startswith("did:"):
                raise CredentialError("issuer: with x5c, iss must be the issuer's URL",
                                      code="issuer_mismatch")
        else:
            issuer = did_of(signer.verification_method)
            if credential.get("iss", issuer) != issuer:
                raise CredentialError("issuer: signer is not a key of iss",
                                      code="issuer_mismatch")
        if not isinstance(credential.get("vct"), str):
            raise MalformedCredential("payload: vct missing")
        paths = [sd_jwt.normalise_path(path) for path in disclosable]
        if fixed := {path[0] for path in paths} & (NEVER_DISCLOSABLE | {"_sd_alg"}):
            raise ValueError(f"claims {sorted(fixed)} must not be selectively disclosable")
        claims = {"iss": issuer, "iat": _numeric(iat) or int(jose.seconds())}
        for name, moment in (("nbf", nbf), ("exp", exp)):
            if moment is not None:
                claims[name] = _numeric(moment)
        claims |= credential
        if holder_key is not None:
            jwk = holder_key.jwk() if isinstance(holder_key, PublicKey) else dict(holder_key)
            claims["cnf"] = {"jwk": jwk}
        if status is not None:
            claims["status"] = _checked_status(status)
        header = {"typ": TYP, "kid": signer.verification_method}
        if x5c:
            header["x5c"] = list(x5c)
        return sd_jwt.issue(claims, signer, disclosable=paths, header=header, decoys=decoys)

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               aud: str | None = None, nonce: str | None = None,
               require_key_binding: bool = False, leeway: float = DEFAULT_LEEWAY,
               kb_max_age: float = DEFAULT_KB_MAX_AGE,
               foreign_issuers: ForeignIssuers | None = None, **options: Any) -> ProofResult:
        """The issuer's signature, typ, `exp`/`nbf`, the Disclosures (RFC 9901 §7.1), and the
        KB-JWT when there is one or `require_key_binding` (§7.3). `aud`/`nonce` (or
        `domain`/`challenge`) are what the KB-JWT must carry; without them the KB-JWT's values
        are only reported, so pass them whenever replay matters. `foreign_issuers` finds and
        trusts the keys of issuers that are not DIDs (without it, none is accepted)."""
        aud = options.get("domain", aud)
        nonce = options.get("challenge", nonce)
        try:
            presented = sd_jwt.SdJwt.parse(secured)
            jws, payload, foreign = self._issuer_jwt(
                presented, keys, foreign_issuers or NO_FOREIGN_ISSUERS, now or datetime.now(UTC))
            alg = payload.get("_sd_alg", sd_jwt.DEFAULT_SD_ALG)
            revealed = sd_jwt.reveal(payload, presented.disclosures, alg)
            _check_disclosed_names(revealed)
            now_seconds = jose.seconds(now)
            jose.check_validity_period(payload, now_seconds, leeway)
            binding = None
            if presented.kb_jwt or require_key_binding:
                binding = sd_jwt.verify_key_binding(
                    presented, _holder_key(payload), alg=alg, aud=aud, nonce=nonce,
                    now=now_seconds, max_age=kb_max_age, leeway=leeway)
        except CredentialError as exc:
            return ProofResult.failed(self.name, exc.detail, details={"code": exc.code})
        claims = revealed.claims
        details = {"header": jws.header, "vct": claims.get("vct"),
                   "disclosed": [list(path) for path, _ in revealed.disclosed],
                   "key_binding": binding, "status": claims.get("status"),
                   "iat": claims.get("iat"), "nbf": claims.get("nbf"), "exp": claims.get("exp")}
        if foreign is not None:
            details["issuer_key"] = foreign.details()
        return ProofResult(
            ok=True, format=self.name, credential=claims, details=details,
            verification_method=None if foreign else jws.header["kid"])

    def _issuer_jwt(self, presented: sd_jwt.SdJwt, keys: KeyResolver,
                    foreign_issuers: ForeignIssuers, now: datetime,
                    ) -> tuple[jose.DecodedJWS, dict, IssuerKey | None]:
        """typ, then the signature by a key of `iss`, then the payload's own shape. Returns the
        foreign issuer's key when `iss` is not a DID."""
        jws = jose.decode(presented.jwt)
        if jose.media_type(jws.header.get("typ")) not in ACCEPTED_TYP:
            raise MalformedCredential(f"typ: expected {TYP}, got {jws.header.get('typ')!r}")
        payload = jws.claims()
        issuer = payload.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise MalformedCredential("issuer: iss missing")
        foreign = None
        if issuer.startswith("did:"):
            kid = key_id(jws.header, issuer)
            if did_of(kid) != issuer:
                raise CredentialError(f"issuer: kid {kid!r} is not a key of {issuer!r}",
                                      code="issuer_mismatch")
            jose.verify_signature(jws, resolve_key(keys, kid))
        else:
            foreign = foreign_issuers.key(jws.header, issuer, now=now)
            jose.verify_signature(jws, foreign.public_key)
        if not isinstance(payload.get("vct"), str):
            raise MalformedCredential("payload: vct missing")
        return jws, payload, foreign


def _check_disclosed_names(revealed: sd_jwt.Revealed) -> None:
    for path, _ in revealed.disclosed:
        if len(path) == 1 and path[0] in NEVER_DISCLOSABLE | {"_sd_alg"}:
            raise MalformedCredential(f"disclosure: {path[0]!r} must not be selectively "
                                      "disclosable")


def _holder_key(payload: dict) -> PublicKey:
    confirmation = payload.get("cnf")
    if not isinstance(confirmation, dict) or not isinstance(confirmation.get("jwk"), dict):
        raise MalformedCredential("kb_jwt: the credential has no cnf.jwk holder key")
    try:
        return PublicKey.from_jwk(confirmation["jwk"])
    except ValueError as exc:
        raise MalformedCredential(f"kb_jwt: cnf.jwk unusable ({exc})") from None


def _numeric(moment: datetime | int | None) -> int | None:
    if moment is None or isinstance(moment, int):
        return moment
    return int(jose.seconds(moment))


def _checked_status(status: Mapping) -> dict:
    """IETF Token Status List reference (draft-ietf-oauth-status-list, "Referenced Token")."""
    status_list = status.get("status_list")
    if status_list is not None and not (
            isinstance(status_list, Mapping) and isinstance(status_list.get("uri"), str)
            and isinstance(status_list.get("idx"), int) and status_list["idx"] >= 0):
        raise ValueError("status.status_list needs an integer idx >= 0 and a uri")
    return dict(status)


SD_JWT_VC = register(SdJwtVc())
