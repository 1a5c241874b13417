"""Entitlement by presentation through the API: no key, a challenge, a presentation back."""

from credentials.signing import decode_jwt_parts
from tests.support.wallet import present


def challenge_for(client, passport) -> str:
    response = client.post(f"/api/v1/passports/{passport.pk}/access/challenge")
    assert response.status_code == 201, response.content
    assert response.json()["domain"] == "http://localhost:8000"
    return response.json()["challenge"]


def post_presentation(client, passport, presentation, **headers):
    return client.post(f"/api/v1/passports/{passport.pk}/access",
                       {"presentation": presentation}, content_type="application/json",
                       **headers)


def test_a_partner_with_the_role_gets_exactly_its_group_and_a_replay_fails(client, world):  # noqa: F811
    passport = world["passport"]
    presentation = present(world, challenge_for(client, passport))

    granted = post_presentation(client, passport, presentation,
                                HTTP_ACCEPT="application/vc+jwt")
    replayed = post_presentation(client, passport, presentation)

    assert granted.status_code == 200, granted.content
    _, credential = decode_jwt_parts(granted.content.decode().strip('"'))
    assert credential["id"].endswith("/legitimate_interest")
    assert replayed.status_code == 403
    assert replayed["Content-Type"] == "application/problem+json"
    assert replayed.json()["code"] == "challenge"


def test_without_the_role_credential_the_answer_is_403_naming_it(client, world):  # noqa: F811
    passport = world["passport"]
    presentation = present(world, challenge_for(client, passport), credentials=["identity"])

    refused = post_presentation(client, passport, presentation)

    assert refused.status_code == 403
    assert refused.json()["code"] == "role_missing"


def test_an_unknown_passport_and_a_malformed_body_are_problems(client, world):  # noqa: F811
    assert client.post("/api/v1/passports/not-a-uuid/access/challenge").status_code == 404
    bad = client.post(f"/api/v1/passports/{world['passport'].pk}/access", {"presentation": 5},
                      content_type="application/json")
    assert bad.status_code in (400, 403)
    assert bad["Content-Type"] == "application/problem+json"
