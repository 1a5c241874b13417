"""Whatever a client sends the issuer's protocol endpoints, the answer is an OAuth error (JSON,
4xx) or success, never a server error, and a refused request changes nothing: the offer still
waits and a correct request still succeeds afterwards."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.json_limits import MAX_DEPTH
from openid4vci.models import CredentialOffer
from tests.support.openid4vci import still_waiting
from tests.support.openid4vci_wallet import local_path

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
# Request bodies shaped like a credential request, with every member possibly wrong.
credential_requests = st.fixed_dictionaries({}, optional={
    "credential_configuration_id": json_values | st.sampled_from(["mandate", "access_role"]),
    "credential_identifier": json_values,
    "proofs": json_values | st.fixed_dictionaries({"jwt": st.lists(json_values, max_size=3)}),
    "proof": json_values,
    "credential_response_encryption": json_values,
})
HOSTILE = settings(max_examples=60, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_oauth_error(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]


@HOSTILE
@given(body=credential_requests | json_values)
def test_the_credential_endpoint_refuses_any_malformed_request_cleanly(session, body):
    wallet, state = session

    response = wallet.request_credential(state["metadata"], state["access_token"], body)

    assert_oauth_error(response)
    assert CredentialOffer.objects.get(pk=state["offer_id"]).state == "token_issued"


@HOSTILE
@given(raw=st.binary(max_size=300),
       content_type=st.sampled_from(["application/json", "text/plain",
                                     "application/x-www-form-urlencoded", ""]))
def test_raw_bytes_at_every_endpoint_get_an_oauth_error(session, raw, content_type):
    wallet, state = session
    metadata = state["metadata"]
    endpoints = [metadata["credential_endpoint"], metadata["deferred_credential_endpoint"],
                 wallet.authorization_server(metadata["credential_issuer"])["token_endpoint"]]

    for endpoint in endpoints:
        response = wallet.client.post(local_path(endpoint), raw, content_type=content_type,
                                      HTTP_AUTHORIZATION=f"Bearer {state['access_token']}")
        assert_oauth_error(response)


@HOSTILE
@given(form=st.dictionaries(st.sampled_from(["grant_type", "pre-authorized_code", "tx_code",
                                             "client_id", "scope", "authorization_details"]),
                            st.text(max_size=40), max_size=6))
def test_the_token_endpoint_refuses_any_malformed_grant(session, form):
    wallet, state = session
    endpoint = wallet.authorization_server(state["metadata"]["credential_issuer"])
    encoded = "&".join(f"{name}={value}" for name, value in form.items())

    response = wallet.client.post(local_path(endpoint["token_endpoint"]), encoded,
                                  content_type="application/x-www-form-urlencoded")

    assert_oauth_error(response)


def test_deep_json_gets_an_oauth_error_naming_the_depth_limit(session):
    wallet, state = session
    metadata = state["metadata"]
    deep = "[" * 100_000 + "]" * 100_000
    token_endpoint = wallet.authorization_server(metadata["credential_issuer"])["token_endpoint"]

    for endpoint, body, content_type in [
            (metadata["credential_endpoint"], f'{{"proofs": {deep}}}', "application/json"),
            (metadata["deferred_credential_endpoint"], deep, "application/json"),
            (token_endpoint, f"grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code"
                             f"&authorization_details={deep}",
             "application/x-www-form-urlencoded")]:
        response = wallet.client.post(local_path(endpoint), body, content_type=content_type,
                                      HTTP_AUTHORIZATION=f"Bearer {state['access_token']}")
        assert_oauth_error(response)
    credential_response = wallet.client.post(
        local_path(metadata["credential_endpoint"]), deep, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {state['access_token']}")
    assert f"nested deeper than {MAX_DEPTH} levels" in credential_response.json()[
        "error_description"]
    assert CredentialOffer.objects.get(pk=state["offer_id"]).state == "token_issued"


def test_after_all_that_a_correct_request_still_succeeds(session):
    wallet, state = session
    for body in ({}, [], "x", {"proofs": {"jwt": ["a.b.c"]}}, {"proofs": {"jwt": [None]}}):
        assert_oauth_error(wallet.request_credential(state["metadata"], state["access_token"],
                                                     body))
    assert json.loads(json.dumps(state["offer"]))  # the offer is plain JSON
    still_waiting(session)
