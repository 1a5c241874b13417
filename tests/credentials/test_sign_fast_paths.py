"""The signing fast paths give what the reference paths give, byte for byte, and refuse what
they refuse:

- jose.sign (orjson, pybase64) and a JWS written by hand with the stdlib's json and base64 for
  the header: the same compact JWS, on the vc+jwt golden vector, the UNTP samples (bundled and
  /work/shared/specs) and the W3C vectors, signed twice in a row;
- eddsa-jcs-2022 (JCS on byte classes, term check once per document shape) and the proof
  recomputed with jcs.reference and the document expanded by jsonld.expand: the same proof
  value, and the same refusal, also for a document breaking a shape already accepted;
- the key store's signer logs every signature, one by one or in a batch."""

import base64
import copy
import hashlib
import json
from pathlib import Path

import orjson
import pytest

from credentials import jcs, jose, jsonld, signing
from credentials.dids import StaticKeyResolver
from credentials.encoding import b64url_decode, multibase_decode, multibase_encode
from credentials.errors import CredentialError
from credentials.key_store import ensure_key, logged_signature_time
from credentials.models import SignatureRecord
from credentials.suites import get_suite
from tests.credentials.generated import all_categories, passports
from tests.support.credential_fixtures import (
    battery_passport,
    did_key_signer,
    load_json,
    load_text,
    vector_signer,
)

SPECS = Path("/work/shared/specs")
SHARED_SAMPLES = ["untp-0.7.0/DigitalProductPassport_instance.json",
                  "untp-0.7.0/DigitalProductPassport_battery_instance.json",
                  "untp-0.7.0/DigitalIdentityAnchor_battery_instance.json",
                  "test-vectors/eddsa-rdfc-2022/unsigned.json"]
BUNDLED_SAMPLES = ["untp-0.7.0/DigitalProductPassport_battery_instance.json",
                   "eddsa-jcs-2022/unsigned.json", "eddsa-rdfc-2022/unsigned.json",
                   "vc-jwt/credential.json"]
CREATED = "2026-01-02T03:04:05Z"


def samples() -> list[tuple[str, dict]]:
    found = [(name, load_json(name)) for name in BUNDLED_SAMPLES]
    found += [(f"shared:{name}", json.loads((SPECS / name).read_text(encoding="utf-8")))
              for name in SHARED_SAMPLES if (SPECS / name).exists()]
    found.append(("battery_passport()", battery_passport()))
    return found


def issued_by(document: dict, did: str) -> dict:
    document = {key: value for key, value in copy.deepcopy(document).items() if key != "proof"}
    if isinstance(document.get("issuer"), dict):
        document["issuer"]["id"] = did
    else:
        document["issuer"] = did
    return document


def outcome(operation, *args, **kwargs):
    """What the operation gave, or the error's type and words."""
    try:
        return operation(*args, **kwargs)
    except CredentialError as exc:
        return type(exc).__name__, exc.detail
    except Exception as exc:  # noqa: BLE001 - compared, whatever it is
        return type(exc).__name__, str(exc)


# --- JWS ------------------------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def reference_jws(payload: dict | bytes, signer, header: dict) -> str:
    """RFC 7515 §7.1 written out: the header by the stdlib's json each time (no cache), the
    payload as jose.encode_json writes it (orjson: its doubles differ from the stdlib's, 1e21
    and not 1e+21, and they are what was always signed), base64url by the stdlib."""
    alg = {"Ed25519": "EdDSA", "P-256": "ES256"}[signer.key_type]
    header_json = json.dumps({"alg": alg, **header}, separators=(",", ":"), ensure_ascii=False)
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    signing_input = f"{b64(header_json.encode())}.{b64(body)}"
    return f"{signing_input}.{b64(signer.sign(signing_input.encode('ascii')))}"


def test_the_vc_jwt_golden_vector_is_reproduced_twice_in_a_row():
    signer = vector_signer()
    credential = load_json("vc-jwt/credential.json")
    expected = load_text("vc-jwt/credential.jwt").strip()
    assert get_suite("vc+jwt").secure(credential, signer) == expected
    assert get_suite("vc+jwt").secure(credential, signer) == expected


@pytest.mark.parametrize("name,document", samples(), ids=[name for name, _ in samples()])
def test_vc_jwt_of_every_sample_is_the_reference_jws(name, document):
    signer = did_key_signer()
    credential = issued_by(document, signer.verification_method.partition("#")[0])
    header = {"typ": "vc+jwt", "cty": "vc", "kid": signer.verification_method}
    for _ in range(2):
        assert get_suite("vc+jwt").secure(credential, signer) == \
            reference_jws(credential, signer, header)
    assert get_suite("vc+jwt").secure(credential, signer, iss_header=True) == \
        reference_jws(credential, signer, {**header, "iss": credential["issuer"]["id"]
                                           if isinstance(credential["issuer"], dict)
                                           else credential["issuer"]})


def test_headers_that_are_not_all_strings_and_other_keys_are_encoded_each_their_own():
    first, second = did_key_signer(), did_key_signer()
    payload = {"iss": "did:example:1", "name": "Zoë"}
    headers = [{"typ": "JWT", "kid": first.verification_method},
               {"typ": "JWT", "kid": second.verification_method},
               {"typ": "JWT", "x5c": ["MIIB", "MIIC"]}, {"typ": "JWT", "n": 1},
               {"typ": "JWT", "crit": ["b64"], "b64": True}, {}]
    for signer in (first, second):
        for header in headers:
            assert jose.sign(payload, signer, header) == reference_jws(payload, signer, header)
            assert jose.sign(payload, signer, header) == reference_jws(payload, signer, header)
    with pytest.raises(ValueError, match="alg is set"):
        jose.sign(payload, first, {"alg": "none"})


def test_vc_jwt_refuses_what_it_refused():
    signer = did_key_signer()
    credential = issued_by(battery_passport(), signer.verification_method.partition("#")[0])
    get_suite("vc+jwt").secure(credential, signer)
    stranger = issued_by(credential, "did:example:someone-else")
    assert outcome(get_suite("vc+jwt").secure, stranger, signer)[0] == "CredentialError"
    no_issuer = {key: value for key, value in credential.items() if key != "issuer"}
    assert outcome(get_suite("vc+jwt").secure, no_issuer, signer) == (
        "MalformedCredential", "issuer: missing")


def reference_signing_input(payload: dict | bytes, key_type: str, header: dict) -> bytes:
    """The first two parts of reference_jws, for keys whose signatures are not deterministic
    (ES256)."""
    alg = {"Ed25519": "EdDSA", "P-256": "ES256"}[key_type]
    header_json = json.dumps({"alg": alg, **header}, separators=(",", ":"), ensure_ascii=False)
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return f"{b64(header_json.encode())}.{b64(body)}".encode("ascii")


@pytest.mark.django_db
@pytest.mark.parametrize("category", all_categories())
def test_vc_jwt_of_generated_passports_is_the_reference_jws_and_verifies(category):
    """The kept header and the payload's padding cut by a view: every length modulo 3 of the
    payload (its base64url has 0, 1 or 2 padding characters to drop), two keys in turn, with
    and without the iss header, each token the reference one and verified by the suite."""
    signers = [did_key_signer(), did_key_signer()]
    suite, keys = get_suite("vc+jwt"), StaticKeyResolver()
    remainders = set()
    for number, document in enumerate(passports(category, 60, seed=7)):
        signer = signers[number % 2]
        did = signer.verification_method.partition("#")[0]
        credential = issued_by(document, did)
        header = {"typ": "vc+jwt", "cty": "vc", "kid": signer.verification_method}
        with_iss = number % 3 == 0
        if with_iss:
            header["iss"] = did
        token = suite.secure(credential, signer, iss_header=with_iss)
        assert token == reference_jws(credential, signer, header)
        result = suite.verify(token, keys)
        assert result.ok, result.errors
        assert result.credential == credential
        remainders.add(len(orjson.dumps(credential)) % 3)
    assert remainders == {0, 1, 2}


def test_payloads_of_every_length_and_both_key_types_are_the_reference_jws():
    """Bytes payloads of 0-64 bytes (every padding), Ed25519 compared whole, P-256 (ES256
    signatures are randomised) by its signing input and a verified signature."""
    header = {"typ": "JWT"}
    for key_type in ("Ed25519", "P-256"):
        signer = did_key_signer(key_type)
        for length in range(65):
            payload = bytes(range(256))[:length]
            token = jose.sign(payload, signer, header)
            signing_input, _, signature = token.rpartition(".")
            assert signing_input.encode() == reference_signing_input(payload, key_type, header)
            assert signer.public_key().verify(b64url_decode(signature), signing_input.encode())
            if key_type == "Ed25519":
                assert token == reference_jws(payload, signer, header)


def test_vp_jwt_is_the_reference_jws_for_each_holder_key():
    suite = get_suite("vp+jwt")
    for _ in range(2):
        for signer in (did_key_signer(), did_key_signer("P-256")):
            holder = signer.verification_method.partition("#")[0]
            presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                            "type": ["VerifiablePresentation"]}
            token = suite.secure(presentation, signer, challenge="n-1", domain="https://v.example")
            expected = {**presentation, "holder": holder, "nonce": "n-1",
                        "aud": "https://v.example"}
            header = {"typ": "vp+jwt", "cty": "vp", "kid": signer.verification_method}
            assert token.rpartition(".")[0].encode() == \
                reference_signing_input(expected, signer.key_type, header)
            assert suite.verify(token, StaticKeyResolver(), challenge="n-1",
                                domain="https://v.example").ok


# --- eddsa-jcs-2022 -------------------------------------------------------------------------

def reference_proof_value(secured: dict, signer) -> str:
    """vc-di-eddsa §3.3 by the reference JCS, after the reference term check (expansion)."""
    unsecured = {key: value for key, value in secured.items() if key != "proof"}
    options = {key: value for key, value in secured["proof"].items() if key != "proofValue"}
    jsonld.expand(unsecured)
    hash_data = (hashlib.sha256(jcs.reference(options)).digest()
                 + hashlib.sha256(jcs.reference(unsecured)).digest())
    return multibase_encode(signer.sign(hash_data))


def test_the_w3c_jcs_vector_is_reproduced_twice_in_a_row():
    signer = vector_signer()
    expected = load_json("eddsa-jcs-2022/signedJCS.json")
    unsigned = load_json("eddsa-jcs-2022/unsigned.json")
    for _ in range(2):
        secured = get_suite("eddsa-jcs-2022").secure(unsigned, signer,
                                                     created=expected["proof"]["created"])
        assert secured["proof"]["proofValue"] == expected["proof"]["proofValue"]
        assert multibase_decode(secured["proof"]["proofValue"]).hex() == \
            load_text("eddsa-jcs-2022/sigHexJCS.txt").strip()


@pytest.mark.parametrize("name,document", samples(), ids=[name for name, _ in samples()])
def test_jcs_proofs_of_every_sample_are_the_reference_proofs(name, document):
    signer = did_key_signer()
    credential = issued_by(document, signer.verification_method.partition("#")[0])
    suite = get_suite("eddsa-jcs-2022")
    secured = outcome(suite.secure, credential, signer, created=CREATED)
    if isinstance(secured, tuple):  # refused: for the reason expansion refuses it
        assert secured == outcome(jsonld.expand, credential)
        return
    assert secured["proof"]["proofValue"] == reference_proof_value(secured, signer)
    again = suite.secure(credential, signer, created=CREATED)  # its shape is remembered now
    assert jcs.canonicalize(again) == jcs.reference(secured)


BREAKAGES = {
    "undefined term": lambda d: d["credentialSubject"].update({"undefinedTerm": "x"}),
    "undefined type": lambda d: d.update({"type": [*d["type"], "UndefinedType"]}),
    "relative id": lambda d: d["credentialSubject"].update({"id": "relative/id"}),
    "unknown context": lambda d: d.update(
        {"@context": [*d["@context"], "https://unknown.example/ctx"]}),
    "term in a second subject": lambda d: d.update(
        {"credentialSubject": [d["credentialSubject"], {"id": "https://e.example", "odd": 1}]}),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_document_breaking_an_accepted_shape_is_still_refused(breakage):
    signer = did_key_signer()
    suite = get_suite("eddsa-jcs-2022")
    credential = issued_by(battery_passport(), signer.verification_method.partition("#")[0])
    suite.secure(credential, signer)  # this shape is accepted and remembered
    suite.secure(credential, signer)
    broken = copy.deepcopy(credential)
    BREAKAGES[breakage](broken)

    refused = outcome(suite.secure, broken, signer)
    expected = outcome(jsonld.expand, broken)
    assert isinstance(refused, tuple)
    # an unknown context is refused before expansion, in words the expander extends
    assert refused[0] == expected[0] and expected[1].startswith(refused[1])
    assert outcome(suite.secure, broken, signer) == refused  # and again: never remembered


# --- the key store's signer -----------------------------------------------------------------

@pytest.mark.django_db
def test_every_signature_of_the_key_store_signer_is_logged():
    did = "did:web:signfast.example"
    ensure_key(did)
    signer = signing.signer_for(did)
    credential = issued_by(battery_passport(), did)
    before = SignatureRecord.objects.count()
    tokens = [signing.secure_jwt(credential, signer) for _ in range(3)]
    secured = signing.secure_embedded(credential, signer, "eddsa-jcs-2022")
    with signing.signing_log_batch():
        tokens.append(signing.secure_jwt(credential, signer))
    assert SignatureRecord.objects.count() == before + 5
    key_pk = signer.key_pk
    for token in tokens:
        assert logged_signature_time(key_pk, b64url_decode(token.rsplit(".", 1)[1]))
    assert logged_signature_time(key_pk, multibase_decode(secured["proof"]["proofValue"]))
