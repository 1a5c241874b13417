"""Data Integrity EdDSA cryptosuites (eddsa-rdfc-2022, eddsa-jcs-2022) and the legacy
Ed25519Signature2018 suite: golden vectors, then the same behaviour checks for every suite."""

import copy
import hashlib
import json
import struct
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials import jcs, jsonld
from credentials.dids import StaticKeyResolver
from credentials.encoding import (
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
)
from credentials.errors import UndefinedTerms, UnknownContext
from credentials.keys import LocalSigner
from credentials.suites import data_integrity, get_suite
from credentials.suites.ld_2018 import ENCODED_HEADER
from tests.support.credential_fixtures import (
    CREDENTIALS_V1,
    CREDENTIALS_V2,
    EXAMPLES_V2,
    UNTP_CONTEXT,
    VECTOR_METHOD,
    battery_passport,
    battery_passport_v1,
    load_json,
    load_text,
    vector_signer,
)

RDFC, JCS, LD2018 = "eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2018"
DID_KEY_RESOLVER = StaticKeyResolver()  # resolves did:key, which the vector key uses


# --- eddsa-rdfc-2022: the W3C test vector, step by step --------------------------------------

class TestRdfcW3CVector:
    suite = data_integrity.EddsaRdfc2022()
    unsigned = load_json("eddsa-rdfc-2022/unsigned.json")
    config = load_json("eddsa-rdfc-2022/proofConfigDataInt.json")

    def options(self) -> dict:
        return {k: v for k, v in self.config.items() if k != "@context"}

    def test_canonical_document(self):
        expected = load_text("eddsa-rdfc-2022/canonDocDataInt.txt")
        assert self.suite.transformation(self.unsigned, self.options()) == expected.encode()

    def test_proof_configuration(self):
        expected = load_text("eddsa-rdfc-2022/proofCanonDataInt.txt")
        canonical = self.suite.proof_configuration(self.options(), self.unsigned)
        assert canonical == expected.encode()

    def test_hashes_and_signature(self):
        transformed = self.suite.transformation(self.unsigned, self.options())
        canonical_config = self.suite.proof_configuration(self.options(), self.unsigned)
        combined = self.suite.hashing(transformed, canonical_config)
        assert hashlib.sha256(transformed).hexdigest() == load_text(
            "eddsa-rdfc-2022/docHashDataInt.txt").strip()
        assert hashlib.sha256(canonical_config).hexdigest() == load_text(
            "eddsa-rdfc-2022/proofHashDataInt.txt").strip()
        assert combined.hex() == load_text("eddsa-rdfc-2022/combinedHashDataInt.txt").strip()
        signature = self.suite.proof_serialization(combined, vector_signer())
        assert signature.hex() == load_text("eddsa-rdfc-2022/sigHexDataInt.txt").strip()

    def test_signed_credential(self):
        signed = self.suite.secure(self.unsigned, vector_signer(), created=self.config["created"])
        assert signed == load_json("eddsa-rdfc-2022/signedDataInt.json")

    def test_verifies(self):
        result = self.suite.verify(load_json("eddsa-rdfc-2022/signedDataInt.json"),
                                   DID_KEY_RESOLVER)
        assert result.ok, result.errors
        assert result.verification_method == VECTOR_METHOD
        assert "proof" not in result.credential


# --- JCS (RFC 8785) ------------------------------------------------------------------------------

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
RFC8785_NUMBERS = {
    "0000000000000000": "0", "8000000000000000": "0", "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324", "7fefffffffffffff": "1.7976931348623157e+308",
    "ffefffffffffffff": "-1.7976931348623157e+308", "4340000000000000": "9007199254740992",
    "c340000000000000": "-9007199254740992", "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22", "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23", "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000", "444b1ae4d6e2ef50": "1e+21",
    "3eb0c6f7a0b5ed8c": "9.999999999999997e-7", "3eb0c6f7a0b5ed8d": "0.000001",
    "41b3de4355555553": "333333333.3333332", "41b3de4355555554": "333333333.33333325",
    "41b3de4355555555": "333333333.3333333", "41b3de4355555556": "333333333.3333334",
    "41b3de4355555557": "333333333.33333343", "becbf647612f3696": "-0.0000033333333333333333",
    "43143ff3c1cb0959": "1424953923781206.2",
}


@pytest.mark.parametrize(("bits", "text"), RFC8785_NUMBERS.items())
def test_jcs_numbers_rfc8785_appendix_b(bits, text):
    assert jcs.serialize_number(struct.unpack(">d", bytes.fromhex(bits))[0]) == text


@pytest.mark.parametrize(("number", "text"), [
    (1e21, "1e+21"), (1e-7, "1e-7"), (0.000001, "0.000001"), (-0.0, "0"), (0.087, "0.087"),
    (80.0, "80"), (150, "150"), (-20, "-20"), (1e20, "100000000000000000000"),
])
def test_jcs_number_boundaries(number, text):
    assert jcs.serialize_number(number) == text


def test_jcs_sorts_member_names_by_utf16_code_units():
    # RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike by code point.
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    canonical = jcs.canonicalize({name: 0 for name in names}).decode()
    assert canonical == '{"\\r":0,"1":0,"\u0080":0,"\u00f6":0,"\u20ac":0,"\U0001f600":0,"\ufb33":0}'


def test_jcs_string_escapes_rfc8785():
    # RFC 8785 §3.2.2.2 example: only '"', '\' and control characters are escaped.
    text = "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/"
    assert jcs.serialize_string(text) == '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "\ud800", 2**53 + 1,
                                   {1: "non-string name"}, {"set": {1, 2}}])
def test_jcs_refuses_what_is_not_i_json(value):
    with pytest.raises(ValueError):
        jcs.canonicalize(value)


def test_jcs_small_document_by_hand():
    document = {"b": [1, 2.5, True, None, {"z": -0.0, "a": "ö\n"}], "a": {"d": 1e21, "c": 1e-7}}
    assert jcs.canonicalize(document) == (
        '{"a":{"c":1e-7,"d":1e+21},"b":[1,2.5,true,null,{"a":"ö\\n","z":0}]}').encode()


# --- eddsa-jcs-2022: the derived vector, cross-checked, and the W3C one -----------------------

# unsigned.json canonicalised by hand from RFC 8785's rules, independently of the code.
JCS_VECTOR_CANONICAL = (
    '{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://www.w3.org/ns/credentials/examples/v2"],'
    '"credentialSubject":{"Zebra":"capitals sort first","carbonFootprint":0.087,'
    '"id":"https://id.example.com/product/bat-75kwh",'
    '"name":"Batterie \\"Ø 75 kWh\\"\\t– Zellenmodul \U0001f50b",'
    '"nested":{"a":"x","b":[3,{"a":"first","z":true}]},'
    '"numbers":{"belowLarge":999999999999999900000,"integer":150,"large":1e+21,'
    '"negativeZero":0,"ratio":333333333.33333325,"small":1e-7,"threshold":0.000001,'
    '"whole":80},'
    '"\u00f6l":"o-umlaut key","\u20acuro":"euro sign key",'
    '"\U0001f600":"emoji key (a surrogate pair in UTF-16)",'
    '"\ufb33":"Hebrew dalet with dagesh key"},'
    '"id":"urn:uuid:9d3c1c5e-6b1a-4c54-9a7e-2f1f0c1b7a10",'
    '"issuer":"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",'
    '"type":["VerifiableCredential","ExampleBatteryCredential"],'
    '"validFrom":"2025-03-01T00:00:00Z"}'
)


class TestJcsVector:
    suite = data_integrity.EddsaJcs2022()
    unsigned = load_json("eddsa-jcs-2022/unsigned.json")
    signed = load_json("eddsa-jcs-2022/signedJCS.json")

    def test_canonical_document_matches_the_hand_made_one(self):
        canonical = self.suite.transformation(self.unsigned, self.signed["proof"])
        assert canonical == JCS_VECTOR_CANONICAL.encode("utf-8")
        assert canonical == load_text("eddsa-jcs-2022/canonDocJCS.txt").encode("utf-8")

    def test_proof_configuration_carries_the_document_context(self):
        config = load_json("eddsa-jcs-2022/proofConfigJCS.json")
        assert config["@context"] == self.unsigned["@context"]
        canonical = self.suite.proof_configuration(self.signed["proof"], self.unsigned)
        assert canonical == load_text("eddsa-jcs-2022/proofCanonJCS.txt").encode()
        assert canonical == json.dumps(config, sort_keys=True, separators=(",", ":")).encode()

    def test_hashes_and_signature_independently(self):
        proof_hash = hashlib.sha256(load_text("eddsa-jcs-2022/proofCanonJCS.txt").encode())
        doc_hash = hashlib.sha256(JCS_VECTOR_CANONICAL.encode("utf-8"))
        assert doc_hash.hexdigest() == load_text("eddsa-jcs-2022/docHashJCS.txt")
        assert proof_hash.hexdigest() == load_text("eddsa-jcs-2022/proofHashJCS.txt")
        combined = proof_hash.digest() + doc_hash.digest()
        assert combined.hex() == load_text("eddsa-jcs-2022/combinedHashJCS.txt")
        signature = multibase_decode(self.signed["proof"]["proofValue"])
        assert signature.hex() == load_text("eddsa-jcs-2022/sigHexJCS.txt")
        Ed25519PublicKey.from_public_bytes(vector_signer().public_key().raw).verify(
            signature, combined)  # raises if wrong

    def test_signed_credential(self):
        signed = self.suite.secure(self.unsigned, vector_signer(),
                                   created="2025-03-01T12:00:00Z")
        assert signed == self.signed
        assert self.suite.verify(signed, DID_KEY_RESOLVER).ok

    def test_w3c_signed_credential_reproduced(self):
        expected = load_json("eddsa-jcs-2022/w3c/signedJCS.json")
        signer = vector_signer(expected["proof"]["verificationMethod"])
        unsigned = load_json("eddsa-rdfc-2022/unsigned.json")
        assert self.suite.secure(unsigned, signer, created=expected["proof"]["created"]) \
            == expected
        keys = StaticKeyResolver({signer.verification_method: signer.public_key()})
        assert self.suite.verify(expected, keys).ok


# --- Ed25519Signature2018, checked without the suite ------------------------------------------

def test_ed25519_signature_2018_follows_the_spec():
    signer = vector_signer()
    document = battery_passport_v1()
    signed = get_suite(LD2018).secure(document, signer, created="2025-03-01T12:00:00Z")
    proof = signed["proof"]
    header, payload, signature = proof["jws"].split(".")
    assert json.loads(b64url_decode(header)) == {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
    assert payload == ""
    options = {k: v for k, v in proof.items() if k != "jws"}
    options["@context"] = document["@context"]
    verify_data = (hashlib.sha256(jsonld.canonicalize(options).encode()).digest()
                   + hashlib.sha256(jsonld.canonicalize(document).encode()).digest())
    Ed25519PublicKey.from_public_bytes(signer.public_key().raw).verify(
        b64url_decode(signature), header.encode() + b"." + verify_data)


def test_ed25519_signature_2018_accepts_another_header_member_order():
    """didkit writes {"alg","crit","b64"}: the signature covers the header as sent."""
    suite = get_suite(LD2018)
    signer = vector_signer()
    signed = suite.secure(battery_passport_v1(), signer)
    header = b64url_encode(b'{"alg":"EdDSA","crit":["b64"],"b64":false}')
    document = {k: v for k, v in signed.items() if k != "proof"}
    verify_data = suite.create_verify_data(document, signed["proof"])
    signature = signer.sign(header.encode() + b"." + verify_data)
    signed["proof"]["jws"] = f"{header}..{b64url_encode(signature)}"
    assert suite.verify(signed, DID_KEY_RESOLVER).ok


def test_ed25519_signature_2018_refuses_an_encoded_payload_header():
    suite = get_suite(LD2018)
    signed = suite.secure(battery_passport_v1(), vector_signer())
    signature = signed["proof"]["jws"].split(".")[2]
    signed["proof"]["jws"] = b64url_encode(b'{"alg":"EdDSA"}') + ".." + signature
    result = suite.verify(signed, DID_KEY_RESOLVER)
    assert not result.ok and "b64" in result.errors[0]
    assert ENCODED_HEADER == "eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19"


# --- every suite: the same behaviour -------------------------------------------------------------

def unsigned_for(name: str) -> dict:
    return battery_passport_v1() if name == LD2018 else battery_passport()


def sign(name: str, document: dict | None = None, **options) -> dict:
    return get_suite(name).secure(document or unsigned_for(name), vector_signer(), **options)


def verify(name: str, secured: dict, keys=DID_KEY_RESOLVER, **options):
    return get_suite(name).verify(secured, keys, **options)


ALL = pytest.mark.parametrize("name", [RDFC, JCS, LD2018])


@ALL
def test_round_trip(name):
    secured = sign(name)
    result = verify(name, secured)
    assert result.ok, result.errors
    assert result.format == name
    assert result.verification_method == VECTOR_METHOD
    assert result.credential == {k: v for k, v in secured.items() if k != "proof"}
    assert get_suite(name).recognises(secured)
    others = [other for other in (RDFC, JCS, LD2018) if other != name]
    assert not any(get_suite(other).recognises(secured) for other in others)


@ALL
def test_tampered_claim_fails(name):
    secured = sign(name)
    secured["credentialSubject"]["characteristics"]["ratedCapacity"]["value"] = 151
    result = verify(name, secured)
    assert not result.ok
    assert result.errors == ["signature does not verify"]


@ALL
def test_tampered_proof_option_fails(name):
    secured = sign(name)
    secured["proof"]["created"] = "2020-01-01T00:00:00Z"
    assert not verify(name, secured).ok


@ALL
def test_tampered_signature_fails(name):
    secured = sign(name)
    if name == LD2018:
        header, _, signature = secured["proof"]["jws"].split(".")
        flipped = bytearray(b64url_decode(signature))
        flipped[0] ^= 1
        secured["proof"]["jws"] = f"{header}..{b64url_encode(bytes(flipped))}"
    else:
        value = secured["proof"]["proofValue"]
        secured["proof"]["proofValue"] = value[:-2] + ("A" if value[-2] != "A" else "B") + \
            value[-1]
    result = verify(name, secured)
    assert not result.ok
    assert result.errors[0] in ("signature does not verify", "jws signature is not 64 bytes")


@ALL
def test_wrong_key_fails(name):
    secured = sign(name)
    other = LocalSigner.generate(VECTOR_METHOD).public_key()
    result = verify(name, secured, StaticKeyResolver({VECTOR_METHOD: other}))
    assert not result.ok
    assert result.errors == ["signature does not verify"]


@ALL
def test_unresolvable_key_fails(name):
    secured = sign(name)
    secured["proof"]["verificationMethod"] = "did:web:unknown.example#key-1"
    result = verify(name, secured)
    assert not result.ok and "cannot resolve" in result.errors[0]


@ALL
def test_unknown_context_fails(name):
    document = unsigned_for(name)
    document["@context"].append("https://example.com/unknown-context/v1")
    with pytest.raises(UnknownContext):
        sign(name, document)
    secured = sign(name)
    secured["@context"].append("https://example.com/unknown-context/v1")
    result = verify(name, secured)
    assert not result.ok
    assert "unknown-context" in result.errors[0]


@ALL
def test_undefined_term_fails_naming_it(name):
    document = unsigned_for(name)
    document["credentialSubject"]["favouriteColour"] = "blue"
    with pytest.raises(UndefinedTerms) as caught:
        sign(name, document)
    assert caught.value.terms == ["favouriteColour"]
    secured = sign(name)
    secured["credentialSubject"]["favouriteColour"] = "blue"
    result = verify(name, secured)
    assert not result.ok
    assert "favouriteColour" in result.errors[0]


def test_untp_sample_without_extension_context_cannot_be_signed():
    passport = battery_passport()
    passport["@context"] = [CREDENTIALS_V2, UNTP_CONTEXT]
    for name in (RDFC, JCS):
        with pytest.raises(UndefinedTerms) as caught:
            sign(name, passport)
        assert "DigitalProductPassport" in caught.value.terms
        assert "batteryChemistry" in caught.value.terms


@ALL
def test_proof_expires(name):
    now = datetime(2030, 1, 1, tzinfo=UTC)
    secured = sign(name, created=now - timedelta(days=2), expires=now - timedelta(days=1))
    result = verify(name, secured, now=now)
    assert not result.ok
    assert result.errors == [f"proof expired at {secured['proof']['expires']}"]
    assert verify(name, secured, now=now - timedelta(days=1, seconds=1)).ok


@ALL
def test_wrong_purpose_fails(name):
    secured = sign(name)
    result = verify(name, secured, purpose="authentication", challenge="c")
    assert not result.ok and "proof purpose" in result.errors[0]


@ALL
def test_presentation_needs_the_challenge(name):
    context = [CREDENTIALS_V1] if name == LD2018 else [CREDENTIALS_V2]
    presentation = {"@context": context, "type": ["VerifiablePresentation"],
                    "holder": "did:example:holder"}
    secured = sign(name, presentation, purpose="authentication", challenge="n-0S6_WzA2Mj",
                   domain="https://verifier.example")
    result = verify(name, secured, challenge="n-0S6_WzA2Mj", domain="https://verifier.example")
    assert result.ok, result.errors
    assert result.details["holder"] == "did:example:holder"
    assert result.details["credentials"] == []
    assert not verify(name, secured, challenge="another").ok
    assert not verify(name, secured, challenge="n-0S6_WzA2Mj", domain="https://evil.example").ok
    assert "challenge" in verify(name, secured).errors[0]


@ALL
@pytest.mark.parametrize("garbage", [None, "not a credential", {}, {"proof": "x"},
                                     {"@context": "x", "proof": {}}, {"proof": [{}, {}]}])
def test_verify_never_raises(name, garbage):
    result = get_suite(name).verify(garbage, DID_KEY_RESOLVER)
    assert not result.ok and result.errors and result.errors[0]


@pytest.mark.parametrize(("name", "field", "value"), [
    (RDFC, "proofValue", "not-multibase"), (RDFC, "proofValue", "z0OIl"),
    (JCS, "created", "yesterday"), (RDFC, "verificationMethod", 42),
    (LD2018, "jws", "a.b.c"), (LD2018, "jws", "!!..!!"), (JCS, "@context", ["other"]),
])
def test_malformed_proof_fails_with_reason(name, field, value):
    secured = sign(name)
    secured["proof"][field] = value
    result = verify(name, secured)
    assert not result.ok and result.errors[0]


# --- decimals and VCDM 1.1 -----------------------------------------------------------------------

def decimal_credential() -> dict:
    return {"@context": [CREDENTIALS_V2, EXAMPLES_V2], "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {"id": "did:example:battery", "carbonFootprint": 0.087}}


def test_decimal_0_087_rdfc():
    # pyld (like jsonld.js) writes the JSON number 0.087 in RDF canonical form as the xsd:double
    # "8.699999999999999E-2", as RDFC/JSON-LD to-RDF specify; didkit writes it otherwise, so a
    # didkit-signed credential with fractions fails to verify elsewhere. We follow the spec.
    suite = get_suite(RDFC)
    canonical = suite.transformation(decimal_credential(), {
        "type": "DataIntegrityProof", "cryptosuite": RDFC}).decode()
    assert '"8.699999999999999E-2"^^<http://www.w3.org/2001/XMLSchema#double>' in canonical
    assert verify(RDFC, sign(RDFC, decimal_credential())).ok


def test_decimal_0_087_jcs():
    # JCS keeps the ECMAScript shortest form: 0.087 stays "0.087".
    canonical = get_suite(JCS).transformation(decimal_credential(), {
        "type": "DataIntegrityProof", "cryptosuite": JCS})
    assert b'"carbonFootprint":0.087' in canonical
    assert verify(JCS, sign(JCS, decimal_credential())).ok


@pytest.mark.parametrize("name", [RDFC, JCS])
def test_vcdm_1_1_document_gets_the_data_integrity_context(name):
    document = battery_passport_v1()
    secured = sign(name, document)
    assert secured["@context"] == [*document["@context"], data_integrity.DATA_INTEGRITY_V2]
    assert verify(name, secured).ok
    # The proof configuration is read under the Data Integrity context: nothing dropped.
    options = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    canonical = get_suite(name).proof_configuration(options, secured).decode()
    assert data_integrity.DATA_INTEGRITY_V2 in canonical or \
        "<https://w3id.org/security#cryptosuite>" in canonical


def test_vcdm_1_1_proof_config_context_alone_is_accepted():
    """A proof made with the Data Integrity context only in the proof configuration (the document
    left as is) verifies too: the proof configuration is rebuilt the same way."""
    suite = get_suite(RDFC)
    document = battery_passport_v1()
    options = data_integrity.proof_options("DataIntegrityProof", vector_signer(),
                                           cryptosuite=RDFC)
    canonical_config = suite.proof_configuration(options, document)
    assert "https://w3id.org/security#cryptosuite" in canonical_config.decode()
    hash_data = suite.hashing(suite.transformation(document, options), canonical_config)
    proof = {**options, "proofValue": multibase_encode(vector_signer().sign(hash_data))}
    assert verify(RDFC, {**document, "proof": proof}).ok


def test_registered_under_their_names():
    for name in (RDFC, JCS, LD2018):
        assert get_suite(name).name == name


def test_signing_does_not_change_the_input():
    document = battery_passport()
    before = copy.deepcopy(document)
    for name in (RDFC, JCS):
        sign(name, document)
    assert document == before


def test_a_single_context_url_is_accepted():
    document = {"@context": CREDENTIALS_V2, "type": ["VerifiableCredential"],
                "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:s"}}
    for name in (RDFC, JCS):
        assert verify(name, sign(name, document)).ok


def test_jcs_without_term_check_still_refuses_unknown_contexts():
    suite = data_integrity.EddsaJcs2022(check_terms=False)
    document = battery_passport()
    document["credentialSubject"]["favouriteColour"] = "blue"  # signed as JSON: allowed here
    keys = DID_KEY_RESOLVER
    assert suite.verify(suite.secure(document, vector_signer()), keys).ok
    document["@context"].append("https://example.com/unknown-context/v1")
    with pytest.raises(UnknownContext):
        suite.secure(document, vector_signer())
