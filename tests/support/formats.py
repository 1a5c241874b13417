"""Credentials of every supported format about one issued passport, signed with its
organisation's key, for the verify matrix: valid, tampered, expired, unknown issuer, unknown
context. Revoked and suspended come from the status service acting on the passport (and on a
Token Status List entry for SD-JWT VCs, which carry no passport id).

Each format is a `Format` with `make(case)` -> what a client sends as `credential` (or
`presentation`)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from credentials import signing
from credentials.keys import LocalSigner
from credentials.signing import decode_jwt_parts, envelope
from credentials.status_registry import TokenEntry, token_entry_allocate
from credentials.suites import get_suite
from passports.credential import iso
from passports.models import Passport

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
UNKNOWN_CONTEXT = "https://contexts.example/never-heard-of-it/v1"
STRANGER_DID = "did:web:localhost%3A8000:orgs:nobody"  # our host, but no such organisation
PAST = datetime(2020, 1, 1, tzinfo=UTC)

CASES = ("valid", "tampered", "revoked", "suspended", "expired", "unknown_issuer",
         "unknown_context", "garbage")


@dataclass
class World:
    passport: Passport
    signer: LocalSigner
    token_entry: TokenEntry | None = None  # the SD-JWT VC's Token Status List entry

    @property
    def issuer(self) -> str:
        return self.passport.product.organisation.did

    def stranger(self) -> LocalSigner:
        return LocalSigner.generate(f"{STRANGER_DID}#key-1")

    def passport_credential(self) -> dict:
        return decode_jwt_parts(self.passport.jwt)[1]


def world_for(passport: Passport) -> World:
    return World(passport, signing.signer_for(passport.product.organisation.did))


# --- building blocks -----------------------------------------------------------------------------

def _v2(world: World, case: str) -> tuple[dict, LocalSigner]:
    """The passport's own credential, adjusted for the case, and who signs it."""
    credential = world.passport_credential()
    signer = world.signer
    if case == "expired":
        credential["validFrom"] = iso(PAST)
        credential["validUntil"] = iso(PAST + timedelta(days=1))
    elif case == "unknown_issuer":
        signer = world.stranger()
        credential["issuer"] = {**credential["issuer"], "id": STRANGER_DID}
    elif case == "unknown_context":
        credential["@context"] = [*credential["@context"], UNKNOWN_CONTEXT]
    return credential, signer


def _v1(world: World, case: str) -> tuple[dict, LocalSigner]:
    """A VCDM 1.1 credential about the same passport (its id, so the service knows it)."""
    passport = world.passport
    credential = {
        "@context": [V1],
        "type": ["VerifiableCredential"],
        "id": passport.credential_url,
        "issuer": world.issuer,
        "issuanceDate": iso(passport.issued_at),
        "expirationDate": iso(passport.issued_at + timedelta(days=3650)),
        "credentialSubject": {"id": passport.product.digital_link},
    }
    signer = world.signer
    if case == "expired":
        credential["issuanceDate"] = iso(PAST)
        credential["expirationDate"] = iso(PAST + timedelta(days=1))
    elif case == "unknown_issuer":
        signer = world.stranger()
        credential["issuer"] = STRANGER_DID
    elif case == "unknown_context":
        credential["@context"] = [V1, UNKNOWN_CONTEXT]
    return credential, signer


def _tamper_compact(jwt: str) -> str:
    """Change one claim of the payload and keep the signature."""
    header, payload, signature = jwt.split("~", 1)[0].split(".")
    rest = jwt[len(f"{header}.{payload}.{signature}"):]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["tampered"] = True
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}{rest}"


def _tamper_embedded(document: dict) -> dict:
    forged = copy.deepcopy(document)
    subject = forged["credentialSubject"]
    subject["name"] = "Counterfeit battery"
    return forged


# --- the formats ---------------------------------------------------------------------------------

def vc_jwt(world: World, case: str):
    if case in ("valid", "revoked", "suspended"):
        return world.passport.jwt
    if case == "tampered":
        return _tamper_compact(world.passport.jwt)
    credential, signer = _v2(world, case)
    return get_suite("vc+jwt").secure(credential, signer)


def enveloped(world: World, case: str):
    secured = vc_jwt(world, case)
    return envelope(secured) if isinstance(secured, str) else secured


def _with_unknown_context(secured: dict) -> dict:
    """The engine refuses to sign with a context it does not know: add it afterwards."""
    return {**secured, "@context": [*secured["@context"], UNKNOWN_CONTEXT]}


SIGNED_AS_VALID = ("tampered", "unknown_context")  # signed valid, changed afterwards


def embedded(suite: str) -> Callable:
    def make(world: World, case: str):
        credential, signer = _v2(world, "valid" if case in SIGNED_AS_VALID else case)
        secured = get_suite(suite).secure(credential, signer)
        if case == "unknown_context":
            return _with_unknown_context(secured)
        return _tamper_embedded(secured) if case == "tampered" else secured
    return make


def ed25519_2018(world: World, case: str):
    credential, signer = _v1(world, "valid" if case in SIGNED_AS_VALID else case)
    secured = get_suite("Ed25519Signature2018").secure(credential, signer)
    if case == "unknown_context":
        return _with_unknown_context(secured)
    if case == "tampered":
        secured = copy.deepcopy(secured)
        secured["credentialSubject"]["id"] = "https://counterfeit.example/01/1"
    return secured


def jwt_vc(world: World, case: str):
    credential, signer = _v1(world, "valid" if case == "tampered" else case)
    secured = get_suite("jwt-vc").secure(credential, signer)
    return _tamper_compact(secured) if case == "tampered" else secured


def sd_jwt(world: World, case: str):
    if world.token_entry is None:
        world.token_entry = token_entry_allocate(world.issuer)
    claims = {"vct": "https://w3id.org/dpp-wallet/vct/product",
              "gtin": world.passport.product.gtin, "name": world.passport.product.name}
    signer, options = world.signer, {"status": world.token_entry.reference()}
    if case == "expired":
        options.update(iat=PAST, exp=PAST + timedelta(days=1))
    elif case == "unknown_issuer":
        signer = world.stranger()
    secured = get_suite("dc+sd-jwt").secure(claims, signer, disclosable=["gtin"], **options)
    return _tamper_compact(secured) if case == "tampered" else secured


def vp_jwt(world: World, case: str):
    """A presentation by the organisation of the passport credential (`case` applied to the
    credential inside; tampering and an unknown holder apply to the presentation)."""
    inner = vc_jwt(world, "valid" if case in ("tampered", "unknown_issuer") else case)
    presentation = {"@context": [V2], "type": ["VerifiablePresentation"],
                    "verifiableCredential": [inner]}
    signer = world.stranger() if case == "unknown_issuer" else world.signer
    if case == "unknown_context":
        presentation["@context"] = [V2, UNKNOWN_CONTEXT]
    secured = get_suite("vp+jwt").secure(presentation, signer, challenge="c-1",
                                         domain="verifier.example")
    return _tamper_compact(secured) if case == "tampered" else secured


@dataclass(frozen=True)
class Format:
    name: str
    make: Callable
    field: str = "credential"  # the verify request's field
    media_type: str | None = None  # a raw body's Content-Type, when it has one


FORMATS = [
    Format("vc+jwt", vc_jwt, media_type="application/vc+jwt"),
    Format("vc+jwt (enveloped)", enveloped, media_type="application/vc"),
    Format("eddsa-rdfc-2022", embedded("eddsa-rdfc-2022"), media_type="application/vc"),
    Format("eddsa-jcs-2022", embedded("eddsa-jcs-2022"), media_type="application/ld+json"),
    Format("Ed25519Signature2018", ed25519_2018),
    Format("jwt-vc", jwt_vc),
    Format("dc+sd-jwt", sd_jwt, media_type="application/dc+sd-jwt"),
    Format("vp+jwt", vp_jwt, field="presentation", media_type="application/vp+jwt"),
]

GARBAGE = {
    "vc+jwt": "eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln",
    "vc+jwt (enveloped)": {"@context": [V2], "type": "EnvelopedVerifiableCredential",
                           "id": "data:application/vc+jwt,not-a-jwt"},
    "eddsa-rdfc-2022": {"@context": [V2], "type": ["VerifiableCredential"],
                        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                                  "proofValue": "zzz"}},
    "eddsa-jcs-2022": {"@context": [V2], "proof": {"type": "DataIntegrityProof",
                                                   "cryptosuite": "eddsa-jcs-2022"}},
    "Ed25519Signature2018": {"@context": [V1], "proof": {"type": "Ed25519Signature2018",
                                                         "jws": "..."}},
    "jwt-vc": "eyJ0eXAiOiJKV1QifQ.eyJ2YyI6IDF9.AAAA",
    "dc+sd-jwt": "eyJ0eXAiOiJkYytzZC1qd3QifQ.e30.AAAA~WyJub3QiXQ~",
    "vp+jwt": "eyJ0eXAiOiJ2cCtqd3QifQ.e30.",
}
