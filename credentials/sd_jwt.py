"""Selective Disclosure for JWTs, RFC 9901 (SD-JWT), independent of what the claims mean.

Issuer: `issue` conceals chosen claims (object properties and array elements, nested too) behind
digests of Disclosures (§4.2). Holder: `present` keeps the Disclosures to reveal and adds a
Key Binding JWT (§4.3). Verifier: `reveal` rebuilds the claims from the payload and Disclosures
with every check of §7.1, and `verify_key_binding` checks the KB-JWT (§7.3).

Errors are CredentialErrors whose message starts with the failed check ("disclosure: ...",
"kb_jwt: ...") so that verdicts can say which one failed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.json_limits import MAX_DEPTH
from credentials import jose
from credentials.errors import CredentialError, MalformedCredential, ProofInvalid
from credentials.keys import PublicKey, Signer

# §4.1.1: names from the IANA "Named Information Hash Algorithm" registry.
HASH_ALGORITHMS: dict[str, Callable] = {
    "sha-256": hashlib.sha256, "sha-384": hashlib.sha384, "sha-512": hashlib.sha512,
}
DEFAULT_SD_ALG = "sha-256"
KB_JWT_TYP = "kb+jwt"
RESERVED_NAMES = frozenset({"_sd", "..."})  # §4.2.1: never a disclosed claim name
SALT_BYTES = 16  # §4.2.1 recommends 128 bits of salt

ClaimPath = tuple[str | int, ...]  # ("address", "street"), ("nationalities", 0)
PathSpec = str | Sequence[str | int]  # "address.street" or ("address", "street")


def _hash(alg: str) -> Callable:
    try:
        return HASH_ALGORITHMS[alg]
    except (KeyError, TypeError):
        raise MalformedCredential(f"payload: _sd_alg {alg!r} not supported") from None


def digest(encoded: str, alg: str = DEFAULT_SD_ALG) -> str:
    """§4.2.3: base64url of the hash over the ASCII of the encoded Disclosure."""
    return jose.b64url(_hash(alg)(encoded.encode("ascii")).digest()).decode("ascii")


def sd_hash(sd_jwt_without_kb: str, alg: str = DEFAULT_SD_ALG) -> str:
    """§4.3.1 `sd_hash`: over the SD-JWT up to and including its last `~`."""
    return digest(sd_jwt_without_kb, alg)


# --- Disclosures ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Disclosure:
    """One salted claim: `[salt, name, value]` for an object property (§4.2.1) or
    `[salt, value]` for an array element (§4.2.2, name None)."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @classmethod
    def create(cls, value: Any, name: str | None = None) -> Disclosure:
        salt = jose.b64url(secrets.token_bytes(SALT_BYTES)).decode("ascii")
        content = [salt, value] if name is None else [salt, name, value]
        return cls(jose.b64url(jose.encode_json(content)).decode("ascii"), salt, name, value)

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        try:
            content = jose.loads_json(jose.b64url_decode_strict(encoded))
        except ValueError as exc:
            raise MalformedCredential(f"disclosure: not base64url JSON ({exc})") from None
        if not isinstance(content, list) or len(content) not in (2, 3) \
                or not isinstance(content[0], str):
            raise MalformedCredential("disclosure: not a [salt, (name,) value] array")
        if len(content) == 2:
            return cls(encoded, content[0], None, content[1])
        if not isinstance(content[1], str):
            raise MalformedCredential("disclosure: claim name is not a string")
        return cls(encoded, content[0], content[1], content[2])


# --- the serialisation ----------------------------------------------------------------------

@dataclass(frozen=True)
class SdJwt:
    """`<Issuer-signed JWT>~<Disclosure>~...~<Disclosure>~[<KB-JWT>]` (§4)."""

    jwt: str
    disclosures: tuple[str, ...] = ()
    kb_jwt: str | None = None

    @classmethod
    def parse(cls, text: str) -> SdJwt:
        if not isinstance(text, str) or "~" not in text:
            raise MalformedCredential("format: an SD-JWT is <JWT>~<Disclosures>~[<KB-JWT>]")
        jwt, *disclosures, last = text.split("~")
        if not jwt or any(not d for d in disclosures):
            raise MalformedCredential("format: empty JWT or Disclosure between '~'")
        return cls(jwt, tuple(disclosures), last or None)

    @property
    def without_kb(self) -> str:
        """What `sd_hash` covers: everything up to and including the last `~`."""
        return "".join(part + "~" for part in (self.jwt, *self.disclosures))

    def serialize(self) -> str:
        return self.without_kb + (self.kb_jwt or "")


# --- issuer: concealing claims ---------------------------------------------------------------

@dataclass
class _Node:
    """A tree of the paths to conceal: `conceal` marks the claim itself, children go deeper."""

    conceal: bool = False
    children: dict[str, _Node] = field(default_factory=dict)


def normalise_path(path: PathSpec) -> tuple[str, ...]:
    """"a.b.0" and ("a", "b", 0) alike, as strings (an index matches its decimal form)."""
    parts = path.split(".") if isinstance(path, str) else list(path)
    if not parts or any(part == "" for part in parts):
        raise ValueError(f"empty claim path segment in {path!r}")
    return tuple(str(part) for part in parts)


def _path_tree(paths: Iterable[PathSpec]) -> _Node:
    root = _Node()
    for path in paths:
        node = root
        for part in normalise_path(path):
            node = node.children.setdefault(part, _Node())
        node.conceal = True
    return root


def conceal(claims: dict, paths: Iterable[PathSpec], *, decoys: int = 0,
            ) -> tuple[dict, list[Disclosure]]:
    """The payload with each claim at `paths` replaced by a digest, and the Disclosures.

    Objects get an `_sd` array of sorted digests (sorting hides the claims' order, §4.2.4.1),
    plus `decoys` random digests (§4.2.5); array elements become `{"...": digest}` (§4.2.4.2).
    A claim inside a concealed claim is concealed inside its Disclosure (recursive, §4.2.6)."""
    disclosures: list[Disclosure] = []
    payload = _conceal(claims, _path_tree(paths), disclosures, decoys, ())
    return payload, disclosures


def _conceal(value: Any, node: _Node, out: list[Disclosure], decoys: int, at: tuple) -> Any:
    if isinstance(value, dict):
        return _conceal_object(value, node, out, decoys, at)
    if isinstance(value, list):
        return _conceal_array(value, node, out, decoys, at)
    if node.children:
        raise ValueError(f"claim path {'.'.join(at)} leads into a scalar")
    return value


def _conceal_object(obj: dict, node: _Node, out: list[Disclosure], decoys: int,
                    at: tuple) -> dict:
    if missing := node.children.keys() - obj.keys():
        raise ValueError(f"no claim {'.'.join((*at, sorted(missing)[0]))!r} to conceal")
    result: dict[str, Any] = {}
    digests: list[str] = []
    for name, value in obj.items():
        if name in RESERVED_NAMES:
            raise ValueError(f"claim name {name!r} is reserved by SD-JWT")
        child = node.children.get(name)
        if child is None:
            result[name] = value
            continue
        value = _conceal(value, child, out, decoys, (*at, name))
        if child.conceal:
            disclosure = Disclosure.create(value, name)
            out.append(disclosure)
            digests.append(digest(disclosure.encoded))
        else:
            result[name] = value
    if digests:
        digests += [_decoy_digest() for _ in range(decoys)]
        result["_sd"] = sorted(digests)
    return result


def _conceal_array(array: list, node: _Node, out: list[Disclosure], decoys: int,
                   at: tuple) -> list:
    if missing := node.children.keys() - {str(i) for i in range(len(array))}:
        raise ValueError(f"no array element {'.'.join((*at, sorted(missing)[0]))!r}")
    result = []
    for index, value in enumerate(array):
        child = node.children.get(str(index))
        if child is None:
            result.append(value)
            continue
        value = _conceal(value, child, out, decoys, (*at, str(index)))
        if child.conceal:
            disclosure = Disclosure.create(value)
            out.append(disclosure)
            result.append({"...": digest(disclosure.encoded)})
        else:
            result.append(value)
    return result


def _decoy_digest() -> str:
    """§4.2.5: the hash of a random number, indistinguishable from a real digest."""
    return digest(jose.b64url(secrets.token_bytes(32)).decode("ascii"))


def issue(claims: dict, signer: Signer, *, disclosable: Iterable[PathSpec] = (),
          header: dict | None = None, decoys: int = 0) -> str:
    """An SD-JWT (with its trailing `~`) whose `disclosable` claims are concealed."""
    payload, disclosures = conceal(claims, disclosable, decoys=decoys)
    payload["_sd_alg"] = DEFAULT_SD_ALG
    jwt = jose.sign(payload, signer, header)
    return SdJwt(jwt, tuple(d.encoded for d in disclosures)).serialize()


# --- verifier: rebuilding the claims --------------------------------------------------------

@dataclass
class Revealed:
    """The claims rebuilt from a payload and its Disclosures, with where each one went."""

    claims: dict
    disclosed: list[tuple[ClaimPath, Disclosure]]


def reveal(payload: dict, disclosures: Sequence[str], alg: str = DEFAULT_SD_ALG) -> Revealed:
    """§7.1: replace each digest by its Disclosure, recursively; drop `_sd`,
    `_sd_alg` and decoys. Rejects a Disclosure given twice or referenced by no digest, a digest
    that occurs twice, a Disclosure of the wrong shape for its place, a `_sd`/`...` claim name,
    and a disclosed name that collides with a claim already there."""
    by_digest: dict[str, Disclosure] = {}
    for encoded in disclosures:
        key = digest(encoded, alg)
        if key in by_digest:
            raise MalformedCredential("disclosure: the same Disclosure is given twice")
        by_digest[key] = Disclosure.parse(encoded)
    walk = _Reveal(by_digest)
    claims = walk.object(payload, (), top=True)
    if unused := by_digest.keys() - walk.used:
        raise MalformedCredential(f"disclosure: {len(unused)} Disclosure(s) not referenced by "
                                  "any digest")
    return Revealed(claims, walk.disclosed)


class _Reveal:
    def __init__(self, by_digest: dict[str, Disclosure]):
        self.by_digest = by_digest
        self.seen: set[str] = set()  # every digest met, real or decoy
        self.used: set[str] = set()
        self.disclosed: list[tuple[ClaimPath, Disclosure]] = []

    def value(self, value: Any, at: ClaimPath) -> Any:
        if len(at) >= MAX_DEPTH and isinstance(value, dict | list):
            # Each Disclosure is parsed within the limit, but Disclosures inside Disclosures
            # could nest the revealed claims without bound.
            raise MalformedCredential(f"payload: claims nested deeper than {MAX_DEPTH} levels "
                                      f"(the limit)")
        if isinstance(value, dict):
            return self.object(value, at)
        if isinstance(value, list):
            return self.array(value, at)
        return value

    def lookup(self, key: Any) -> Disclosure | None:
        if not isinstance(key, str):
            raise MalformedCredential("payload: a digest is not a string")
        if key in self.seen:
            raise MalformedCredential("payload: a digest occurs more than once")
        self.seen.add(key)
        disclosure = self.by_digest.get(key)
        if disclosure is not None:
            self.used.add(key)
        return disclosure

    def object(self, obj: dict, at: ClaimPath, *, top: bool = False) -> dict:
        digests = obj.get("_sd", [])
        if not isinstance(digests, list):
            raise MalformedCredential("payload: _sd is not an array")
        result = {name: self.value(value, (*at, name)) for name, value in obj.items()
                  if name != "_sd" and not (top and name == "_sd_alg")}
        for key in digests:
            disclosure = self.lookup(key)
            if disclosure is None:
                continue  # a decoy, or a claim the holder did not disclose
            name = disclosure.name
            if name is None:
                raise MalformedCredential("disclosure: an array-element Disclosure is "
                                          "referenced from an object's _sd")
            if name in RESERVED_NAMES:
                raise MalformedCredential(f"disclosure: claim name {name!r} is not allowed")
            if name in result:
                raise MalformedCredential(f"disclosure: claim {name!r} already exists")
            self.disclosed.append(((*at, name), disclosure))
            result[name] = self.value(disclosure.value, (*at, name))
        return result

    def array(self, array: list, at: ClaimPath) -> list:
        result: list[Any] = []
        for element in array:
            if not (isinstance(element, dict) and len(element) == 1 and "..." in element):
                result.append(self.value(element, (*at, len(result))))
                continue
            disclosure = self.lookup(element["..."])
            if disclosure is None:
                continue  # §7.1: an undisclosed or decoy element is removed
            if disclosure.name is not None:
                raise MalformedCredential("disclosure: an object-property Disclosure is "
                                          "referenced from an array")
            path = (*at, len(result))
            self.disclosed.append((path, disclosure))
            result.append(self.value(disclosure.value, path))
        return result


# --- holder: presenting ----------------------------------------------------------------------

def present(sd_jwt: str, disclose: Iterable[PathSpec] = (), *,
            holder_signer: Signer | None = None, aud: str | None = None,
            nonce: str | None = None, iat: int | None = None) -> str:
    """The SD-JWT (+KB) to send a verifier (§7.2 holder processing, §4.3 Key Binding).

    `disclose` lists claim paths; a path reveals that claim and everything inside it, and the
    Disclosures of the claims that contain it. Paths of array elements use the element's index
    in the fully disclosed array. With `holder_signer`, a KB-JWT binds the presentation to
    `aud` and `nonce` (both then required)."""
    parsed = SdJwt.parse(sd_jwt)
    if parsed.kb_jwt:
        raise ValueError("the SD-JWT already carries a Key Binding JWT")
    payload = jose.decode(parsed.jwt).claims()
    alg = payload.get("_sd_alg", DEFAULT_SD_ALG)
    everything = reveal(payload, parsed.disclosures, alg)
    wanted = [normalise_path(path) for path in disclose]
    for path in wanted:
        if not _exists(everything.claims, path):
            raise ValueError(f"no claim {'.'.join(path)!r} in this SD-JWT")
    kept = tuple(d.encoded for path, d in everything.disclosed
                 if any(_related(tuple(map(str, path)), want) for want in wanted))
    presentation = SdJwt(parsed.jwt, kept)
    if holder_signer is None:
        return presentation.serialize()
    if not (isinstance(aud, str) and isinstance(nonce, str)):
        raise ValueError("a Key Binding JWT needs aud and nonce (RFC 9901 §4.3)")
    claims = {"iat": int(jose.seconds()) if iat is None else iat, "aud": aud, "nonce": nonce,
              "sd_hash": sd_hash(presentation.without_kb, alg)}
    kb_jwt = jose.sign(claims, holder_signer, {"typ": KB_JWT_TYP})
    return SdJwt(parsed.jwt, kept, kb_jwt).serialize()


def _related(path: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """A Disclosure is needed when it is the wanted claim, inside it, or one of its parents."""
    shorter = min(len(path), len(wanted))
    return path[:shorter] == wanted[:shorter]


def _exists(claims: Any, path: tuple[str, ...]) -> bool:
    for part in path:
        if isinstance(claims, dict) and part in claims:
            claims = claims[part]
        elif isinstance(claims, list) and part.isdigit() and int(part) < len(claims):
            claims = claims[int(part)]
        else:
            return False
    return True


# --- verifier: Key Binding --------------------------------------------------------------------

def verify_key_binding(sd: SdJwt, holder_key: PublicKey, *, alg: str, aud: str | None,
                       nonce: str | None, now: float, max_age: float, leeway: float) -> dict:
    """§7.3: the KB-JWT's typ, its signature by the holder's (cnf) key, `sd_hash` over this
    presentation, `iat` within `max_age` seconds (plus `leeway` for clock skew), and `aud`
    and `nonce` equal to the expected ones when those are given. Returns its claims."""
    if not sd.kb_jwt:
        raise CredentialError("kb_jwt: missing (key binding required)", code="kb_jwt")
    try:
        jws = jose.decode(sd.kb_jwt)
    except MalformedCredential as exc:
        raise MalformedCredential(f"kb_jwt: {exc.detail}") from None
    if jose.media_type(jws.header.get("typ")) != KB_JWT_TYP:
        raise MalformedCredential(f"kb_jwt: typ must be {KB_JWT_TYP}")
    try:
        jose.verify_signature(jws, holder_key)
    except ProofInvalid as exc:
        raise ProofInvalid(f"kb_jwt: {exc.detail}") from None
    try:
        claims = jws.claims()
    except MalformedCredential as exc:
        raise MalformedCredential(f"kb_jwt: {exc.detail}") from None
    for name in ("iat", "aud", "nonce", "sd_hash"):
        if name not in claims:
            raise MalformedCredential(f"kb_jwt: {name} missing")
    issued = claims["iat"]
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        raise MalformedCredential("kb_jwt: iat is not a NumericDate")
    if claims["sd_hash"] != sd_hash(sd.without_kb, alg):
        raise CredentialError("kb_jwt: sd_hash mismatch", code="kb_jwt")
    if aud is not None and claims["aud"] != aud:
        raise CredentialError("kb_jwt: aud mismatch", code="kb_jwt")
    if nonce is not None and claims["nonce"] != nonce:
        raise CredentialError("kb_jwt: nonce mismatch", code="kb_jwt")
    if issued > now + leeway:
        raise CredentialError("kb_jwt: iat in the future", code="kb_jwt")
    if issued < now - max_age - leeway:
        raise CredentialError("kb_jwt: iat too old", code="kb_jwt")
    try:  # §7.3: "a valid JWT in all other respects", so exp/nbf when present
        jose.check_validity_period(claims, now, leeway)
    except CredentialError as exc:
        raise CredentialError(f"kb_jwt: {exc.detail}", code="kb_jwt") from None
    return claims
