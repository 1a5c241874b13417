"""JOSE proof suites.

- `vc+jwt` / `vp+jwt`: W3C VC-JOSE-COSE (https://www.w3.org/TR/vc-jose-cose/) §3.1.1-3.1.2
  enveloping proofs for VCDM 2.0: the JWS payload is the credential (presentation) itself.
- `jwt-vc`: VC Data Model 1.1 §6.3.1 JWT encoding: the credential moves into a `vc` claim and
  some properties become registered JWT claims (`iss`, `sub`, `nbf`, `exp`, `jti`).

Validity dates of `vc+jwt` are left to the verifier (returned in `details`); `jwt-vc` checks
`exp`/`nbf` itself because RFC 7519 §4.1.4 says a JWT past `exp` MUST NOT be accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.times import iso8601
from credentials import jose
from credentials.dids import did_key_verification_method
from credentials.errors import CredentialError, KeyResolutionError, MalformedCredential
from credentials.keys import PublicKey, Signer
from credentials.suites import register
from credentials.suites.base import KeyResolver, ProofResult, ProofSuite

V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
_ENVELOPES = {  # envelope type -> media type of its data: URL (VC-JOSE-COSE §3.1.1, §3.1.2)
    "EnvelopedVerifiableCredential": "application/vc+jwt",
    "EnvelopedVerifiablePresentation": "application/vp+jwt",
}
DEFAULT_LEEWAY = 60  # seconds of clock skew tolerated on exp/nbf


# --- envelopes ------------------------------------------------------------------------------

def envelope(jwt: str) -> dict:
    """A `vc+jwt` as the JSON object VCDM 2.0 §4.13 serves (EnvelopedVerifiableCredential)."""
    return {"@context": [V2_CONTEXT], "type": "EnvelopedVerifiableCredential",
            "id": f"data:application/vc+jwt,{jwt}"}


def envelope_presentation(jwt: str) -> dict:
    """A `vp+jwt` as an EnvelopedVerifiablePresentation."""
    return {"@context": [V2_CONTEXT], "type": "EnvelopedVerifiablePresentation",
            "id": f"data:application/vp+jwt,{jwt}"}


def unwrap_envelope(obj: Any) -> str:
    """The compact JWT inside an Enveloped{VerifiableCredential,Presentation}; raises
    MalformedCredential when `obj` is not one."""
    media = _envelope_media_type(obj)
    if media is None:
        raise MalformedCredential("envelope: not an EnvelopedVerifiableCredential/Presentation "
                                  "with a data:application/vc+jwt or vp+jwt id")
    return obj["id"][len("data:") + len(media) + 1:]


def _envelope_media_type(obj: Any) -> str | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        return None
    types = obj.get("type")
    types = [types] if isinstance(types, str) else types
    for kind, media in _ENVELOPES.items():
        if isinstance(types, list) and kind in types and obj["id"].startswith(f"data:{media},"):
            return media
    return None


# --- shared checks --------------------------------------------------------------------------

def party_id(value: Any) -> str | None:
    """`issuer`/`holder` is a URL or an object with an `id` (VCDM 2.0 §4.7)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def did_of(verification_method: str) -> str:
    return verification_method.partition("#")[0]


def key_id(header: dict, owner: str | None) -> str:
    """The header's `kid`, made absolute against the owner's DID when it is a bare fragment."""
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedCredential("kid: missing from the JOSE header")
    if kid.startswith("#") and owner:
        kid = owner + kid
    return kid


def resolve_key(keys: KeyResolver, kid: str) -> PublicKey:
    """The key `kid` names; a KeyResolutionError keeps its code (key not found, DID not
    resolved), so the verdict can say which."""
    try:
        return keys.public_key(kid)
    except ValueError as exc:
        raise KeyResolutionError(f"cannot resolve {kid!r}: {exc}") from None


def _types(document: dict) -> list:
    types = document.get("type")
    return [types] if isinstance(types, str) else types if isinstance(types, list) else []


def _failure(suite: str, exc: CredentialError) -> ProofResult:
    return ProofResult.failed(suite, exc.detail, details={"code": exc.code})


# --- vc+jwt and vp+jwt ----------------------------------------------------------------------

class _EnvelopingSuite(ProofSuite):
    """What vc+jwt and vp+jwt share: the payload is the VCDM 2.0 document itself."""

    typ: str
    cty: str
    document_type: str

    def __init__(self) -> None:
        self._headers: dict[tuple, bytes] = {}  # see _header

    def recognises(self, secured: dict | str) -> bool:
        if isinstance(secured, dict):
            return _envelope_media_type(secured) == f"application/{self.typ}"
        header = jose.peek_header(secured)
        return header is not None and jose.media_type(header.get("typ")) == self.typ

    def _sign(self, document: dict, signer: Signer, iss: str | None = None) -> str:
        return jose.sign_with_header(self._header(signer, iss), document, signer)

    def _header(self, signer: Signer, iss: str | None) -> bytes:
        """The encoded header {"alg","typ","cty","kid"[,"iss"]}, kept per key: the same for
        every document a key signs (jose.encoded_header keeps it too, but building its key
        per signature costs more than the look-up here)."""
        key = (signer.key_type, signer.verification_method, iss)
        found = self._headers.get(key)
        if found is None:
            header = {"typ": self.typ, "cty": self.cty, "kid": signer.verification_method}
            if iss is not None:
                header["iss"] = iss
            found = jose.encoded_header(signer.key_type, header)
            if type(key[1]) is str:  # equal strings encode alike (not so True and 1)
                if len(self._headers) >= 512:
                    self._headers.clear()
                self._headers[key] = found
        return found

    def _open(self, secured: dict | str) -> tuple[jose.DecodedJWS, dict]:
        """Envelope, JWS structure, typ and cty, and the payload document."""
        token = unwrap_envelope(secured) if isinstance(secured, dict) else secured
        jws = jose.decode(token)
        if jose.media_type(jws.header.get("typ")) != self.typ:
            raise MalformedCredential(f"typ: expected {self.typ}, got {jws.header.get('typ')!r}")
        if "cty" in jws.header and jose.media_type(jws.header["cty"]) != self.cty:
            raise MalformedCredential(f"cty: expected {self.cty}, got {jws.header['cty']!r}")
        # Fast parser: duplicate names keep the last (RFC 7519 §4 allows it); see jose.loads_json
        document = jws.claims(unique=False)
        if "vc" in document or "vp" in document:  # a VCDM 1.1 JWT; VC-JOSE-COSE forbids them
            raise MalformedCredential("payload: the vc and vp claims must not be present")
        if self.document_type not in _types(document):
            raise MalformedCredential(f"payload: type does not include {self.document_type}")
        return jws, document


class VcJwt(_EnvelopingSuite):
    """`vc+jwt`: header {"alg","typ":"vc+jwt","cty":"vc","kid"}, payload the credential."""

    name = "vc+jwt"
    typ, cty = "vc+jwt", "vc"
    document_type = "VerifiableCredential"

    def secure(self, credential: dict, signer: Signer, *, iss_header: bool = False,
               **options: Any) -> str:
        """The compact JWT. The signer's key must belong to the credential's issuer.
        `iss_header` also puts the issuer in an `iss` header parameter (RFC 7519 §5.3)."""
        issuer = party_id(credential.get("issuer"))
        if issuer is None:
            raise MalformedCredential("issuer: missing")
        if did_of(signer.verification_method) != issuer:
            raise CredentialError(f"issuer: signer {signer.verification_method!r} is not a key "
                                  f"of {issuer!r}", code="issuer_mismatch")
        return self._sign(credential, signer, issuer if iss_header else None)

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               **options: Any) -> ProofResult:
        try:
            jws, credential = self._open(secured)
            issuer = party_id(credential.get("issuer"))
            if issuer is None:
                raise MalformedCredential("issuer: missing")
            kid = key_id(jws.header, issuer)
            _require_same(issuer, did_of(kid), "kid")
            _require_same(issuer, jws.header.get("iss"), "iss header")
            _require_same(issuer, credential.get("iss"), "iss claim")
            jose.verify_signature(jws, resolve_key(keys, kid))
        except CredentialError as exc:
            return _failure(self.name, exc)
        return ProofResult(ok=True, format=self.name, credential=credential,
                           verification_method=kid,
                           details={"header": jws.header, "validFrom": credential.get("validFrom"),
                                    "validUntil": credential.get("validUntil")})


class VpJwt(_EnvelopingSuite):
    """`vp+jwt`: a VCDM 2.0 presentation signed by its holder; its credentials are envelopes.
    The verifier's challenge and domain travel as the `nonce` and `aud` claims."""

    name = "vp+jwt"
    typ, cty = "vp+jwt", "vp"
    document_type = "VerifiablePresentation"

    def secure(self, presentation: dict, signer: Signer, *, challenge: str | None = None,
               domain: str | list[str] | None = None, **options: Any) -> str:
        holder = did_of(signer.verification_method)
        document = dict(presentation)
        given = party_id(document.setdefault("holder", holder))
        if given != holder:
            raise CredentialError(f"holder: signer is not a key of {given!r}",
                                  code="holder_mismatch")
        if "verifiableCredential" in document:
            document["verifiableCredential"] = [
                envelope(vc) if isinstance(vc, str) else vc
                for vc in _as_list(document["verifiableCredential"])]
        if challenge is not None:
            document["nonce"] = challenge
        if domain is not None:
            document["aud"] = domain
        return self._sign(document, signer)

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               challenge: str | None = None, domain: str | None = None,
               **options: Any) -> ProofResult:
        """`challenge`/`domain` (or `nonce`/`aud`), when given, must match the claims."""
        challenge = options.get("nonce", challenge)
        domain = options.get("aud", domain)
        try:
            jws, presentation = self._open(secured)
            holder = party_id(presentation.get("holder"))
            kid = key_id(jws.header, holder)
            _require_same(holder, did_of(kid), "kid", party="holder")
            jose.verify_signature(jws, resolve_key(keys, kid))
            _check_audience(presentation, challenge, domain)
            credentials = [unwrap_envelope(vc) if _envelope_media_type(vc) else vc
                           for vc in _as_list(presentation.get("verifiableCredential"))]
        except CredentialError as exc:
            return _failure(self.name, exc)
        return ProofResult(ok=True, format=self.name, credential=presentation,
                           verification_method=kid,
                           details={"header": jws.header, "holder": did_of(kid),
                                    "nonce": presentation.get("nonce"),
                                    "aud": presentation.get("aud"),
                                    "credentials": credentials})


def _require_same(expected: str | None, found: str | None, what: str, *,
                  party: str = "issuer") -> None:
    if expected is not None and found is not None and found != expected:
        raise CredentialError(f"{party}: {what} {found!r} does not match {expected!r}",
                              code=f"{party}_mismatch")


def _check_audience(presentation: dict, challenge: str | None, domain: str | None) -> None:
    if challenge is not None:
        if "nonce" not in presentation:
            raise CredentialError("presentation: nonce missing", code="challenge")
        if presentation["nonce"] != challenge:
            raise CredentialError("presentation: nonce mismatch", code="challenge")
    if domain is not None:
        audience = presentation.get("aud")
        if audience is None:
            raise CredentialError("presentation: aud missing", code="domain")
        if domain not in _as_list(audience):
            raise CredentialError("presentation: aud mismatch", code="domain")


def _as_list(value: Any) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


# --- jwt-vc (VCDM 1.1) ----------------------------------------------------------------------

class JwtVc(ProofSuite):
    """VCDM 1.1 §6.3.1: header {"alg","typ":"JWT","kid"}; claims iss, sub, nbf, exp, jti, vc."""

    name = "jwt-vc"

    def recognises(self, secured: dict | str) -> bool:
        header = jose.peek_header(secured)
        if header is None or jose.media_type(header.get("typ", "JWT")) != "jwt":
            return False
        try:
            return isinstance(jose.decode(secured).claims(unique=False).get("vc"), dict)
        except CredentialError:
            return False

    def secure(self, credential: dict, signer: Signer, **options: Any) -> str:
        """§6.3.1 "To encode": each property with a registered claim moves into that claim."""
        vc = dict(credential)
        issuer = vc.pop("issuer", None)
        claims: dict[str, Any] = {"iss": party_id(issuer)}
        if claims["iss"] is None:
            raise MalformedCredential("issuer: missing")
        if did_of(signer.verification_method) != claims["iss"]:
            raise CredentialError("issuer: signer is not a key of the issuer",
                                  code="issuer_mismatch")
        if isinstance(issuer, dict) and len(issuer) > 1:
            vc["issuer"] = issuer  # keep the issuer's name etc.; iss only carries its id
        subject = vc.get("credentialSubject")
        if isinstance(subject, dict) and isinstance(subject.get("id"), str):
            vc["credentialSubject"] = {k: v for k, v in subject.items() if k != "id"}
            claims["sub"] = subject["id"]
        if "issuanceDate" in vc:
            claims["nbf"] = _to_numeric_date(vc.pop("issuanceDate"))
        if "expirationDate" in vc:
            claims["exp"] = _to_numeric_date(vc.pop("expirationDate"))
        if "id" in vc:
            claims["jti"] = vc.pop("id")
        claims["vc"] = vc
        return jose.sign(claims, signer, {"typ": "JWT", "kid": signer.verification_method})

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               leeway: float = DEFAULT_LEEWAY, **options: Any) -> ProofResult:
        """Signature by a key of `iss`, then `exp`/`nbf`, then the credential rebuilt
        (§6.3.1 "To decode"). A `vc` that also carries a property (as didkit may) must agree
        with its claim."""
        try:
            if not isinstance(secured, str):
                raise MalformedCredential("jws: a jwt-vc is a compact JWT string")
            jws = jose.decode(secured)
            typ = jws.header.get("typ", "JWT")
            if jose.media_type(typ) != "jwt":
                raise MalformedCredential(f"typ: expected JWT, got {typ!r}")
            claims = jws.claims(unique=False)
            if not isinstance(claims.get("vc"), dict):
                raise MalformedCredential("payload: no vc claim")
            issuer = claims.get("iss")
            if not isinstance(issuer, str):
                issuer = party_id(claims["vc"].get("issuer"))
            if issuer is None:
                raise MalformedCredential("issuer: no iss claim")
            if "kid" not in jws.header and issuer.startswith("did:key:"):
                kid = did_key_verification_method(issuer)  # did:key has a single key
            else:
                kid = key_id(jws.header, issuer)
            _require_same(issuer, did_of(kid), "kid")
            jose.verify_signature(jws, resolve_key(keys, kid))
            jose.check_validity_period(claims, jose.seconds(now), leeway)
            credential = _credential_from_claims(claims, issuer)
        except CredentialError as exc:
            return _failure(self.name, exc)
        return ProofResult(ok=True, format=self.name, credential=credential,
                           verification_method=kid,
                           details={"header": jws.header, "nbf": claims.get("nbf"),
                                    "exp": claims.get("exp"),
                                    "issuanceDate": credential.get("issuanceDate"),
                                    "expirationDate": credential.get("expirationDate")})


_VC11_ORDER = ("@context", "id", "type", "issuer", "issuanceDate", "expirationDate")


def _credential_from_claims(claims: dict, issuer: str) -> dict:
    """VCDM 1.1 §6.3.1 "To decode", refusing a `vc` whose own value contradicts a claim."""
    vc = dict(claims["vc"])
    _require_same(issuer, party_id(vc.get("issuer")), "vc.issuer")
    vc.setdefault("issuer", issuer)
    _merge(vc, "id", claims.get("jti"))
    _merge(vc, "issuanceDate", _from_numeric_date(jose.numeric_claim(claims, "nbf")))
    _merge(vc, "expirationDate", _from_numeric_date(jose.numeric_claim(claims, "exp")))
    if "sub" in claims:
        subject = vc.get("credentialSubject")
        if not isinstance(subject, dict):
            raise MalformedCredential("payload: sub given but credentialSubject is not one object")
        vc["credentialSubject"] = subject = dict(subject)
        _merge(subject, "id", claims["sub"])
    ordered = {key: vc.pop(key) for key in _VC11_ORDER if key in vc}
    return ordered | vc


def _merge(target: dict, name: str, value: Any) -> None:
    if value is None:
        return
    if name not in target:
        target[name] = value
    elif not _same_value(target[name], value):
        raise MalformedCredential(f"payload: vc.{name} {target[name]!r} contradicts its JWT claim")


def _same_value(in_vc: Any, from_claim: Any) -> bool:
    """Dates are compared to the second: a NumericDate has no fractions."""
    if in_vc == from_claim:
        return True
    try:
        return _to_numeric_date(in_vc) == _to_numeric_date(from_claim)
    except MalformedCredential:
        return False


def _to_numeric_date(value: Any) -> int:
    """xsd:dateTime to NumericDate; a time without offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedCredential(f"payload: {value!r} is not an xsd:dateTime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _from_numeric_date(value: float | None) -> str | None:
    if value is None:
        return None
    try:
        return iso8601(datetime.fromtimestamp(int(value), UTC))
    except (OverflowError, OSError, ValueError):
        raise MalformedCredential(f"payload: NumericDate {value!r} out of range") from None


VC_JWT = register(VcJwt())
VP_JWT = register(VpJwt())
JWT_VC = register(JwtVc())
