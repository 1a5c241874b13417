"""Presentation requests over the partner API: who may ask, who may read, and bad input that
gets a problem naming the field while nothing is stored."""

import pytest

from openid4vp.models import PresentationRequest
from tests.support.api import api_client
from tests.support.openid4vp import (
    CLAIMS_ALTERNATIVES,
    CREDENTIALS_ALTERNATIVES,
    SIMPLE_MDOC,
    create_request,
    simple_query,
)
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.authority import operator
from wallet.tenancy.models import ApiToken

URL = "/api/v1/openid4vp/requests"


def body(**fields) -> dict:
    return {"dcql_query": simple_query(["family_name"]), "purpose": "Age check", **fields}


def test_asking_needs_an_api_key_with_the_scope(world):
    _, reader = api_token_create(actor=operator(), organisation=world.verifier, name="reader",
                                 scopes=[ApiToken.Scope.WALLET_READ])

    anonymous = api_client().post(URL, body(), format="json")
    unscoped = api_client(reader).post(URL, body(), format="json")

    assert anonymous.status_code == 401
    assert unscoped.status_code == 403 and unscoped.json()["code"] == "missing_scope"
    assert anonymous["Content-Type"] == "application/problem+json"
    assert not PresentationRequest.objects.exists()


def test_only_the_organisation_that_asked_sees_the_request(world):
    created = create_request(world)
    _, other_key = api_token_create(actor=operator(), organisation=world.other, name="x",
                                    scopes=[ApiToken.Scope.PRESENTATIONS_REQUEST])
    other = api_client(other_key)

    assert other.get(f"{URL}/{created['id']}").status_code == 404
    assert other.get(URL).json()["count"] == 0
    assert world.api.get(URL).json()["results"][0]["id"] == created["id"]
    assert world.api.get(f"{URL}/not-a-uuid").status_code == 404


def test_the_default_response_mode_is_encrypted_as_haip_requires(world):
    response = world.api.post(URL, body(), format="json")

    assert response.status_code == 201
    assert response.json()["response_mode"] == "direct_post.jwt"
    assert response["Location"] == f"{URL}/{response.json()['id']}"


@pytest.mark.parametrize("query", [CREDENTIALS_ALTERNATIVES, CLAIMS_ALTERNATIVES])
def test_the_specifications_dcql_examples_can_be_asked(world, query):
    response = world.api.post(URL, body(dcql_query=query), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["dcql_query"] == query


@pytest.mark.parametrize("fields, field, code", [
    ({"dcql_query": SIMPLE_MDOC}, "dcql_query.credentials.0.format", "invalid_dcql_query"),
    ({"dcql_query": {"credentials": []}}, "dcql_query.credentials", "invalid_dcql_query"),
    ({"dcql_query": "not a query"}, "dcql_query", "invalid_dcql_query"),
    ({"response_mode": "fragment"}, "response_mode", "invalid_choice"),
    ({"purpose": ""}, "purpose", "blank"),
    ({"redirect_uri": "not a url"}, "redirect_uri", "invalid"),
    ({"surprise": 1}, "surprise", "unknown_field"),
])
def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(world, fields, field, code):
    response = world.api.post(URL, body(**fields), format="json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert {"field": field, "code": code} == {k: errors[0][k] for k in ("field", "code")}
    assert not PresentationRequest.objects.exists()


def test_the_result_shows_pending_then_the_verdict(world):
    created = create_request(world)
    pending = world.api.get(created["result_url"].replace("http://localhost:8000", "")).json()
    request = world.wallet.fetch(created["authorization_request"])
    world.wallet.answer_query(request, "identity")

    verified = world.api.get(f"{URL}/{created['id']}").json()

    assert pending["status"] == "pending" and pending["credentials"] == []
    assert pending["responded_at"] is None
    assert verified["status"] == "verified" and verified["responded_at"]
    assert verified["error_code"] == "" and verified["reason"] == ""
