"""DCQL (OpenID4VP 1.0 §6, §7) against the specification's own examples: which queries this
Verifier accepts, how claims path pointers select, and what counts as satisfying a query."""

import copy
import json

import pytest

from openid4vp import dcql
from tests.support.openid4vp import CLAIMS_ALTERNATIVES, CREDENTIALS_ALTERNATIVES, SIMPLE_MDOC
from tests.support.openid4vp_vectors import published

REQUEST_OBJECT_EXAMPLE = published("request_object_redirect_uri.json")["dcql_query"]  # §5.4
ENCRYPTED_RESPONSE_EXAMPLE = published("request_encrypted_response.json")["dcql_query"]  # §8.3
ARTHUR = published("claims_path_pointer_credential.json")  # §7.3


@pytest.mark.parametrize("query", [CREDENTIALS_ALTERNATIVES, CLAIMS_ALTERNATIVES,
                                   REQUEST_OBJECT_EXAMPLE, ENCRYPTED_RESPONSE_EXAMPLE])
def test_the_specifications_sd_jwt_examples_are_valid_queries(query):
    assert dcql.validate_query(copy.deepcopy(query)) == query


def test_an_mdoc_query_is_refused_naming_the_format():
    with pytest.raises(dcql.DcqlError) as refused:
        dcql.validate_query(SIMPLE_MDOC)

    assert "mso_mdoc" in refused.value.detail and "only dc+sd-jwt" in refused.value.detail
    assert refused.value.field == "dcql_query.credentials.0.format"


def _broken(change) -> dict:
    query = copy.deepcopy(ENCRYPTED_RESPONSE_EXAMPLE)
    change(query)
    return query


@pytest.mark.parametrize("query, field, words", [
    ([], "dcql_query", "JSON object"),
    ({}, "dcql_query.credentials", "non-empty array"),
    ({"credentials": []}, "dcql_query.credentials", "non-empty array"),
    (_broken(lambda q: q["credentials"][0].update(id="has space")),
     "dcql_query.credentials.0.id", "letters"),
    (_broken(lambda q: q["credentials"].append(copy.deepcopy(q["credentials"][0]))),
     "dcql_query.credentials", "used twice"),
    (_broken(lambda q: q["credentials"][0].pop("meta")), "dcql_query.credentials.0.meta",
     "required"),
    (_broken(lambda q: q["credentials"][0]["meta"].update(vct_values=[])),
     "dcql_query.credentials.0.meta.vct_values", "non-empty"),
    (_broken(lambda q: q["credentials"][0].update(claims=[])),
     "dcql_query.credentials.0.claims", "non-empty"),
    (_broken(lambda q: q["credentials"][0]["claims"].append({"path": ["last_name"]})),
     "dcql_query.credentials.0.claims", "asked for twice"),
    (_broken(lambda q: q["credentials"][0]["claims"][0].update(path=[])),
     "dcql_query.credentials.0.claims.0.path", "non-empty"),
    (_broken(lambda q: q["credentials"][0]["claims"][0].update(path=["a", -1])),
     "dcql_query.credentials.0.claims.0.path", "non-negative"),
    (_broken(lambda q: q["credentials"][0]["claims"][0].update(path=["a", True])),
     "dcql_query.credentials.0.claims.0.path", "True"),
    (_broken(lambda q: q["credentials"][0]["claims"][0].update(values=[])),
     "dcql_query.credentials.0.claims.0.values", "non-empty"),
    (_broken(lambda q: q["credentials"][0].update(claim_sets=[["x"]])),
     "dcql_query.credentials.0.claim_sets", "needs an id"),
    (_broken(lambda q: q["credentials"][0].update(multiple="yes")),
     "dcql_query.credentials.0.multiple", "true or false"),
    (_broken(lambda q: q["credentials"][0].update(require_cryptographic_holder_binding=False)),
     "dcql_query.credentials.0.require_cryptographic_holder_binding", "holder binding"),
    (_broken(lambda q: q.update(credential_sets=[{"options": [["nope"]]}])),
     "dcql_query.credential_sets.0.options", "'nope'"),
    (_broken(lambda q: q.update(credential_sets=[{"options": [["my_credential"]],
                                                  "required": "no"}])),
     "dcql_query.credential_sets.0.required", "true or false"),
    (_broken(lambda q: q["credentials"][0].update(trusted_authorities=[{"type": "aki"}])),
     "dcql_query.credentials.0.trusted_authorities", "values"),
])
def test_an_invalid_query_is_refused_naming_the_field(query, field, words):
    with pytest.raises(dcql.DcqlError) as refused:
        dcql.validate_query(query)

    assert refused.value.field == field
    assert words in refused.value.detail


def test_claim_sets_need_claims():
    query = copy.deepcopy(CLAIMS_ALTERNATIVES)
    query["credentials"][0].pop("claims")

    with pytest.raises(dcql.DcqlError, match="not allowed without claims"):
        dcql.validate_query(query)


@pytest.mark.parametrize("path, selected", [
    (["name"], ["Arthur Dent"]),
    (["address"], [ARTHUR["address"]]),
    (["address", "street_address"], ["42 Market Street"]),
    (["degrees", None, "type"], ["Bachelor of Science", "Master of Science"]),
    (["nationalities", 1], ["Betelgeusian"]),
    (["nationalities", 5], []),
    (["name", "first"], []),  # a string component on a non-object: an error, nothing selected
    (["degrees", "type"], []),
    (["missing"], []),
])
def test_the_claims_path_pointer_examples_of_section_7_3(path, selected):
    assert dcql.select(ARTHUR, path) == selected


def _pid_query():
    return CLAIMS_ALTERNATIVES["credentials"][0]


def test_a_claim_set_option_is_enough_and_the_first_is_preferred():
    claims = {"last_name": "D", "postal_code": "1", "date_of_birth": "2000-01-01"}
    disclosed = [("last_name",), ("postal_code",), ("date_of_birth",)]

    outcome = dcql.check_claims(_pid_query(), claims, disclosed)

    assert outcome.ok


def test_claims_beyond_every_option_are_over_disclosure():
    claims = {"last_name": "D", "postal_code": "1", "locality": "K", "date_of_birth": "x"}
    disclosed = [("last_name",), ("postal_code",), ("locality",), ("date_of_birth",)]

    outcome = dcql.check_claims(_pid_query(), claims, disclosed)

    assert not outcome.ok
    assert outcome.code == "over_disclosure" and outcome.over_disclosed == [["locality"]]


def test_a_claim_of_no_option_missing_is_named():
    outcome = dcql.check_claims(_pid_query(), {"last_name": "D"}, [("last_name",)])

    assert outcome.code == "missing_claim"
    assert "date_of_birth" in outcome.reason


def test_disclosing_the_container_of_a_requested_claim_is_allowed_but_not_its_siblings():
    query = ENCRYPTED_RESPONSE_EXAMPLE["credentials"][0]
    claims = {"last_name": "D", "first_name": "A", "address": {"postal_code": "1"}}

    ok = dcql.check_claims(query, claims, [("last_name",), ("first_name",), ("address",),
                                           ("address", "postal_code")])
    extra = dcql.check_claims(query, {**claims, "address": {"postal_code": "1", "locality": "K"}},
                              [("last_name",), ("first_name",), ("address",),
                               ("address", "postal_code"), ("address", "locality")])

    assert ok.ok
    assert extra.over_disclosed == [["address", "locality"]]


def test_requested_values_must_match_type_and_value():
    query = {"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
             "claims": [{"path": ["age_over_18"], "values": [True]}]}

    assert dcql.check_claims(query, {"age_over_18": True}, [("age_over_18",)]).ok
    assert dcql.check_claims(query, {"age_over_18": 1}, [("age_over_18",)]).code \
        == "claim_value"


def test_null_in_a_path_covers_every_array_element():
    query = {"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
             "claims": [{"path": ["nationalities", None]}]}

    outcome = dcql.check_claims(query, {"nationalities": ["DE", "NL"]},
                                [("nationalities", 0), ("nationalities", 1)])

    assert outcome.ok


@pytest.mark.parametrize("answered, ok", [
    ({"pid"}, True),
    ({"other_pid"}, True),
    ({"pid_reduced_cred_1", "pid_reduced_cred_2"}, True),
    ({"pid", "nice_to_have"}, True),
    ({"pid_reduced_cred_1"}, False),
    ({"nice_to_have"}, False),
    (set(), False),
])
def test_credential_sets_of_the_specification_example(answered, ok):
    satisfied, missing = dcql.sets_satisfied(CREDENTIALS_ALTERNATIVES, answered)

    assert satisfied is ok
    if not ok:
        assert "pid or other_pid or pid_reduced_cred_1+pid_reduced_cred_2" in missing


def test_without_credential_sets_every_query_is_required():
    query = {"credentials": [{"id": "a"}, {"id": "b"}]}

    assert dcql.sets_satisfied(query, {"a", "b"}) == (True, "")
    assert dcql.sets_satisfied(query, {"a"}) == (False, "no valid presentation for: b")


def test_the_vp_token_of_the_encrypted_response_example_has_the_final_shape():
    from openid4vp.evaluation import parse_vp_token

    query = {"credentials": [{"id": "example_credential_id", "format": "dc+sd-jwt",
                              "meta": {"vct_values": ["v"]}}]}
    # §8.3: the decrypted payload of the example response (an object, not a string) and
    # §8.1: the same VP Token as a form parameter (a JSON string).
    example = published("response_encrypted_payload.json")["vp_token"]

    assert parse_vp_token(example, query) == example
    assert parse_vp_token(json.dumps(example), query) == example
