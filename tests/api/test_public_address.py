"""Each passport version's public address (`/passports/<id>`): its credential's `id` and the
linkset's `untp:dpp` target, dereferenceable by anyone (content-negotiated, cacheable, rate
limited), while restricted groups' credentials under it stay behind entitlement.

The discovery test follows what a partner's software does with a product in hand, with no API
key at any step: the QR code → the resolver's linkset → `untp:dpp` → the credential →
POST /api/v1/verify/."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings

from credentials.signing import decode_jwt_parts
from passports import linkset
from passports.models import Passport
from passports.services.issuance import passport_request
from passports.views import qr_print
from tests.support.api import battery_product, issue
from tests.support.waiting import wait_for_state
from wallet.tenancy.authority import operator

PATH = "/01/09506000134352/21/SN-0001"


def local(url: str) -> str:
    """A URL of this service as the test client's path."""
    assert url.startswith(settings.PUBLIC_BASE_URL + "/"), url
    return url.removeprefix(settings.PUBLIC_BASE_URL)


def dpp_link(anonymous, digital_link: str) -> dict:
    """The `untp:dpp` link of the product's linkset, found as a UNTP client finds it."""
    response = anonymous.get(local(digital_link), HTTP_ACCEPT="application/linkset+json")
    assert response.status_code == 200, response.content
    context, = response.json()["linkset"]
    links = [link for targets in context.values() if isinstance(targets, list)
             for link in targets if isinstance(link, dict) and "untp:dpp" in link.get("rel", [])
             and "latest-version" in link["rel"]]
    assert len(links) == 1, context
    return links[0]


def scanned(anonymous, product) -> str:
    """The URL the product's QR code encodes: the label served is the QR code of this URL."""
    label = anonymous.get(f"/qr{local(product.digital_link)}?format=svg")
    assert label.status_code == 200
    assert label.content == qr_print(product.digital_link, "svg", 25)
    return product.digital_link


def follow_and_verify(anonymous, product, accept: str) -> tuple[dict, dict]:
    """QR code → linkset → `untp:dpp` → the credential (as `accept`) → POST /api/v1/verify/,
    with no key anywhere: (the `untp:dpp` link, the verdict)."""
    link = dpp_link(anonymous, scanned(anonymous, product))
    response = anonymous.get(local(link["href"]), HTTP_ACCEPT=accept)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == accept
    if accept == "application/vc+jwt":
        jwt = response.content.decode()
        assert decode_jwt_parts(jwt)[1]["id"] == link["href"]  # it is where its id says
        verdict = anonymous.post("/api/v1/verify/", jwt, content_type=accept)
    else:
        document = json.loads(response.content)
        assert document["id"] == link["href"]
        verdict = anonymous.post("/api/v1/verify/", {"credential": document}, format="json")
    assert verdict.status_code == 200
    return link, verdict.json()


def test_a_partner_follows_qr_linkset_and_dpp_link_to_a_verified_vc_jwt_without_a_key(
        anonymous, passport):
    link, verdict = follow_and_verify(anonymous, passport.product, "application/vc+jwt")

    assert link["href"] == passport.credential_url == (
        f"{settings.PUBLIC_BASE_URL}/passports/{passport.pk}")
    assert link["type"] == "application/vc+jwt"
    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["format"] == "vc+jwt"
    assert verdict["passport"] == {"id": str(passport.pk), "version": 1, "state": "issued"}


def test_a_partner_follows_the_same_links_to_an_embedded_proof_credential_without_a_key(
        anonymous, acme, django_capture_on_commit_callbacks):
    acme.organisation.embedded_proof = True
    acme.organisation.save(update_fields=["embedded_proof"])
    passport = issue(battery_product(acme.organisation), django_capture_on_commit_callbacks)

    _link, verdict = follow_and_verify(anonymous, passport.product, "application/ld+json")

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["format"] == "eddsa-rdfc-2022"
    assert verdict["passport"]["id"] == str(passport.pk)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("embedded", "accept", "suite"), [
    (False, "application/vc+jwt", "vc+jwt"),
    (True, "application/vc", "eddsa-rdfc-2022"),
])
def test_a_passport_the_worker_signed_is_found_and_verified_by_anyone(anonymous, acme, embedded,
                                                                     accept, suite):
    acme.organisation.embedded_proof = embedded
    acme.organisation.save(update_fields=["embedded_proof"])
    requested = passport_request(product=battery_product(acme.organisation), actor=operator())
    passport = wait_for_state(requested, Passport.State.ISSUED)

    _link, verdict = follow_and_verify(anonymous, passport.product, accept)

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["format"] == suite


@pytest.mark.parametrize(("accept", "media_type"), [
    ("application/vc+jwt", "application/vc+jwt"),
    ("application/vc", "application/vc"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/json"),
    ("*/*", "application/vc+jwt"),
    (None, "application/vc+jwt"),
])
def test_the_public_address_negotiates_the_credential(anonymous, passport, accept, media_type):
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = anonymous.get(f"/passports/{passport.pk}", **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == media_type
    assert "Accept" in response["Vary"]
    if media_type == "application/vc+jwt":
        assert response.content.decode() == passport.jwt
    else:  # a vc+jwt passport's JSON form is its EnvelopedVerifiableCredential
        assert json.loads(response.content) == {"@context": ["https://www.w3.org/ns/credentials/v2"],
                                   "type": "EnvelopedVerifiableCredential",
                                   "id": f"data:application/vc+jwt,{passport.jwt}"}


def test_a_browser_is_sent_to_the_page_of_that_version(anonymous, passport):
    response = anonymous.get(f"/passports/{passport.pk}",
                             HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")

    assert response.status_code == 303
    assert response["Location"] == f"{passport.product.digital_link}?version=1"
    page = anonymous.get(local(response["Location"]), HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"Version 1" in page.content


def test_the_page_links_the_credential_so_that_a_browser_gets_it(anonymous, passport):
    page = anonymous.get(PATH, HTTP_ACCEPT="text/html").content.decode()
    href = f"/passports/{passport.pk}?format=jwt"
    assert f'href="{href}"' in page

    response = anonymous.get(href, HTTP_ACCEPT="text/html,*/*;q=0.8")

    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    assert response.content.decode() == passport.jwt
    as_json = anonymous.get(f"/passports/{passport.pk}?format=json", HTTP_ACCEPT="text/html")
    assert json.loads(as_json.content)["id"] == f"data:application/vc+jwt,{passport.jwt}"


def test_the_credential_is_cacheable_and_revalidates_with_304(anonymous, passport):
    first = anonymous.get(f"/passports/{passport.pk}", HTTP_ACCEPT="application/vc+jwt")
    assert first["Cache-Control"].startswith("public, max-age=")
    assert first["Access-Control-Allow-Origin"] == "*"
    json_form = anonymous.get(f"/passports/{passport.pk}", HTTP_ACCEPT="application/vc")
    assert first["ETag"] and json_form["ETag"] != first["ETag"]  # one per representation

    again = anonymous.get(f"/passports/{passport.pk}", HTTP_ACCEPT="application/vc+jwt",
                          HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again["ETag"] == first["ETag"] and again.content == b""


def test_unknown_malformed_and_unsigned_passports_are_404_problems(anonymous, acme, product):
    pending = product.passports.create(version=1)
    for path, code in ((f"/passports/{uuid.uuid4()}", "unknown_passport"),
                       ("/passports/not-a-uuid", "unknown_passport"),
                       (f"/passports/{pending.pk}", "not_issued")):
        response = anonymous.get(path, HTTP_ACCEPT="application/vc+jwt")
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == code
    assert anonymous.get(f"/passports/{uuid.uuid4()}",
                         HTTP_ACCEPT="application/xml").status_code == 404
    assert anonymous.get(f"/passports/{pending.pk}",
                         HTTP_ACCEPT="application/xml").status_code == 406


def test_the_public_address_is_rate_limited_per_client(anonymous, passport, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "public": "2/minute"}}
    address = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::1"  # a fresh /64

    codes = [anonymous.get(f"/passports/{passport.pk}", REMOTE_ADDR=address).status_code
             for _ in range(3)]

    assert codes == [200, 200, 429]


def test_restricted_credentials_at_their_ids_stay_behind_entitlement(anonymous, acme, recycle,
                                                                    other, passport):
    restricted = passport.restricted_credentials.get(access_group="legitimate_interest")
    credential_id = decode_jwt_parts(restricted.jwt)[1]["id"]
    assert credential_id == f"{passport.credential_url}/legitimate_interest"

    assert anonymous.get(local(credential_id)).status_code == 401
    assert other.client.get(local(credential_id)).status_code == 404
    assert recycle.client.get(f"/passports/{passport.pk}/authorities").status_code == 403
    response = recycle.client.get(local(credential_id), HTTP_ACCEPT="application/vc+jwt")
    assert response.status_code == 200
    assert response.content.decode() == restricted.jwt


def test_the_api_credential_endpoint_keeps_working_for_api_clients(anonymous, acme, passport):
    api = f"/api/v1/passports/{passport.pk}/credential"
    assert anonymous.get(api).status_code == 401
    response = acme.client.get(api, HTTP_ACCEPT="application/vc+jwt")
    assert response.status_code == 200 and response.content.decode() == passport.jwt
    output = acme.client.get(f"/api/v1/passports/{passport.pk}/").json()
    assert output["credential_url"] == passport.credential_url


def test_the_linkset_links_every_version_at_its_public_address(anonymous, passport,
                                                               django_capture_on_commit_callbacks):
    second = issue(passport.product, django_capture_on_commit_callbacks)

    document = json.loads(anonymous.get(PATH, HTTP_ACCEPT=linkset.MEDIA_TYPE).content)

    context, = document["linkset"]
    assert [link["href"] for link in context[linkset.DESCRIBEDBY]] == [second.credential_url]
    assert [link["href"] for link in context[linkset.PREDECESSOR]] == [passport.credential_url]
    for href in (second.credential_url, passport.credential_url):
        assert anonymous.get(local(href), HTTP_ACCEPT="application/vc+jwt").status_code == 200
