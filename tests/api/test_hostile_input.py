"""JSON nested deeper than core.json_limits.MAX_DEPTH (64 levels), wherever it arrives: a
request body of any JSON type at any API endpoint gets 400 `json_too_deep` naming the limit
(never a 500 from the parser's recursion) and nothing stored changes; inside a credential (a JWT
payload, an SD-JWT Disclosure, a JSON string) it gets `verified: false` naming the limit. A
document exactly at the limit is still read."""

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.json_limits import MAX_DEPTH, JSONTooDeep, check_depth
from credentials import sd_jwt
from credentials.dids import did_key_for, did_key_verification_method
from credentials.errors import MalformedCredential
from credentials.keys import LocalSigner
from credentials.suites import get_suite
from passports.models import Product
from tests.support.problems import problem

DEEP = 100_000
DEEP_ENCODED = 50_000  # base64url grows it by a third: still within API_MAX_BODY_BYTES
VERIFY_ENDPOINTS = [
    ("/api/v1/verify/", "application/json", "credential"),
    ("/api/v1/verify/", "application/json", "presentation"),
    ("/api/v1/verify/", "application/vc", None),
    ("/api/v1/verify/", "application/vp", None),
    ("/api/v1/verify/", "application/ld+json", None),
    ("/credentials/verify", "application/json", "verifiableCredential"),
    ("/presentations/verify", "application/json", "verifiablePresentation"),
]


def nested(levels: int) -> str:
    """`levels` arrays, one in the other, holding one string."""
    return "[" * levels + '"x"' + "]" * levels


def body_of(member: str | None, levels: int) -> str:
    """A JSON body nested `levels` deep in all: the value alone, or inside {member: ...}."""
    return nested(levels) if member is None else f'{{"{member}": {nested(levels - 1)}}}'


@pytest.mark.parametrize(("path", "content_type", "member"), VERIFY_ENDPOINTS)
@pytest.mark.parametrize("levels", [DEEP, 1000, MAX_DEPTH + 1])
def test_verify_endpoints_refuse_deep_json_with_a_400_naming_the_limit(
        anonymous, path, content_type, member, levels):
    response = anonymous.generic("POST", path, body_of(member, levels),
                                 content_type=content_type)

    body = problem(response, 400, "json_too_deep")
    assert f"nested deeper than {MAX_DEPTH} levels" in body["detail"]


@pytest.mark.parametrize(("path", "content_type", "member"), VERIFY_ENDPOINTS)
def test_json_at_the_limit_is_read_and_answered(anonymous, path, content_type, member):
    response = anonymous.generic("POST", path, body_of(member, MAX_DEPTH),
                                 content_type=content_type)

    # /api/v1/verify/ answers 200 with its verdict; the VC-API 400 (not verified)
    assert response.status_code == (200 if path == "/api/v1/verify/" else 400), response.content
    assert response.json()["verified"] is False


@pytest.mark.parametrize("levels", [DEEP, MAX_DEPTH + 1])
def test_creating_a_product_from_deep_json_is_400_and_stores_nothing(acme, levels):
    before = Product.objects.count()
    attributes = f'{{"ratedCapacity": {nested(levels - 2)}}}'
    body = f'{{"gtin": "09506000134352", "category": "battery", "attributes": {attributes}}}'

    response = acme.client.generic("POST", "/api/v1/products/", body,
                                   content_type="application/json")

    problem(response, 400, "json_too_deep")
    assert Product.objects.count() == before


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signer() -> LocalSigner:
    key = LocalSigner.generate()
    return LocalSigner(key._key, did_key_verification_method(did_key_for(key.public_key())))


def failing(verdict: dict) -> str:
    return "; ".join(check["detail"] for check in verdict["checks"] if not check["ok"])


@pytest.mark.parametrize("levels", [DEEP_ENCODED, MAX_DEPTH + 1])
def test_a_jwt_whose_payload_is_deep_json_is_not_verified_and_says_why(anonymous, levels):
    key = signer()
    header = json.dumps({"alg": "EdDSA", "typ": "vc+jwt", "kid": key.verification_method})
    token = f"{b64(header.encode())}.{b64(nested(levels).encode())}.{b64(b'0' * 64)}"

    for body, content_type in [(token, "application/vc+jwt"),
                               (json.dumps({"credential": token}), "application/json")]:
        response = anonymous.generic("POST", "/api/v1/verify/", body,
                                     content_type=content_type)
        verdict = response.json()
        assert verdict["verified"] is False
        assert f"nested deeper than {MAX_DEPTH} levels" in failing(verdict)


def test_a_credential_given_as_a_json_string_too_deep_is_not_verified(anonymous):
    credential = '{"a": ' + nested(DEEP) + "}"

    verdict = anonymous.post("/api/v1/verify/", {"credential": credential},
                             format="json").json()

    assert verdict["verified"] is False  # refused unread: a JSON document sent as a string
    assert "a JSON document sent as a string" in failing(verdict)


def test_an_sd_jwt_whose_disclosure_is_deep_json_is_not_verified(anonymous):
    issuer = signer()
    secured = get_suite("dc+sd-jwt").secure(
        {"vct": "https://example.com/vct/mandate", "iss": issuer.verification_method.split("#")[0],
         "role": "buyer"}, issuer, disclosable=["role"])
    deep_disclosure = b64(json.dumps(["salt", "extra", None]).replace(
        "null", nested(DEEP_ENCODED)).encode())

    verdict = anonymous.generic("POST", "/api/v1/verify/", secured + deep_disclosure + "~",
                                content_type="application/dc+sd-jwt").json()

    assert verdict["verified"] is False
    assert f"nested deeper than {MAX_DEPTH} levels" in failing(verdict)


def test_disclosures_inside_disclosures_cannot_nest_the_claims_past_the_limit():
    disclosures = []
    value = "leaf"
    for _ in range(MAX_DEPTH + 2):  # each Disclosure shallow; together, deeper than the limit
        disclosure = sd_jwt.Disclosure.create(value)
        disclosures.append(disclosure.encoded)
        value = [{"...": sd_jwt.digest(disclosure.encoded)}]
    payload = {"claim": value}

    with pytest.raises(MalformedCredential, match=f"deeper than {MAX_DEPTH} levels"):
        sd_jwt.reveal(payload, disclosures)


@pytest.mark.parametrize(("text", "levels"), [
    ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('"[[[["', 0), ('["[", "]]]", {"{": "}"}]', 2),
    (r'["\"[[[", [[]]]', 3), (r'["\\", [[]]]', 3), (r'["\\\"[[", []]', 2),
    ("[" * 10, 10), ("[[]" * 5 + "]" * 5, 6), ('"' + "\\" * 7 + '"[', 0),
    ('[{"a": "b", "c": "[", "d": "]"}, [[{"e": ["f"]}]]]', 5),
])
def test_depth_counts_only_brackets_outside_strings(text, levels):
    for data in (text, text.encode()):
        check_depth(data, levels)
        if levels:
            with pytest.raises(JSONTooDeep, match=f"deeper than {levels - 1} levels"):
                check_depth(data, levels - 1)


def test_check_depth_agrees_with_the_parser_at_the_limit():
    assert json.loads(nested(MAX_DEPTH))
    check_depth(nested(MAX_DEPTH))
    with pytest.raises(ValueError, match=f"deeper than {MAX_DEPTH} levels"):
        check_depth(nested(MAX_DEPTH + 1))


def parsed_depth(value) -> int:
    children = value.values() if isinstance(value, dict) else value \
        if isinstance(value, list) else None
    if children is None:
        return 0
    return 1 + max((parsed_depth(child) for child in children), default=0)


brackety_text = st.text(alphabet='[]{}"\\ab:,', max_size=8)
json_documents = st.recursive(
    st.none() | st.integers() | brackety_text,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(brackety_text, children, max_size=3),
    max_leaves=30)


@given(document=json_documents, ensure_ascii=st.booleans())
def test_check_depth_finds_the_depth_the_parser_finds(document, ensure_ascii):
    text = json.dumps(document, ensure_ascii=ensure_ascii)
    levels = parsed_depth(json.loads(text))

    check_depth(text, levels)
    if levels:
        with pytest.raises(JSONTooDeep):
            check_depth(text, levels - 1)
