"""What the Verifier refuses, each time naming why: to the wallet (an OAuth error with a
description) and in the stored result the organisation reads."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credentials.status_list import TokenStatus
from credentials.status_registry import token_status_set
from openid4vp.models import PresentationRequest, ReceivedPresentation
from openid4vp.tasks import forget_expired_keys
from tests.support.openid4vp import (
    create_request,
    failed,
    issue_identity,
    refused,
    result_of,
    simple_query,
)


def fetched(world, **options):
    created = create_request(world, **options)
    return created, world.wallet.fetch(created["authorization_request"])


def test_a_second_response_to_the_same_request_is_refused_and_changes_nothing(world):
    created, request = fetched(world)
    world.wallet.answer_query(request, "identity")

    again = world.wallet.answer_query(request, "identity")

    refused(again, "invalid_request", "already answered")
    assert result_of(world, created)["status"] == "verified"  # the first answer stands


def test_the_vp_token_of_an_earlier_request_is_refused_as_a_replay(world):
    first_created, first = fetched(world)
    presentation = world.wallet.presentation(first, "identity", [["family_name"], ["given_name"],
                                                                 ["address", "street_address"]])
    world.wallet.answer(first, {"my_credential": [presentation]})
    created, second = fetched(world)

    answer = world.wallet.answer(second, {"my_credential": [presentation]})

    refused(answer, "invalid_request", "replay")
    failed(world, created, "replay", "already received", first_created["id"])


def test_a_presentation_bound_to_another_nonce_is_refused(world):
    created, request = fetched(world)
    presentation = world.wallet.presentation(request, "identity", [["family_name"], ["given_name"],
                                                                   ["address", "street_address"]],
                                             nonce="a-nonce-from-elsewhere")

    answer = world.wallet.answer(request, {"my_credential": [presentation]})

    refused(answer, "invalid_request", "nonce mismatch")
    failed(world, created, "nonce", "nonce mismatch")


def test_a_presentation_for_another_verifier_is_refused(world):
    created, request = fetched(world)
    presentation = world.wallet.presentation(request, "identity", [["family_name"], ["given_name"],
                                                                   ["address", "street_address"]],
                                             aud="x509_hash:someone-else")

    answer = world.wallet.answer(request, {"my_credential": [presentation]})

    refused(answer, "invalid_request", "aud mismatch")
    failed(world, created, "audience", "aud mismatch")


def test_disclosing_more_than_was_asked_is_refused_naming_the_claims(world):
    created, request = fetched(world, query=simple_query(["family_name"]))
    presentation = world.wallet.presentation(request, "identity",
                                             [["family_name"], ["birthdate"],
                                              ["address", "postal_code"]])

    answer = world.wallet.answer(request, {"my_credential": [presentation]})

    refused(answer, "access_denied", "over-disclosure", "birthdate", "address.postal_code")
    result = failed(world, created, "over_disclosure", "birthdate")
    assert result["disclosed"] == {}  # data of a refused presentation is not kept
    assert result["credentials"][0]["claims"] == {}


def test_a_requested_claim_left_out_is_refused_naming_it(world):
    created, request = fetched(world)
    presentation = world.wallet.presentation(request, "identity", [["family_name"],
                                                                   ["given_name"]])

    answer = world.wallet.answer(request, {"my_credential": [presentation]})

    refused(answer, "access_denied", "not disclosed", "address.street_address")
    failed(world, created, "missing_claim", "address.street_address")


def test_a_query_without_claims_allows_no_disclosure_at_all(world):
    query = {"credentials": [{"id": "bare", "format": "dc+sd-jwt",
                              "meta": {"vct_values": [world_vct()]}}]}
    created, request = fetched(world, query=query)
    presentation = world.wallet.presentation(request, "identity", [["given_name"]])

    refused(world.wallet.answer(request, {"bare": [presentation]}), "access_denied",
            "given_name")


def world_vct():
    from tests.support.openid4vp import IDENTITY_VCT

    return IDENTITY_VCT


def test_a_revoked_credential_is_refused_naming_revoked(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # publication runs (eager mode)
        token_status_set(world.issued.entry, TokenStatus.INVALID)
    created, request = fetched(world)

    answer = world.wallet.answer_query(request, "identity")

    refused(answer, "access_denied", "revoked")
    result = failed(world, created, "revoked", "status: revoked")
    status = [c for c in result["credentials"][0]["checks"] if c["check"] == "status"]
    assert status == [{"check": "status", "ok": False, "purpose": "revocation",
                       "detail": "revoked"}]


def test_a_suspended_credential_is_refused_naming_suspended(world):
    token_status_set(world.issued.entry, TokenStatus.SUSPENDED)
    created, request = fetched(world)

    answer = world.wallet.answer_query(request, "identity")

    refused(answer, "access_denied", "suspended")
    failed(world, created, "suspended", "status: suspended")


def test_a_credential_from_an_untrusted_issuer_is_refused(world):
    world.wallet.credentials["untrusted"] = issue_identity(world.other, world.wallet).credential
    created, request = fetched(world)

    answer = world.wallet.answer_query(request, "untrusted")

    refused(answer, "access_denied", "not trusted", world.other.did)
    failed(world, created, "untrusted_issuer", "no identity credential from a trust anchor")


def test_a_credential_of_another_type_is_refused(world):
    world.wallet.credentials["badge"] = issue_identity(
        world.acme, world.wallet, vct="https://example.com/badge").credential
    created, request = fetched(world)

    answer = world.wallet.answer_query(request, "badge")

    refused(answer, "access_denied", "vct", "https://example.com/badge")
    failed(world, created, "vct")


def test_an_answer_after_expiry_is_refused_and_the_request_shows_expired(world):
    created, request = fetched(world)
    PresentationRequest.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    answer = world.wallet.answer_query(request, "identity")

    refused(answer, "invalid_request", "expired")
    result = result_of(world, created)
    assert result["status"] == "expired" and result["error_code"] == "expired"


def test_an_unanswered_request_past_its_expiry_reads_as_expired_and_is_gone(world, client):
    created, request = fetched(world)
    PresentationRequest.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    assert result_of(world, created)["status"] == "expired"
    gone = client.get(request.claims["response_uri"].replace("response", "request/")
                      + PresentationRequest.objects.get(pk=created["id"]).request_token)
    assert gone.status_code == 404
    assert gone.json()["error"] == "invalid_request_uri"


def test_the_key_of_an_expired_request_is_deleted_and_a_late_answer_is_still_refused(world):
    """The beat task deletes what can no longer be used; a late encrypted answer then gets the
    same refusal as before (expired), not an error."""
    created, request = fetched(world)
    waiting, _ = fetched(world)
    PresentationRequest.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    assert forget_expired_keys() == 1  # what beat runs every 5 minutes

    stored = PresentationRequest.objects.get(pk=created["id"])
    assert stored.wrapped_encryption_key is None and stored.status == "pending"
    assert PresentationRequest.objects.get(pk=waiting["id"]).wrapped_encryption_key
    answer = world.wallet.answer_query(request, "identity")
    refused(answer, "invalid_request", "expired")
    assert result_of(world, created)["status"] == "expired"


def test_a_tampered_encrypted_response_is_refused(world):
    created, request = fetched(world)

    answer = world.wallet.answer_query(request, "identity", tamper=True)

    refused(answer, "invalid_request", "decryption failed")
    failed(world, created, "jwe", "tampered")


def test_an_encrypted_response_to_another_requests_key_is_refused(world):
    _, first = fetched(world)
    created, second = fetched(world)
    presentation = world.wallet.presentation(second, "identity", [["family_name"], ["given_name"],
                                                                  ["address", "street_address"]])
    # The second request's answer, encrypted to the first request's key.
    token = world.wallet.encrypt(first, {"vp_token": {"my_credential": [presentation]},
                                         "state": second.state})

    answer = world.wallet.post(second, {"response": token})

    refused(answer, "invalid_request", "state")
    assert result_of(world, created)["status"] == "pending"


def test_a_clear_vp_token_for_an_encrypted_request_is_refused(world):
    created, request = fetched(world)

    answer = world.wallet.answer_query(request, "identity", encrypt=False)

    refused(answer, "invalid_request", "direct_post.jwt")
    failed(world, created, "response_mode")


@pytest.mark.parametrize("form, words", [
    ({}, ["state: missing"]),
    ({"state": "made-up", "vp_token": "{}"}, ["state: unknown"]),
    ({"response": "not.a.jwe"}, ["not a compact JWE"]),
    ({"response": "eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTEyOEdDTSJ9.." + "a.b.c"},
     ["kid missing or unknown"]),
])
def test_a_response_that_belongs_to_no_request_changes_nothing(world, client, form, words):
    created, request = fetched(world)

    answer = world.wallet.post(request, form)

    refused(answer, "invalid_request", *words)
    assert result_of(world, created)["status"] == "pending"
    assert not ReceivedPresentation.objects.exists()


@pytest.mark.parametrize("vp_token, words", [
    ("not json", ["not a JSON object"]),
    ("[" * 100_000, ["not a JSON object"]),
    ('{"my_credential": ["a~"], "my_credential": ["b~"]}', ["not a JSON object"]),
    ([], ["non-empty JSON object"]),
    ({"unknown_id": ["x~"]}, ["'unknown_id' is not a credential query"]),
    ({"my_credential": "x~"}, ["non-empty array"]),
    ({"my_credential": ["a~", "b~"]}, ["allows one presentation"]),
])
def test_a_malformed_vp_token_is_refused_naming_the_fault(world, vp_token, words):
    created, request = fetched(world, mode="direct_post")

    if isinstance(vp_token, str):
        answer = world.wallet.post(request, {"vp_token": vp_token, "state": request.state})
    else:
        answer = world.wallet.answer(request, vp_token)

    refused(answer, "invalid_request", *words)
    failed(world, created, "malformed")


def test_garbage_in_place_of_a_presentation_is_refused_with_the_failed_check(world):
    created, request = fetched(world, mode="direct_post")

    answer = world.wallet.answer(request, {"my_credential": ["eyJ.garbage~"]})

    refused(answer, "invalid_request")
    failed(world, created, "format")


def test_the_response_endpoint_wants_a_form(world, client):
    answer = client.post("/openid4vp/response", {"state": "x"}, content_type="application/json")

    assert answer.status_code == 415
    assert answer.json()["error"] == "invalid_request"
    assert client.get("/openid4vp/response").status_code == 405


def test_an_unknown_request_uri_is_404(client, db):
    answer = client.get("/openid4vp/request/nope")

    assert answer.status_code == 404
    assert answer.json() == {"error": "invalid_request_uri", "error_description":
                             "no such request"}
