"""Who may do what: every endpoint, called by an anonymous client, by the passport's own
organisation (acme), by another organisation (other) and by a partner acme entitled to its
`legitimate_interest` data (recycle), each with a key carrying every scope.

Rule (passports/api/access.py): 404 for what a key's organisation cannot see (the API does not
tell other organisations what exists), 403 for what it sees but may not do."""

import pytest

from credentials.signing import decode_jwt_parts
from tests.support.api import api_client, party
from tests.support.formats import vp_jwt, world_for
from wallet.tenancy.api_tokens import api_token_revoke
from wallet.tenancy.authority import ANCHOR_SCOPES
from wallet.tenancy.models import ApiToken

ANON, OWN, OTHER, PARTNER = "anonymous", "own", "other", "partner"


def new_product(serial):
    return {"gtin": "4006381333931", "serial": serial, "name": "Widget", "category": "generic",
            "country_of_production": "NL"}


# (method, path, body, {caller: expected status}); {passport} and {product} are filled in.
MATRIX = [
    ("get", "/api/v1/products/", None, {ANON: 401, OWN: 200, OTHER: 200, PARTNER: 200}),
    ("post", "/api/v1/products/", "new product",
     {ANON: 401, OWN: 201, OTHER: 201, PARTNER: 201}),
    ("get", "/api/v1/products/{product}/", None, {ANON: 401, OWN: 200, OTHER: 404, PARTNER: 404}),
    ("patch", "/api/v1/products/{product}/", {"description": "Now with more cells"},
     {ANON: 401, OWN: 200, OTHER: 404, PARTNER: 404}),
    ("get", "/api/v1/passports/", None, {ANON: 401, OWN: 200, OTHER: 200, PARTNER: 200}),
    ("post", "/api/v1/passports/", "own product",
     {ANON: 401, OWN: 202, OTHER: 400, PARTNER: 400}),
    ("get", "/api/v1/passports/{passport}/", None,
     {ANON: 401, OWN: 200, OTHER: 404, PARTNER: 200}),
    ("get", "/api/v1/passports/{passport}/credential", None,
     {ANON: 401, OWN: 200, OTHER: 404, PARTNER: 200}),
    ("get", "/api/v1/passports/{passport}/credential/legitimate_interest", None,
     {ANON: 401, OWN: 200, OTHER: 404, PARTNER: 200}),
    ("get", "/api/v1/passports/{passport}/credential/legitimate_interest_commission", None,
     {ANON: 401, OWN: 200, OTHER: 404, PARTNER: 403}),
    ("get", "/api/v1/passports/{passport}/credential/authorities", None,
     {ANON: 401, OWN: 200, OTHER: 404, PARTNER: 403}),
    ("post", "/api/v1/passports/{passport}/suspend", {"reason": "check"},
     {ANON: 401, OWN: 202, OTHER: 404, PARTNER: 403}),
    ("post", "/api/v1/passports/{passport}/reinstate", {},
     {ANON: 401, OWN: 202, OTHER: 404, PARTNER: 403}),
    ("post", "/api/v1/passports/{passport}/revoke", {"reason": "counterfeit"},
     {ANON: 401, OWN: 202, OTHER: 404, PARTNER: 403}),
    ("post", "/api/v1/verify/", "passport credential",
     {ANON: 200, OWN: 200, OTHER: 200, PARTNER: 200}),
    ("post", "/credentials/issue", "unsecured credential",
     {ANON: 401, OWN: 201, OTHER: 201, PARTNER: 201}),
    ("post", "/credentials/verify", "verifiable credential",
     {ANON: 200, OWN: 200, OTHER: 200, PARTNER: 200}),
    ("post", "/presentations/verify", "verifiable presentation",
     {ANON: 200, OWN: 200, OTHER: 200, PARTNER: 200}),
]


def body_for(kind, caller, passport, parties):
    if not isinstance(kind, str):
        return kind
    if kind == "new product":
        return new_product(f"NEW-{caller}")
    if kind == "own product":
        return {"product": passport.product_id, "reason": "next version"}
    if kind == "passport credential":
        return {"credential": passport.jwt}
    if kind == "unsecured credential":
        organisation = (parties.get(caller) or parties[OWN]).organisation
        return {"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                               "type": ["VerifiableCredential"], "issuer": organisation.did,
                               "credentialSubject": {"id": "https://example.com/01/1"}}}
    if kind == "verifiable credential":
        return {"verifiableCredential": passport.jwt}
    if kind == "verifiable presentation":
        return {"verifiablePresentation": vp_jwt(world_for(passport), "valid"),
                "options": {"challenge": "c-1", "domain": "verifier.example"}}
    raise AssertionError(kind)


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX,
                         ids=[f"{m.upper()} {p}" for m, p, _, _ in MATRIX])
@pytest.mark.parametrize("caller", [ANON, OWN, OTHER, PARTNER])
def test_authorisation_matrix(caller, method, path, body, expected, acme, other, recycle,
                              anonymous, passport):
    parties = {OWN: acme, OTHER: other, PARTNER: recycle}
    client = anonymous if caller == ANON else parties[caller].client
    url = path.format(passport=passport.pk, product=passport.product_id)
    data = body_for(body, caller, passport, parties)

    response = getattr(client, method)(url, data, format="json") if data is not None \
        else getattr(client, method)(url)

    assert response.status_code == expected[caller], response.content
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"


def test_lists_show_only_what_the_caller_may_see(acme, other, recycle, passport):
    assert acme.client.get("/api/v1/products/").json()["count"] == 1
    assert other.client.get("/api/v1/products/").json()["count"] == 0
    assert recycle.client.get("/api/v1/products/").json()["count"] == 0  # products are private
    assert acme.client.get("/api/v1/passports/").json()["count"] == 1
    assert other.client.get("/api/v1/passports/").json()["count"] == 0
    partner_view = recycle.client.get("/api/v1/passports/").json()["results"]
    assert [p["id"] for p in partner_view] == [str(passport.pk)]
    assert [r["access_group"] for r in partner_view[0]["restricted"]] == ["legitimate_interest"]


def test_an_entitled_partner_receives_its_group_and_no_other(acme, recycle, passport):
    url = f"/api/v1/passports/{passport.pk}/credential/legitimate_interest"

    jwt = recycle.client.get(url, HTTP_ACCEPT="application/vc+jwt").content.decode()

    _header, credential = decode_jwt_parts(jwt)
    assert credential["id"] == f"{passport.credential_url}/legitimate_interest"
    own = acme.client.get(url, HTTP_ACCEPT="application/vc+jwt").content.decode()
    assert own == jwt
    for group in ("legitimate_interest_commission", "authorities"):
        response = recycle.client.get(f"/api/v1/passports/{passport.pk}/credential/{group}")
        assert response.status_code == 403
        assert response.json()["code"] == "not_entitled"


def test_a_partner_sees_no_pending_passport_of_its_manufacturer(acme, recycle, product):
    pending = acme.client.post("/api/v1/passports/", {"product": product.pk}, format="json")
    assert pending.status_code == 202 and pending.json()["state"] == "pending"

    response = recycle.client.get(f"/api/v1/passports/{pending.json()['id']}/")

    assert response.status_code == 404


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("get", "/api/v1/products/", "products:read"),
    ("post", "/api/v1/products/", "products:write"),
    ("get", "/api/v1/passports/", "passports:read"),
    ("get", "/api/v1/passports/{passport}/credential", "passports:read"),
    ("post", "/api/v1/passports/", "passports:issue"),
    ("post", "/api/v1/passports/{passport}/revoke", "passports:revoke"),
    ("post", "/credentials/issue", "credentials:issue"),
])
def test_a_key_without_the_scope_gets_403(acme, passport, method, path, scope):
    others = [s for s in ApiToken.Scope.values
              if s != scope and s not in ANCHOR_SCOPES]  # acme is no trust anchor
    narrow = party(acme.organisation, scopes=others)

    response = getattr(narrow.client, method)(path.format(passport=passport.pk), {},
                                              format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert scope in response.json()["detail"]


def test_revoked_unknown_and_malformed_keys_get_401(acme, passport):
    api_token_revoke(token=ApiToken.objects.get(organisation=acme.organisation))
    for client in (acme.client, api_client("not-a-key"), api_client("two words")):
        response = client.get("/api/v1/passports/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["code"] in ("invalid_token", "malformed_token")


def test_another_authorization_scheme_is_anonymous(passport):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Bearer something")

    assert client.get("/api/v1/passports/").json()["code"] == "not_authenticated"
    assert client.post("/api/v1/verify/", {"credential": passport.jwt},
                       format="json").status_code == 200
