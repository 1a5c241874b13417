"""Machines log in with mandates (issue #21): a verified presentation of mandates is exchanged
at /oauth/token (RFC 8693) for a short-lived access token carrying exactly the presented
scopes and organisation, accepted by the API beside API keys; every refusal is an RFC 6749
error naming why, and stores nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support import eu_wallet
from tests.support.api import battery_product
from tests.support.environment import generous_rate_limits
from tests.support.factories import organisation, staff_member
from tests.support.wallet_login import token_request, wallet_with_mandates
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.login_models import MandateLogin, MandateLoginEvent
from wallet.tenancy.mandates import mandate_grant, mandate_revoke, mandate_suspend

parties = eu_wallet.parties  # acme (attested) and jan's passports:issue mandate


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    generous_rate_limits(settings, "openid4vci", "verify", "public")


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def refused(response, error: str, reason: str = "") -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == error, body
    assert body["error_description"].startswith(reason), body
    assert "no-store" in response["Cache-Control"]
    return body


def test_the_token_carries_the_presented_scopes_and_works_on_the_api(
        client, parties, django_capture_on_commit_callbacks):
    holder = wallet_with_mandates(client, parties["mandate"])
    product = battery_product(parties["acme"])

    answer = token_request(client, holder)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "passports:issue"
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["expires_in"] == 600
    with django_capture_on_commit_callbacks(execute=True):
        issued = client.post("/api/v1/passports/", {"product": product.pk},
                             content_type="application/json", **bearer(body["access_token"]))
    assert issued.status_code == 202, issued.content
    # Reading products is no mandate's scope: the token cannot.
    listed = client.get("/api/v1/products/", **bearer(body["access_token"]))
    assert listed.status_code == 403 and listed.json()["code"] == "missing_scope"
    login = MandateLogin.objects.get()
    assert login.token_hash != body["access_token"] and len(login.token_hash) == 64
    assert MandateLoginEvent.objects.filter(login=login, kind="token_issued").exists()


def test_scopes_of_several_mandates_and_a_narrower_scope_asked(client, parties):
    jan = parties["mandate"].grantee_user
    revoking = mandate_grant(organisation=parties["acme"], scope=Mandate.Scope.PASSPORTS_REVOKE,
                             user=jan)
    holder = wallet_with_mandates(client, parties["mandate"], revoking)

    both = token_request(client, holder, ("mandate0", "mandate1"))
    narrower = token_request(client, holder, ("mandate0", "mandate1"), scope="passports:revoke")
    beyond = token_request(client, holder, ("mandate0",), scope="invoices:send")

    assert both.json()["scope"] == "passports:issue passports:revoke"
    assert narrower.json()["scope"] == "passports:revoke"
    refused(beyond, "invalid_scope")


def test_the_token_ends_with_the_mandate_and_at_its_expiry(client, parties):
    jan = parties["mandate"].grantee_user
    short = mandate_grant(organisation=parties["acme"], scope=Mandate.Scope.PASSPORTS_REVOKE,
                          user=jan, valid_until=timezone.now() + timedelta(minutes=5))
    holder = wallet_with_mandates(client, parties["mandate"], short)
    product = battery_product(parties["acme"])

    limited = token_request(client, holder, ("mandate1",)).json()
    assert 0 < limited["expires_in"] <= 300  # never past the mandate's end

    token = token_request(client, holder, ("mandate0",)).json()["access_token"]
    mandate_revoke(mandate=parties["mandate"], reason="left")
    acting = client.post("/api/v1/passports/", {"product": product.pk},
                         content_type="application/json", **bearer(token))
    assert acting.status_code == 403 and acting.json()["code"] == "no_mandate"

    MandateLogin.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get("/api/v1/passports/", **bearer(token))
    assert expired.status_code == 401 and expired.json()["code"] == "invalid_token"


def test_refusals_name_the_reason_and_store_nothing(client, parties):
    holder = wallet_with_mandates(client, parties["mandate"])
    nonce = client.post("/oauth/nonce").json()["nonce"]
    first = token_request(client, holder, nonce=nonce, aud="http://localhost:8000/oauth/token")
    assert first.status_code == 200
    before = MandateLogin.objects.count()

    refused(token_request(client, holder, nonce=nonce, aud="http://localhost:8000/oauth/token"),
            "invalid_grant", "replayed")
    refused(token_request(client, holder, nonce="made-up:nonce", aud="http://localhost:8000"
                                                                      "/oauth/token"),
            "invalid_grant", "wrong_audience_or_nonce")
    refused(token_request(client, holder, aud="https://elsewhere.example/token"),
            "invalid_grant", "wrong_audience_or_nonce")
    refused(token_request(client, holder, grant_type="client_credentials"),
            "unsupported_grant_type")
    refused(token_request(client, holder, subject_token="not json"), "invalid_request")
    mandate_suspend(mandate=parties["mandate"], reason="on leave")
    refused(token_request(client, holder), "invalid_grant", "suspended")
    mandate_revoke(mandate=parties["mandate"], reason="left")
    refused(token_request(client, holder), "invalid_grant", "revoked")

    assert MandateLogin.objects.count() == before
    assert set(MandateLoginEvent.objects.filter(kind="refused").values_list(
        "code", flat=True)) >= {"replayed"}


def test_a_mandate_from_an_issuer_nobody_attested_is_refused(client, parties):
    other = organisation("other", "Unattested B.V.")
    piet = staff_member(other, "piet", mandates=(Mandate.Scope.PASSPORTS_ISSUE,))
    holder = wallet_with_mandates(client, Mandate.objects.get(grantee_user=piet))

    body = refused(token_request(client, holder), "invalid_grant", "untrusted_issuer")

    assert "does not trust" in body["error_description"]


def test_the_refusal_is_in_the_callers_language(client, parties):
    holder = wallet_with_mandates(client, parties["mandate"])
    mandate_revoke(mandate=parties["mandate"], reason="left")

    answer = token_request(client, holder, language="de")

    assert "Das Mandat wurde von der Organisation widerrufen." in answer.json()[
        "error_description"]
