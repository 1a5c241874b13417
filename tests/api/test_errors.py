"""Errors: application/problem+json (RFC 9457) with a stable code, field errors where they
apply; 400 for what cannot be parsed, 413 past the body limit, 415 for an unsupported type; and
no error ever changes what is stored."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.forms.models import model_to_dict
from django.test import Client

from credentials.models import KeyPair, StatusChange, StatusList
from passports.models import Entitlement, Passport, PassportEvent, Product, RestrictedCredential
from tests.support.problems import PROBLEM, problem
from wallet.tenancy.models import ApiToken, Organisation


def test_malformed_json_is_400_with_the_reason(anonymous):
    response = anonymous.generic("POST", "/api/v1/verify/", '{"credential": ',
                                 content_type="application/json")

    assert "JSON parse error" in problem(response, 400, "parse_error")["detail"]


def test_a_body_without_a_credential_is_400(anonymous):
    body = problem(anonymous.post("/api/v1/verify/", {"credentials": "typo"}, format="json"),
                   400, "missing_credential")

    assert "exactly one of" in body["detail"]


@pytest.mark.parametrize("data", ["[]", '"eyJ..."', "42", "null"])
def test_a_json_body_that_is_not_an_object_is_400(anonymous, data):
    response = anonymous.generic("POST", "/api/v1/verify/", data,
                                 content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("garbage", [42, "not a credential", {"foo": "bar"}, [], "a.b.c"])
def test_a_parseable_request_with_a_garbage_credential_is_200_not_verified(anonymous, garbage):
    verdict = anonymous.post("/api/v1/verify/", {"credential": garbage}, format="json").json()

    assert verdict["verified"] is False
    assert verdict["checks"][0]["ok"] is False
    assert verdict["errors"]


def test_an_unsupported_content_type_is_415_naming_it(anonymous):
    response = anonymous.generic("POST", "/api/v1/verify/", "credential=x",
                                 content_type="application/x-www-form-urlencoded")

    body = problem(response, 415, "unsupported_media_type")
    assert "application/x-www-form-urlencoded" in body["detail"]


def test_a_raw_credential_that_is_not_ascii_is_400(anonymous):
    response = anonymous.generic("POST", "/api/v1/verify/", "eyJ€".encode(),
                                 content_type="application/vc+jwt")

    problem(response, 400, "parse_error")


def test_an_empty_raw_credential_is_400(anonymous):
    problem(anonymous.generic("POST", "/api/v1/verify/", "", content_type="application/vc+jwt"),
            400, "missing_credential")


@pytest.mark.parametrize("path", ["/api/v1/verify/", "/credentials/verify",
                                  "/api/v1/products/"])
def test_a_body_over_the_limit_is_413(anonymous, acme, path):
    client = anonymous if "verify" in path else acme.client
    big = json.dumps({"credential": "x" * (256 * 1024)})

    response = client.generic("POST", path, big, content_type="application/json")

    problem(response, 413, "payload_too_large")


def test_product_field_errors_name_their_fields(acme):
    response = acme.client.post("/api/v1/products/", {
        "gtin": "4006381333932", "name": "Pack", "category": "battery",
        "attributes": {"ratedCapacity": "lots"}, "colour": "red"}, format="json")

    body = problem(response, 400, "invalid")
    assert {"field": "colour", "code": "unknown_field", "detail": "Unknown field."} in \
        body["errors"]
    response = acme.client.post("/api/v1/products/", {
        "gtin": "4006381333932", "name": "Pack", "category": "battery",
        "attributes": {"ratedCapacity": "lots"}}, format="json")
    errors = {e["field"]: e for e in problem(response, 400, "invalid")["errors"]}
    assert "check digit" in errors["gtin"]["detail"]
    assert "attributes.ratedCapacity" in errors


def test_an_unknown_or_malformed_id_is_a_404_problem(acme):
    for path in ("/api/v1/passports/not-a-uuid/", "/api/v1/products/abc/",
                 "/api/v1/passports/00000000-0000-0000-0000-000000000000/credential",
                 "/api/v1/products/99999999999999999999999/"):
        problem(acme.client.get(path), 404, "not_found")


def test_an_unknown_access_group_is_404(acme, passport):
    problem(acme.client.get(f"/api/v1/passports/{passport.pk}/credential/public"),
            404, "unknown_access_group")


def test_a_credential_nobody_can_serve_as_asked_is_406(acme, passport):
    response = acme.client.get(f"/api/v1/passports/{passport.pk}/credential",
                               HTTP_ACCEPT="text/html")

    problem(response, 406, "not_acceptable")


def test_a_post_to_an_unknown_api_path_is_a_404_problem_not_a_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/api/v1/no-such-thing/", {"a": 1},
                                                     content_type="application/json")

    problem(response, 404, "not_found")


def test_an_unknown_method_is_405_with_allow(acme):
    response = acme.client.delete("/api/v1/products/")

    problem(response, 405, "method_not_allowed")
    assert set(response["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_pending_passport_has_no_credential_yet(acme, product):
    created = acme.client.post("/api/v1/passports/", {"product": product.pk}, format="json")

    response = acme.client.get(f"/api/v1/passports/{created.json()['id']}/credential")

    problem(response, 409, "not_issued")


def test_revocation_is_final(acme, passport):
    acme.client.post(f"/api/v1/passports/{passport.pk}/revoke", {}, format="json")

    problem(acme.client.post(f"/api/v1/passports/{passport.pk}/reinstate", {}, format="json"),
            409, "revoked_is_final")


# Nothing stored changes on any error -----------------------------------------------------------

STORED = [Organisation, Product, Passport, PassportEvent, RestrictedCredential, Entitlement,
          KeyPair, StatusList, StatusChange]


def snapshot() -> str:
    rows = {model.__name__: [model_to_dict(row) for row in model.objects.order_by("pk")]
            for model in STORED}
    # An API key's last use is bookkeeping (written at most once a minute), not data.
    rows["ApiToken"] = list(ApiToken.objects.order_by("pk").values(
        "id", "organisation", "name", "prefix", "key_hash", "scopes", "revoked_at"))
    return json.dumps(rows, cls=DjangoJSONEncoder, sort_keys=True, default=str)


def test_nothing_stored_changes_on_any_error(acme, other, recycle, anonymous, passport,
                                            django_capture_on_commit_callbacks):
    pending = acme.client.post("/api/v1/passports/", {"product": passport.product_id},
                               format="json").json()
    product_url = f"/api/v1/products/{passport.product_id}/"
    passport_url = f"/api/v1/passports/{passport.pk}"
    before = snapshot()
    failing = [
        (acme.client, "post", "/api/v1/products/", {"gtin": "1", "name": "x",
                                                    "category": "battery"}),
        (acme.client, "post", "/api/v1/products/",  # the GS1 key is taken
         {"gtin": passport.product.gtin, "serial": passport.product.serial, "name": "Copy",
          "category": "generic"}),
        (acme.client, "patch", product_url, {"attributes": {"ratedCapacity": "lots"}}),
        (acme.client, "patch", product_url, {"category": "no-such-category"}),
        (acme.client, "patch", product_url, {"name": "x" * 300}),
        (other.client, "patch", product_url, {"name": "Stolen"}),
        (acme.client, "post", "/api/v1/passports/", {"product": passport.product_id}),
        (other.client, "post", "/api/v1/passports/", {"product": passport.product_id}),
        (recycle.client, "post", f"{passport_url}/revoke", {"reason": "not mine"}),
        (other.client, "post", f"{passport_url}/suspend", {}),
        (acme.client, "post", f"/api/v1/passports/{pending['id']}/suspend", {}),
        (acme.client, "post", f"{passport_url}/revoke", {"reason": "x" * 3000}),
        (anonymous, "post", f"{passport_url}/revoke", {}),
        (acme.client, "post", "/credentials/issue",
         {"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                         "type": ["VerifiableCredential"], "issuer": other.organisation.did,
                         "credentialSubject": {"id": "urn:x"}}}),
        (acme.client, "post", "/credentials/issue", {"credential": {}, "options": {"x": 1}}),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for client, method, url, body in failing:
            response = getattr(client, method)(url, body, format="json")
            assert response.status_code >= 400, (url, body, response.content)
            assert response["Content-Type"] == PROBLEM
        for content_type, data in (("text/plain", "x"), ("application/json", "{"),
                                   ("application/json", json.dumps({"a": "x" * 300_000}))):
            response = acme.client.generic("PATCH", product_url, data, content_type=content_type)
            assert response.status_code in (400, 413, 415)

    assert snapshot() == before
