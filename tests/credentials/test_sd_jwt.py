"""SD-JWT (RFC 9901) and the `dc+sd-jwt` SD-JWT VC suite: issue, present, verify, and each
check of RFC 9901 §7 failing on its own."""

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from credentials import jose, sd_jwt
from credentials.dids import StaticKeyResolver
from credentials.keys import LocalSigner
from credentials.sd_jwt import Disclosure, SdJwt, digest, present
from credentials.suites.jose import JWT_VC, VC_JWT, VP_JWT, envelope
from credentials.suites.sd_jwt import SD_JWT_VC
from tests.support.credential_fixtures import did_key_signer

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "sd-jwt"
KEY_TYPES = ["Ed25519", "P-256"]
RESOLVER = StaticKeyResolver()  # did:key only
AUD, NONCE = "https://verifier.example", "n-0S6_WzA2Mj"
VCT = "https://credentials.example.eu/identity"


# --- helpers --------------------------------------------------------------------------------


def did(signer: LocalSigner) -> str:
    return signer.verification_method.partition("#")[0]


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


CLAIMS = {
    "vct": VCT,
    "given_name": "Erika",
    "family_name": "Mustermann",
    "birthdate": "1963-08-12",
    "address": {"street_address": "Heidestraße 17", "locality": "Köln", "country": "DE"},
    "nationalities": ["DE", "NL"],
}
DISCLOSABLE = ["given_name", "family_name", "birthdate", "address", "address.street_address",
               ("nationalities", 1)]


@pytest.fixture
def issuer():
    return did_key_signer()


@pytest.fixture
def holder():
    return did_key_signer("P-256")


@pytest.fixture
def credential(issuer, holder):
    return SD_JWT_VC.secure(CLAIMS, issuer, disclosable=DISCLOSABLE,
                            holder_key=holder.public_key())


def issuer_jwt(payload: dict, signer: LocalSigner, typ: str = "dc+sd-jwt") -> str:
    """An issuer-signed JWT with any payload, to build SD-JWTs the issuer code would refuse."""
    return jose.sign(payload, signer, {"typ": typ, "kid": signer.verification_method})


def crafted(signer: LocalSigner, disclosures: list[Disclosure], payload: dict) -> str:
    base = {"iss": did(signer), "vct": VCT, "_sd_alg": "sha-256"}
    return SdJwt(issuer_jwt(base | payload, signer), tuple(d.encoded for d in disclosures)) \
        .serialize()


def kb_jwt(signer: LocalSigner, without_kb: str, **changes) -> str:
    claims = {"iat": int(jose.seconds()), "aud": AUD, "nonce": NONCE,
              "sd_hash": sd_jwt.sd_hash(without_kb)} | changes
    return jose.sign(claims, signer, {"typ": "kb+jwt"})


def verify(secured, **options):
    return SD_JWT_VC.verify(secured, RESOLVER, **options)


# --- RFC 9901 vectors -----------------------------------------------------------------------

def test_rfc_9901_example_disclosures_and_digests():
    vectors = json.loads((VECTORS / "rfc9901-disclosures.json").read_text())
    for vector in vectors["disclosures"]:
        disclosure = Disclosure.parse(vector["disclosure"])

        assert (disclosure.salt, disclosure.name, disclosure.value) == \
            (vector["salt"], vector["name"], vector["value"])
        assert digest(vector["disclosure"], vectors["sd_alg"]) == vector["digest"]


def test_rfc_9901_example_disclosures_rebuild_their_claims():
    rfc = {v["name"] or "element": v
           for v in json.loads((VECTORS / "rfc9901-disclosures.json").read_text())["disclosures"]}
    payload = {"_sd": [rfc["given_name"]["digest"], rfc["family_name"]["digest"]],
               "nationalities": [{"...": rfc["element"]["digest"]}, "DE"]}

    revealed = sd_jwt.reveal(payload, [v["disclosure"] for v in rfc.values()])

    assert revealed.claims == {"nationalities": ["US", "DE"], "given_name": "John",
                               "family_name": "Doe"}


# --- issuing --------------------------------------------------------------------------------

def test_issued_sd_jwt_vc_conceals_what_it_should(credential, issuer, holder):
    parsed = SdJwt.parse(credential)
    header, payload = (json.loads(unb64(p)) for p in parsed.jwt.split(".")[:2])

    assert header == {"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": issuer.verification_method}
    assert credential.endswith("~") and parsed.kb_jwt is None
    assert len(parsed.disclosures) == 6
    assert payload["iss"] == did(issuer) and payload["vct"] == VCT
    assert payload["_sd_alg"] == "sha-256"
    assert payload["cnf"] == {"jwk": holder.public_key().jwk()}
    assert isinstance(payload["iat"], int)
    assert {"given_name", "family_name", "birthdate", "address"}.isdisjoint(payload)
    assert payload["_sd"] == sorted(payload["_sd"])
    assert payload["nationalities"][0] == "DE" and set(payload["nationalities"][1]) == {"..."}


def test_fixed_claims_cannot_be_made_disclosable(issuer):
    for claim in ["iss", "exp", "cnf", "vct", "status", "nbf"]:
        with pytest.raises(ValueError, match="must not be selectively disclosable"):
            SD_JWT_VC.secure(CLAIMS, issuer, disclosable=[claim])


def test_unknown_or_reserved_paths_are_refused(issuer):
    with pytest.raises(ValueError, match="no claim"):
        SD_JWT_VC.secure(CLAIMS, issuer, disclosable=["address.postcode"])
    with pytest.raises(ValueError, match="no array element"):
        SD_JWT_VC.secure(CLAIMS, issuer, disclosable=["nationalities.5"])
    with pytest.raises(ValueError, match="reserved"):
        SD_JWT_VC.secure(CLAIMS | {"_sd": []}, issuer, disclosable=["given_name"])


def test_decoys_add_digests_and_still_verify(issuer):
    token = SD_JWT_VC.secure(CLAIMS, issuer, disclosable=["given_name"], decoys=3)
    payload = json.loads(unb64(token.split(".")[1]))

    assert len(payload["_sd"]) == 4
    assert verify(token).credential["given_name"] == "Erika"


def test_status_list_reference_is_carried_and_reported(issuer):
    status = {"status_list": {"idx": 4711, "uri": "https://example.com/status/3"}}
    token = SD_JWT_VC.secure(CLAIMS, issuer, status=status)

    assert verify(token).details["status"] == status
    with pytest.raises(ValueError):
        SD_JWT_VC.secure(CLAIMS, issuer, status={"status_list": {"idx": -1, "uri": "x"}})


# --- round trips ----------------------------------------------------------------------------

@pytest.mark.parametrize("issuer_type", KEY_TYPES)
@pytest.mark.parametrize("holder_type", KEY_TYPES)
def test_round_trip_with_key_binding(issuer_type, holder_type):
    issuer, holder = did_key_signer(issuer_type), did_key_signer(holder_type)
    token = SD_JWT_VC.secure(CLAIMS, issuer, disclosable=DISCLOSABLE,
                             holder_key=holder.public_key())

    presented = present(token, ["given_name", "address.locality"], holder_signer=holder,
                        aud=AUD, nonce=NONCE)
    result = verify(presented, aud=AUD, nonce=NONCE, require_key_binding=True)

    assert result.ok, result.errors
    assert result.format == "dc+sd-jwt"
    assert result.verification_method == issuer.verification_method
    assert result.credential["given_name"] == "Erika"
    assert result.credential["address"] == {"locality": "Köln", "country": "DE"}
    assert "family_name" not in result.credential and "_sd_alg" not in result.credential
    assert sorted(result.details["disclosed"]) == [["address"], ["given_name"]]
    assert result.details["key_binding"]["aud"] == AUD


def test_issuer_output_verifies_with_everything_disclosed(credential):
    result = verify(credential)

    assert result.ok, result.errors
    assert {k: result.credential[k] for k in CLAIMS} == CLAIMS
    assert sorted(result.details["disclosed"]) == [
        ["address"], ["address", "street_address"], ["birthdate"], ["family_name"],
        ["given_name"], ["nationalities", 1]]
    assert result.details["key_binding"] is None
    assert SD_JWT_VC.recognises(credential)


def test_present_reveals_parents_and_array_elements(credential):
    presented = present(credential, ["address.street_address", "nationalities.1"])

    claims = verify(presented).credential

    assert claims["address"]["street_address"] == "Heidestraße 17"
    assert claims["nationalities"] == ["DE", "NL"]
    assert "given_name" not in claims


def test_present_nothing_hides_every_disclosable_claim(credential):
    claims = verify(present(credential)).credential

    assert claims["nationalities"] == ["DE"]
    assert {"given_name", "family_name", "birthdate", "address"}.isdisjoint(claims)


def test_present_refuses_an_unknown_path_and_a_kb_without_aud(credential, holder):
    with pytest.raises(ValueError, match="no claim"):
        present(credential, ["shoe_size"])
    with pytest.raises(ValueError, match="aud and nonce"):
        present(credential, holder_signer=holder)


def test_legacy_vc_sd_jwt_typ_is_accepted(issuer):
    legacy = SdJwt(issuer_jwt({"iss": did(issuer), "vct": VCT}, issuer, typ="vc+sd-jwt"))\
        .serialize()

    assert verify(legacy).ok


# --- the issuer-signed JWT ------------------------------------------------------------------

def test_tampered_payload_fails(credential):
    header, payload, signature = credential.split("~")[0].split(".")
    claims = json.loads(unb64(payload)) | {"vct": "https://evil.example"}
    forged_jwt = f"{header}.{jose.b64url(jose.encode_json(claims)).decode()}.{signature}"

    assert verify(credential.replace(credential.split("~")[0], forged_jwt)).errors == \
        ["signature: invalid"]


def test_tampered_signature_fails(credential):
    jwt = credential.split("~")[0]
    flipped = jwt[:-2] + ("A" if jwt[-2] != "A" else "B") + jwt[-1]

    assert verify(credential.replace(jwt, flipped)).errors == ["signature: invalid"]


def test_wrong_key_fails(credential, issuer):
    other = did_key_signer()
    wrong = StaticKeyResolver({issuer.verification_method: other.public_key()})

    assert SD_JWT_VC.verify(credential, wrong).errors == ["signature: invalid"]


def test_alg_none_fails(credential):
    jwt = credential.split("~")[0]
    header = jose.b64url(b'{"alg":"none","typ":"dc+sd-jwt"}').decode()
    unsigned = f"{header}.{jwt.split('.')[1]}."

    result = verify(credential.replace(jwt, unsigned))

    assert not result.ok and "alg 'none'" in result.errors[0]


def test_wrong_typ_fails(issuer):
    token = SdJwt(issuer_jwt({"iss": did(issuer), "vct": VCT}, issuer, typ="JWT")).serialize()

    assert verify(token).errors == ["typ: expected dc+sd-jwt, got 'JWT'"]


def test_expired_fails(issuer):
    past = datetime.now(UTC) - timedelta(hours=1)
    token = SD_JWT_VC.secure(CLAIMS, issuer, exp=past)

    assert verify(token).errors == ["validity_period: expired"]


def test_nbf_in_the_future_fails(issuer):
    token = SD_JWT_VC.secure(CLAIMS, issuer, nbf=datetime.now(UTC) + timedelta(hours=1))

    assert verify(token).errors == ["validity_period: not valid yet (nbf)"]


def test_clock_skew_leeway(issuer):
    token = SD_JWT_VC.secure(CLAIMS, issuer, nbf=datetime.now(UTC) + timedelta(seconds=20))

    assert verify(token).ok
    assert not verify(token, leeway=0).ok


def test_kid_of_another_did_fails(issuer):
    other = did_key_signer()
    token = SdJwt(jose.sign({"iss": did(issuer), "vct": VCT}, other,
                            {"typ": "dc+sd-jwt", "kid": other.verification_method})).serialize()

    assert verify(token).errors[0].startswith("issuer: kid")


def test_missing_vct_fails(issuer):
    token = SdJwt(issuer_jwt({"iss": did(issuer)}, issuer)).serialize()

    assert verify(token).errors == ["payload: vct missing"]


# --- Disclosures (RFC 9901 §7.1) ------------------------------------------------------------

def test_unreferenced_disclosure_fails(credential):
    stray = Disclosure.create("Mallory", "given_name").encoded

    result = verify(credential + stray + "~")

    assert result.errors == ["disclosure: 1 Disclosure(s) not referenced by any digest"]


def test_duplicate_disclosure_fails(credential):
    first = SdJwt.parse(credential).disclosures[0]

    assert verify(credential + first + "~").errors == \
        ["disclosure: the same Disclosure is given twice"]


def test_tampered_disclosure_fails(credential):
    parsed = SdJwt.parse(credential)
    original = Disclosure.parse(parsed.disclosures[0])
    content = [original.salt, original.name, "tampered"] if original.name \
        else [original.salt, "tampered"]
    tampered = jose.b64url(jose.encode_json(content)).decode()
    forged = SdJwt(parsed.jwt, (tampered, *parsed.disclosures[1:])).serialize()

    assert verify(forged).errors == ["disclosure: 1 Disclosure(s) not referenced by any digest"]


def test_duplicate_digest_in_the_payload_fails(issuer):
    name = Disclosure.create("Erika", "given_name")
    key = digest(name.encoded)

    token = crafted(issuer, [name], {"_sd": [key], "address": {"_sd": [key]}})

    assert verify(token).errors == ["payload: a digest occurs more than once"]


def test_duplicate_decoy_digest_fails_too(issuer):
    token = crafted(issuer, [], {"_sd": ["decoy", "decoy"]})

    assert verify(token).errors == ["payload: a digest occurs more than once"]


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_disclosure_of_a_reserved_name_fails(issuer, name):
    bad = Disclosure.create(["x"], name)

    token = crafted(issuer, [bad], {"_sd": [digest(bad.encoded)]})

    assert verify(token).errors == [f"disclosure: claim name {name!r} is not allowed"]


def test_claim_name_collision_fails(issuer):
    again = Disclosure.create("Mallory", "given_name")

    token = crafted(issuer, [again], {"given_name": "Erika", "_sd": [digest(again.encoded)]})

    assert verify(token).errors == ["disclosure: claim 'given_name' already exists"]


def test_two_disclosures_of_one_name_collide(issuer):
    one, two = Disclosure.create("A", "given_name"), Disclosure.create("B", "given_name")

    token = crafted(issuer, [one, two], {"_sd": [digest(one.encoded), digest(two.encoded)]})

    assert verify(token).errors == ["disclosure: claim 'given_name' already exists"]


def test_disclosure_shape_must_fit_its_place(issuer):
    element, prop = Disclosure.create("NL"), Disclosure.create("NL", "nationality")

    in_object = crafted(issuer, [element], {"_sd": [digest(element.encoded)]})
    in_array = crafted(issuer, [prop], {"nationalities": [{"...": digest(prop.encoded)}]})

    assert verify(in_object).errors[0].startswith("disclosure: an array-element Disclosure")
    assert verify(in_array).errors[0].startswith("disclosure: an object-property Disclosure")


def test_disclosure_of_a_fixed_claim_fails(issuer):
    sneaky = Disclosure.create(9999999999, "exp")

    token = crafted(issuer, [sneaky], {"_sd": [digest(sneaky.encoded)]})

    assert verify(token).errors == ["disclosure: 'exp' must not be selectively disclosable"]


@pytest.mark.parametrize("bad", ["", "not-base64!", jose.b64url(b'{"a":1}').decode(),
                                 jose.b64url(b'["salt"]').decode(),
                                 jose.b64url(b'[1,"name","v"]').decode()])
def test_malformed_disclosures_fail(credential, bad):
    result = verify(credential + bad + "~" if bad else credential + "~")

    assert not result.ok and result.errors[0].split(":")[0] in {"disclosure", "format"}


@pytest.mark.parametrize("garbage", [None, 42, {}, "", "~", "abc~", "a.b.c~", "~~~"])
def test_garbage_never_raises(garbage):
    assert not verify(garbage).ok


# --- Key Binding (RFC 9901 §7.3) ------------------------------------------------------------

@pytest.fixture
def presentation(credential, holder):
    return present(credential, ["given_name"], holder_signer=holder, aud=AUD, nonce=NONCE)


def test_key_binding_details(presentation):
    result = verify(presentation, aud=AUD, nonce=NONCE)

    binding = result.details["key_binding"]
    assert result.ok and binding["aud"] == AUD and binding["nonce"] == NONCE
    assert binding["sd_hash"] == sd_jwt.sd_hash(SdJwt.parse(presentation).without_kb)


def test_key_binding_accepts_challenge_and_domain_names(presentation):
    assert verify(presentation, domain=AUD, challenge=NONCE).ok
    assert not verify(presentation, domain=AUD, challenge="other").ok


def test_missing_kb_jwt_fails_when_required(credential):
    presented = present(credential, ["given_name"])

    assert verify(presented).ok
    assert verify(presented, require_key_binding=True).errors == \
        ["kb_jwt: missing (key binding required)"]


def test_wrong_aud_fails(presentation):
    assert verify(presentation, aud="https://other.example", nonce=NONCE).errors == \
        ["kb_jwt: aud mismatch"]


def test_wrong_nonce_fails(presentation):
    assert verify(presentation, aud=AUD, nonce="replayed").errors == ["kb_jwt: nonce mismatch"]


def test_wrong_sd_hash_fails(credential, holder):
    """A KB-JWT taken from one presentation and put on another with more Disclosures."""
    bound = SdJwt.parse(present(credential, ["given_name"], holder_signer=holder, aud=AUD,
                                nonce=NONCE))
    more = SdJwt.parse(present(credential, ["given_name", "birthdate"]))

    moved = SdJwt(more.jwt, more.disclosures, bound.kb_jwt).serialize()

    assert verify(moved, aud=AUD, nonce=NONCE).errors == ["kb_jwt: sd_hash mismatch"]


def test_kb_jwt_by_another_key_fails(credential):
    stranger = did_key_signer("P-256")

    presented = present(credential, ["given_name"], holder_signer=stranger, aud=AUD,
                        nonce=NONCE)

    assert verify(presented, aud=AUD, nonce=NONCE).errors == ["kb_jwt: signature: invalid"]


def test_kb_jwt_wrong_typ_fails(credential, holder):
    without_kb = present(credential, ["given_name"])
    claims = {"iat": int(jose.seconds()), "aud": AUD, "nonce": NONCE,
              "sd_hash": sd_jwt.sd_hash(without_kb)}

    wrong = without_kb + jose.sign(claims, holder, {"typ": "JWT"})

    assert verify(wrong, aud=AUD, nonce=NONCE).errors == ["kb_jwt: typ must be kb+jwt"]


@pytest.mark.parametrize(("iat_offset", "error"), [
    (-3600, "kb_jwt: iat too old"), (3600, "kb_jwt: iat in the future")])
def test_kb_jwt_iat_outside_the_window_fails(credential, holder, iat_offset, error):
    without_kb = present(credential, ["given_name"])
    token = without_kb + kb_jwt(holder, without_kb, iat=int(jose.seconds()) + iat_offset)

    assert verify(token, aud=AUD, nonce=NONCE).errors == [error]


def test_expired_kb_jwt_fails(credential, holder):
    without_kb = present(credential, ["given_name"])
    token = without_kb + kb_jwt(holder, without_kb, exp=int(jose.seconds()) - 3600)

    assert verify(token, aud=AUD, nonce=NONCE).errors == ["kb_jwt: validity_period: expired"]


def test_kb_jwt_missing_claim_fails(credential, holder):
    without_kb = present(credential, ["given_name"])
    claims = {"iat": int(jose.seconds()), "aud": AUD, "sd_hash": sd_jwt.sd_hash(without_kb)}

    token = without_kb + jose.sign(claims, holder, {"typ": "kb+jwt"})

    assert verify(token).errors == ["kb_jwt: nonce missing"]


def test_kb_jwt_alg_none_fails(credential):
    without_kb = present(credential, ["given_name"])
    header = jose.b64url(b'{"alg":"none","typ":"kb+jwt"}').decode()
    body = jose.b64url(jose.encode_json({"iat": int(jose.seconds()), "aud": AUD,
                                         "nonce": NONCE, "sd_hash": "x"})).decode()

    result = verify(f"{without_kb}{header}.{body}.", aud=AUD, nonce=NONCE)

    assert not result.ok and result.errors[0].startswith("kb_jwt: jws: alg 'none'")


def test_kb_jwt_without_cnf_in_the_credential_fails(issuer, holder):
    token = SD_JWT_VC.secure(CLAIMS, issuer, disclosable=["given_name"])

    presented = present(token, ["given_name"], holder_signer=holder, aud=AUD, nonce=NONCE)

    assert verify(presented).errors == ["kb_jwt: the credential has no cnf.jwk holder key"]


# --- format detection -----------------------------------------------------------------------

def test_each_format_is_recognised_by_exactly_one_suite(credential, presentation, issuer):
    v2 = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
          "issuer": did(issuer), "credentialSubject": {"id": "did:example:1"}}
    v11 = v2 | {"@context": ["https://www.w3.org/2018/credentials/v1"]}
    vc_jwt = VC_JWT.secure(v2, issuer)
    samples = {
        "vc+jwt": [vc_jwt, envelope(vc_jwt)],
        "vp+jwt": [VP_JWT.secure({"@context": v2["@context"],
                                  "type": ["VerifiablePresentation"]}, issuer)],
        "jwt-vc": [JWT_VC.secure(v11, issuer)],
        "dc+sd-jwt": [credential, presentation],
    }
    suites = [VC_JWT, VP_JWT, JWT_VC, SD_JWT_VC]
    for name, secured_forms in samples.items():
        for secured in secured_forms:
            assert [s.name for s in suites if s.recognises(secured)] == [name]
