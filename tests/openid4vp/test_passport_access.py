"""Restricted passport data through an EU wallet: a partner asks (no API key), its wallet
presents an access-role SD-JWT VC over OpenID4VP, and the one-time secret reads the credential
of the role's access group, once."""


from credentials.signing import decode_jwt_parts
from openid4vp.models import PresentationRequest
from passports.models import Entitlement
from tests.support.api import api_client
from tests.support.passport_access import ask, present_role, read, role_credential
from wallet.business.presentations import ACCESS_ROLE_VCT
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.authority import operator
from wallet.tenancy.models import ApiToken


def test_a_partner_with_a_role_from_the_manufacturer_reads_its_group_exactly_once(access,
                                                                                 client):
    asked = ask(client, access.passport)
    pending = read(client, asked)
    answer = present_role(access, asked, role_credential(access.acme, access.recycle,
                                                         access.wallet))

    granted = read(client, asked, HTTP_ACCEPT="application/vc+jwt")
    again = read(client, asked)

    assert pending.status_code == 202 and pending.json()["status"] == "pending"
    assert answer.status_code == 200, answer.content
    assert granted.status_code == 200, granted.content
    _, credential = decode_jwt_parts(granted.content.decode().strip('"'))
    assert credential["id"].endswith("/legitimate_interest")
    assert again.status_code == 410 and again.json()["code"] == "already_read"


def test_the_request_asks_for_the_access_role_on_behalf_of_the_manufacturer(access, client):
    asked = ask(client, access.passport)

    request = access.wallet.fetch(asked["authorization_request"])

    [query] = request.query["credentials"]
    assert query["meta"]["vct_values"] == [ACCESS_ROLE_VCT]
    assert [c["path"] for c in query["claims"]] == [["access_group"], ["role"], ["sub"]]
    assert request.claims["response_mode"] == "direct_post.jwt"
    stored = PresentationRequest.objects.get(pk=asked["request_id"])
    assert stored.organisation == access.acme
    assert stored.read_secret_hash and asked["read_secret"] not in stored.read_secret_hash


def test_the_manufacturer_sees_the_verdict_through_its_api(access, client):
    asked = ask(client, access.passport)
    present_role(access, asked, role_credential(access.acme, access.recycle, access.wallet))
    _, key = api_token_create(actor=operator(), organisation=access.acme, name="x",
                              scopes=[ApiToken.Scope.PRESENTATIONS_REQUEST])

    result = api_client(key).get(f"/api/v1/openid4vp/requests/{asked['request_id']}").json()

    assert result["status"] == "verified"
    assert result["disclosed"]["access_role"]["sub"] == access.recycle.did
    assert result["disclosed"]["access_role"]["access_group"] == "legitimate_interest"


def test_a_role_from_a_trusted_anchor_needs_no_entitlement(access, client):
    Entitlement.objects.all().delete()
    asked = ask(client, access.passport)
    present_role(access, asked, role_credential(access.register, access.recycle,
                                                access.wallet))

    assert read(client, asked).status_code == 200


def test_a_role_the_manufacturer_no_longer_backs_gives_no_access(access, client):
    asked = ask(client, access.passport)
    present_role(access, asked, role_credential(access.acme, access.recycle, access.wallet))
    Entitlement.objects.all().delete()

    refused = read(client, asked)

    assert refused.status_code == 403 and refused.json()["code"] == "role_withdrawn"


def test_a_role_from_another_organisation_is_refused_naming_the_issuer(access, client):
    asked = ask(client, access.passport)
    answer = present_role(access, asked, role_credential(access.other, access.recycle,
                                                         access.wallet))

    refused = read(client, asked)

    assert answer.status_code == 400 and answer.json()["error"] == "access_denied"
    assert refused.status_code == 403
    assert refused.json()["code"] == "untrusted_issuer"
    assert access.other.did in refused.json()["detail"]


def test_a_role_for_a_public_group_is_not_a_restricted_entitlement(access, client):
    asked = ask(client, access.passport)
    present_role(access, asked, role_credential(access.register, access.recycle,
                                                access.wallet, group="public"))

    refused = read(client, asked)

    assert refused.status_code == 403 and refused.json()["code"] == "role_invalid"


def test_the_secret_is_needed_and_must_be_this_requests(access, client):
    asked = ask(client, access.passport)
    other = ask(client, access.passport)

    assert read(client, asked, secret=other["read_secret"]).status_code == 404
    path = asked["result_url"].removeprefix("http://localhost:8000")
    assert client.get(path).status_code == 404
    assert client.get(path, HTTP_AUTHORIZATION=f"Token {asked['read_secret']}").status_code \
        == 404


def test_an_unknown_passport_is_404_and_nothing_is_asked(access, client):
    assert client.post("/api/v1/passports/not-a-uuid/access/openid4vp").status_code == 404
    assert not PresentationRequest.objects.exists()


def test_the_wallet_declining_reads_as_refused(access, client):
    asked = ask(client, access.passport)
    request = access.wallet.fetch(asked["authorization_request"])
    access.wallet.decline(request)

    refused = read(client, asked)

    assert refused.status_code == 403 and refused.json()["code"] == "wallet_error"
    assert "access_denied" in refused.json()["detail"]
