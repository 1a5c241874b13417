"""Compact JWS and the JOSE suites: vc+jwt and vp+jwt (VC-JOSE-COSE), jwt-vc (VCDM 1.1)."""

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from credentials import jose
from credentials.dids import StaticKeyResolver, did_key_for, did_key_verification_method
from credentials.encoding import multibase_decode
from credentials.errors import MalformedCredential, ProofInvalid
from credentials.keys import LocalSigner
from credentials.suites.jose import (
    JWT_VC,
    VC_JWT,
    VP_JWT,
    envelope,
    envelope_presentation,
    unwrap_envelope,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "vc-jwt"
KEY_TYPES = ["Ed25519", "P-256"]
V2 = "https://www.w3.org/ns/credentials/v2"


# --- helpers --------------------------------------------------------------------------------

def did_key_signer(key_type: str = "Ed25519") -> LocalSigner:
    """A fresh key whose verification method is its own did:key."""
    key = LocalSigner.generate("", key_type)
    method = did_key_verification_method(did_key_for(key.public_key()))
    return LocalSigner.from_private_bytes(key.private_bytes(), method)


def did(signer: LocalSigner) -> str:
    return signer.verification_method.partition("#")[0]


def credential_v2(issuer: str, **extra) -> dict:
    return {"@context": [V2], "id": "urn:uuid:1b2c", "type": ["VerifiableCredential"],
            "issuer": issuer, "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:subject", "name": "Zoë"}, **extra}


def credential_v11(issuer: str, **extra) -> dict:
    return {"@context": ["https://www.w3.org/2018/credentials/v1"], "id": "urn:uuid:9f8e",
            "type": ["VerifiableCredential"], "issuer": issuer,
            "issuanceDate": "2025-01-01T00:00:00Z", "expirationDate": "2099-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:subject", "degree": "BSc"}, **extra}


def b64(value) -> str:
    return jose.b64url(jose.encode_json(value)).decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tamper_payload(token: str, change) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload))
    change(claims)
    return f"{header}.{b64(claims)}.{signature}"


def tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(unb64(signature))
    raw[0] ^= 1
    return f"{header}.{payload}.{jose.b64url(bytes(raw)).decode()}"


def with_header(token: str, **changes) -> str:
    """Same payload, a new header, an empty signature: for alg "none" and friends."""
    header, payload, _ = token.split(".")
    return f"{b64(json.loads(unb64(header)) | changes)}.{payload}."


def resign(header: dict, payload: dict, signer: LocalSigner) -> str:
    """A JWS with any header (even a non-standard alg name) signed by `signer`."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{jose.b64url(signer.sign(signing_input.encode())).decode()}"


RESOLVER = StaticKeyResolver()  # did:key only


# --- compact JWS ----------------------------------------------------------------------------

@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_jws_round_trip_emits_the_algorithm_of_the_key(key_type):
    signer = did_key_signer(key_type)

    token = jose.sign({"hello": "wörld"}, signer, {"typ": "JWT"})
    decoded = jose.decode(token)
    jose.verify_signature(decoded, signer.public_key())

    assert decoded.header == {"alg": {"Ed25519": "EdDSA", "P-256": "ES256"}[key_type],
                              "typ": "JWT"}
    assert decoded.claims() == {"hello": "wörld"}


def test_jws_accepts_the_rfc_9864_name_ed25519():
    signer = did_key_signer()
    token = resign({"alg": "Ed25519"}, {"a": 1}, signer)

    jose.verify_signature(jose.decode(token), signer.public_key())


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", None])
def test_jws_refuses_algorithms_other_than_eddsa_and_es256(alg):
    token = jose.sign({"a": 1}, did_key_signer())
    with pytest.raises(MalformedCredential, match="alg"):
        jose.decode(with_header(token, alg=alg))


def test_jws_refuses_an_algorithm_that_does_not_fit_the_key():
    signer = did_key_signer("Ed25519")
    token = resign({"alg": "ES256"}, {"a": 1}, signer)

    with pytest.raises(ProofInvalid, match="does not fit"):
        jose.verify_signature(jose.decode(token), signer.public_key())


@pytest.mark.parametrize("token", ["a.b", "a.b.c.d", "", "....", "abc"])
def test_jws_needs_exactly_three_parts(token):
    with pytest.raises(MalformedCredential, match="3 parts"):
        jose.decode(token)


@pytest.mark.parametrize("bad", ["eyJhbGciOiJFZERTQSJ9=", "eyJhbGciOiJFZERTQSJ9 ",
                                 "eyJhbGci+iJFZERTQSJ9", "eyJhbGciOiJFZERTQSJ8"])
def test_jws_refuses_padding_foreign_characters_and_non_canonical_base64url(bad):
    payload = b64({"a": 1})
    with pytest.raises(MalformedCredential, match="header"):
        jose.decode(f"{bad}.{payload}.AA")


def test_strict_base64url_decoder():
    assert jose.b64url_decode_strict("QQ") == b"A"
    for bad in ["QR", "QQ==", "Q", "Q Q", "Q/", "ab!c"]:
        with pytest.raises(ValueError):
            jose.b64url_decode_strict(bad)


@pytest.mark.parametrize("header", [
    '{"alg":"EdDSA","alg":"none"}',  # duplicate member
    '["EdDSA"]',  # not an object
    '{"alg":"EdDSA"',  # not JSON
])
def test_jws_header_must_be_one_json_object_with_unique_names(header):
    encoded = jose.b64url(header.encode()).decode()
    with pytest.raises(MalformedCredential, match="header"):
        jose.decode(f"{encoded}.{b64({'a': 1})}.AA")


@pytest.mark.parametrize(("crit", "message"), [
    (["exp"], "not understood"),
    (["kid"], "registered"),
    ([], "non-empty"),
    ("exp", "non-empty"),
    (["nope"], "absent"),
    (["exp", "exp"], "twice"),
])
def test_jws_crit_rules_of_rfc_7515_section_4_1_11(crit, message):
    signer = did_key_signer()
    token = resign({"alg": "EdDSA", "crit": crit, "exp": 1, "kid": "k"}, {"a": 1}, signer)

    with pytest.raises(MalformedCredential, match=message):
        jose.decode(token)


def test_jws_crit_passes_when_the_caller_understands_the_extension():
    signer = did_key_signer()
    token = resign({"alg": "EdDSA", "crit": ["exp"], "exp": 1}, {"a": 1}, signer)

    assert jose.decode(token, understood_crit={"exp"}).header["crit"] == ["exp"]


def test_jws_payload_refuses_non_json_constants():
    signer = did_key_signer()
    token = jose.sign(b'{"a":NaN}', signer)
    with pytest.raises(MalformedCredential, match="payload"):
        jose.decode(token).claims()


# --- vc+jwt golden vector -------------------------------------------------------------------

def vector_signer() -> tuple[LocalSigner, bytes]:
    key = json.loads((VECTORS / "key.json").read_text())
    private = multibase_decode(key["privateKeyMultibase"])
    assert private[:2] == b"\x80\x26"  # multicodec ed25519-priv
    multikey = key["publicKeyMultibase"]
    return LocalSigner.from_ed25519_seed(private[2:], f"did:key:{multikey}#{multikey}"), \
        private[2:]


def test_vc_jwt_golden_vector_is_reproduced_exactly():
    signer, _ = vector_signer()
    credential = json.loads((VECTORS / "credential.json").read_text())
    expected = (VECTORS / "credential.jwt").read_text().strip()

    assert VC_JWT.secure(credential, signer) == expected
    result = VC_JWT.verify(expected, RESOLVER)
    assert result.ok, result.errors
    assert result.credential == credential


def test_vc_jwt_golden_vector_checked_without_our_code():
    """Decode by hand and verify with `cryptography` directly from the seed."""
    _, seed = vector_signer()
    credential = json.loads((VECTORS / "credential.json").read_text())
    token = (VECTORS / "credential.jwt").read_text().strip()
    header_b64, payload_b64, signature_b64 = token.split(".")

    header = json.loads(unb64(header_b64))
    payload = unb64(payload_b64)
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    public.verify(unb64(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))

    assert list(header) == ["alg", "typ", "cty", "kid"]
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt" and header["cty"] == "vc"
    assert header["kid"].partition("#")[0] == credential["issuer"]["id"]
    assert payload == json.dumps(credential, separators=(",", ":"), ensure_ascii=False).encode()


# --- vc+jwt ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_vc_jwt_round_trip(key_type):
    signer = did_key_signer(key_type)
    credential = credential_v2(did(signer))

    token = VC_JWT.secure(credential, signer)
    result = VC_JWT.verify(token, RESOLVER)

    assert result.ok, result.errors
    assert result.format == "vc+jwt"
    assert result.credential == credential
    assert result.verification_method == signer.verification_method
    assert result.details["header"]["typ"] == "vc+jwt"
    assert result.details["validFrom"] == "2025-01-01T00:00:00Z"


def test_vc_jwt_issuer_may_be_an_object_and_a_did_web_with_a_known_key():
    signer = LocalSigner.generate("did:web:example.com:orgs:acme#key-1")
    resolver = StaticKeyResolver({signer.verification_method: signer.public_key()})
    credential = credential_v2({"id": "did:web:example.com:orgs:acme", "name": "Acme"})

    result = VC_JWT.verify(VC_JWT.secure(credential, signer, iss_header=True), resolver)

    assert result.ok, result.errors
    assert result.details["header"]["iss"] == "did:web:example.com:orgs:acme"


def test_vc_jwt_envelope_round_trip():
    signer = did_key_signer()
    token = VC_JWT.secure(credential_v2(did(signer)), signer)

    wrapped = envelope(token)

    assert wrapped == {"@context": [V2], "type": "EnvelopedVerifiableCredential",
                       "id": f"data:application/vc+jwt,{token}"}
    assert unwrap_envelope(wrapped) == token
    assert VC_JWT.recognises(wrapped) and VC_JWT.recognises(token)
    assert VC_JWT.verify(wrapped, RESOLVER).ok
    with pytest.raises(MalformedCredential):
        unwrap_envelope({"type": "EnvelopedVerifiableCredential", "id": f"data:text/plain,{token}"})


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_vc_jwt_tampered_claim_fails(key_type):
    signer = did_key_signer(key_type)
    token = VC_JWT.secure(credential_v2(did(signer)), signer)

    forged = tamper_payload(token, lambda c: c["credentialSubject"].update(name="Mallory"))
    result = VC_JWT.verify(forged, RESOLVER)

    assert not result.ok
    assert result.errors == ["signature: invalid"]


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_vc_jwt_tampered_signature_fails(key_type):
    signer = did_key_signer(key_type)
    token = VC_JWT.secure(credential_v2(did(signer)), signer)

    assert VC_JWT.verify(tamper_signature(token), RESOLVER).errors == ["signature: invalid"]


def test_vc_jwt_wrong_key_fails():
    signer = LocalSigner.generate("did:web:example.com#key-1")
    other = LocalSigner.generate("did:web:example.com#key-1")
    token = VC_JWT.secure(credential_v2("did:web:example.com"), signer)

    result = VC_JWT.verify(token, StaticKeyResolver({other.verification_method:
                                                     other.public_key()}))

    assert result.errors == ["signature: invalid"]


def test_vc_jwt_unresolvable_kid_fails():
    signer = LocalSigner.generate("did:web:example.com#key-1")
    token = VC_JWT.secure(credential_v2("did:web:example.com"), signer)

    result = VC_JWT.verify(token, StaticKeyResolver())

    assert not result.ok and result.errors[0].startswith("cannot resolve")
    assert result.details["code"] == "key_not_found"


def test_vc_jwt_alg_none_fails():
    signer = did_key_signer()
    token = VC_JWT.secure(credential_v2(did(signer)), signer)

    result = VC_JWT.verify(with_header(token, alg="none"), RESOLVER)

    assert not result.ok and "alg 'none' not accepted" in result.errors[0]


def test_vc_jwt_key_of_another_did_fails_even_with_a_valid_signature():
    signer = did_key_signer()
    token = VC_JWT.secure(credential_v2(did(signer)), signer)
    forged = resign(json.loads(unb64(token.split(".")[0])),
                    credential_v2("did:web:victim.example"), signer)

    result = VC_JWT.verify(forged, RESOLVER)

    assert not result.ok and result.errors[0].startswith("issuer: kid")


def test_vc_jwt_signer_must_belong_to_the_issuer():
    with pytest.raises(Exception, match="issuer"):
        VC_JWT.secure(credential_v2("did:web:someone.else"), did_key_signer())


@pytest.mark.parametrize(("header", "error"), [
    ({"typ": "JWT"}, "typ: expected vc+jwt"),
    ({"cty": "json"}, "cty: expected vc"),
])
def test_vc_jwt_wrong_typ_or_cty_fails(header, error):
    signer = did_key_signer()
    base = {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": signer.verification_method}
    token = resign(base | header, credential_v2(did(signer)), signer)

    assert VC_JWT.verify(token, RESOLVER).errors[0].startswith(error)


def test_vc_jwt_accepts_typ_with_the_application_prefix_and_no_cty():
    signer = did_key_signer()
    header = {"alg": "EdDSA", "typ": "application/vc+jwt", "kid": signer.verification_method}

    assert VC_JWT.verify(resign(header, credential_v2(did(signer)), signer), RESOLVER).ok


def test_vc_jwt_refuses_a_vcdm_1_1_vc_claim_in_the_payload():
    signer = did_key_signer()
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": signer.verification_method}
    token = resign(header, credential_v2(did(signer), vc={}), signer)

    assert "vc and vp claims" in VC_JWT.verify(token, RESOLVER).errors[0]


def test_vc_jwt_leaves_expiry_to_the_verifier_but_reports_it():
    """Expired credentials still carry a valid proof; the verifier's validity check fails."""
    signer = did_key_signer()
    credential = credential_v2(did(signer), validUntil="2020-01-01T00:00:00Z")

    result = VC_JWT.verify(VC_JWT.secure(credential, signer), RESOLVER)

    assert result.ok and result.details["validUntil"] == "2020-01-01T00:00:00Z"


def test_vc_jwt_garbage_never_raises():
    for garbage in [None, 42, "", "a.b.c", {"type": "x"}, "~", "e30.e30.e30"]:
        assert not VC_JWT.verify(garbage, RESOLVER).ok


# --- vp+jwt ---------------------------------------------------------------------------------

def presentation(*credentials) -> dict:
    return {"@context": [V2], "type": ["VerifiablePresentation"],
            "verifiableCredential": list(credentials)}


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_vp_jwt_round_trip_with_challenge_and_domain(key_type):
    issuer, holder = did_key_signer(), did_key_signer(key_type)
    vc = VC_JWT.secure(credential_v2(did(issuer)), issuer)

    token = VP_JWT.secure(presentation(vc), holder, challenge="n-123", domain="https://v.example")
    result = VP_JWT.verify(token, RESOLVER, challenge="n-123", domain="https://v.example")

    assert result.ok, result.errors
    assert result.credential["holder"] == did(holder)
    assert result.credential["verifiableCredential"] == [envelope(vc)]
    assert result.details["credentials"] == [vc]
    assert VC_JWT.verify(result.details["credentials"][0], RESOLVER).ok
    assert VP_JWT.recognises(token) and not VC_JWT.recognises(token)
    assert VP_JWT.verify(envelope_presentation(token), RESOLVER, challenge="n-123").ok


@pytest.mark.parametrize(("options", "error"), [
    ({"challenge": "other"}, "presentation: nonce mismatch"),
    ({"domain": "https://evil.example"}, "presentation: aud mismatch"),
])
def test_vp_jwt_wrong_challenge_or_domain_fails(options, error):
    holder = did_key_signer()
    token = VP_JWT.secure(presentation(), holder, challenge="n-123", domain="https://v.example")

    assert VP_JWT.verify(token, RESOLVER, **options).errors == [error]


def test_vp_jwt_missing_challenge_fails_when_one_is_expected():
    token = VP_JWT.secure(presentation(), did_key_signer())

    assert VP_JWT.verify(token, RESOLVER, challenge="n-1").errors == ["presentation: nonce missing"]


def test_vp_jwt_tampered_presentation_and_foreign_holder_fail():
    holder = did_key_signer()
    token = VP_JWT.secure(presentation(), holder, challenge="n-1")
    header = json.loads(unb64(token.split(".")[0]))
    foreign = resign(header, presentation() | {"holder": "did:web:victim.example"}, holder)

    tampered = tamper_payload(token, lambda p: p.update(nonce="n-2"))

    assert VP_JWT.verify(tampered, RESOLVER).errors == ["signature: invalid"]
    assert VP_JWT.verify(foreign, RESOLVER).errors[0].startswith("holder: kid")


# --- jwt-vc (VCDM 1.1) ----------------------------------------------------------------------

@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_jwt_vc_round_trip_rebuilds_the_credential(key_type):
    signer = did_key_signer(key_type)
    credential = credential_v11(did(signer))

    token = JWT_VC.secure(credential, signer)
    result = JWT_VC.verify(token, RESOLVER)

    assert result.ok, result.errors
    assert result.format == "jwt-vc"
    assert result.credential == credential
    assert JWT_VC.recognises(token) and not VC_JWT.recognises(token)


def test_jwt_vc_claims_follow_vcdm_1_1_section_6_3_1():
    signer = did_key_signer()
    token = JWT_VC.secure(credential_v11(did(signer)), signer)
    header, claims = (json.loads(unb64(part)) for part in token.split(".")[:2])

    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": signer.verification_method}
    assert claims == {
        "iss": did(signer), "sub": "did:example:subject", "nbf": 1735689600,
        "exp": 4070908800, "jti": "urn:uuid:9f8e",
        "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"],
               "type": ["VerifiableCredential"], "credentialSubject": {"degree": "BSc"}}}


def test_jwt_vc_is_lenient_where_the_spec_allows():
    """A vc that also carries issuer and issuanceDate (as some issuers write it), and no kid
    for a did:key issuer."""
    signer = did_key_signer()
    claims = {"iss": did(signer), "nbf": 1735689600, "jti": "urn:uuid:1",
              "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"],
                     "type": ["VerifiableCredential"], "issuer": {"id": did(signer)},
                     "issuanceDate": "2025-01-01T00:00:00.000Z",
                     "credentialSubject": {"degree": "BSc"}}}
    token = resign({"alg": "EdDSA"}, claims, signer)

    result = JWT_VC.verify(token, RESOLVER)

    assert result.ok, result.errors
    assert result.credential["issuer"] == {"id": did(signer)}
    assert result.credential["id"] == "urn:uuid:1"


def test_jwt_vc_vc_contradicting_a_claim_fails():
    signer = did_key_signer()
    claims = {"iss": did(signer), "vc": {"type": ["VerifiableCredential"],
                                         "issuer": "did:web:victim.example"}}
    token = resign({"alg": "EdDSA", "kid": signer.verification_method}, claims, signer)

    assert JWT_VC.verify(token, RESOLVER).errors[0].startswith("issuer: vc.issuer")


@pytest.mark.parametrize(("dates", "error"), [
    ({"expirationDate": "2020-01-01T00:00:00Z"}, "validity_period: expired"),
    ({"issuanceDate": "2090-01-01T00:00:00Z"}, "validity_period: not valid yet (nbf)"),
])
def test_jwt_vc_expired_or_not_yet_valid_fails(dates, error):
    signer = did_key_signer()
    token = JWT_VC.secure(credential_v11(did(signer), **dates), signer)

    assert JWT_VC.verify(token, RESOLVER).errors == [error]


def test_jwt_vc_leeway_tolerates_clock_skew():
    signer = did_key_signer()
    token = JWT_VC.secure(credential_v11(did(signer)), signer)
    just_after = datetime(2099, 1, 1, tzinfo=UTC) + timedelta(seconds=30)

    assert JWT_VC.verify(token, RESOLVER, now=just_after).ok
    assert not JWT_VC.verify(token, RESOLVER, now=just_after, leeway=0).ok


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_jwt_vc_tampered_claim_signature_wrong_key_and_alg_none_fail(key_type):
    signer = did_key_signer(key_type)
    token = JWT_VC.secure(credential_v11(did(signer)), signer)
    other = did_key_signer(key_type)
    wrong_key = StaticKeyResolver({signer.verification_method: other.public_key()})

    tampered = tamper_payload(token, lambda c: c["vc"]["credentialSubject"].update(degree="PhD"))

    assert JWT_VC.verify(tampered, RESOLVER).errors == ["signature: invalid"]
    assert JWT_VC.verify(tamper_signature(token), RESOLVER).errors == ["signature: invalid"]
    assert JWT_VC.verify(token, wrong_key).errors == ["signature: invalid"]
    assert not JWT_VC.verify(with_header(token, alg="none"), RESOLVER).ok


def test_jwt_vc_refuses_other_jwt_types():
    signer = did_key_signer()
    token = resign({"alg": "EdDSA", "typ": "vc+jwt", "kid": signer.verification_method},
                   {"iss": did(signer), "vc": {}}, signer)

    assert JWT_VC.verify(token, RESOLVER).errors[0].startswith("typ:")
    assert not JWT_VC.recognises(token)
