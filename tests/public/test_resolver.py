"""The GS1 Digital Link resolver: every content type, linksets valid against the UNTP schema,
307 redirects, bad GTINs and unknown products."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.exceptions import ValidationError

from credentials import schemas
from passports import linkset
from passports.models import Passport
from passports.services.verification import verify_credential
from passports.views import DigitalLink, negotiate, parse_digital_link
from tests.support.factories import GTINS, organisation
from tests.support.public import issue, make_product

LINK = "/01/09506000134352/21/SN-0001"
URI = "http://localhost:8000" + LINK


# Parsing Digital Link paths ---------------------------------------------------------------------

@pytest.mark.parametrize(("gtin", "qualifiers", "expected"), [
    ("09506000134352", "", DigitalLink("09506000134352")),
    ("9506000134352", None, DigitalLink("09506000134352")),  # GTIN-13, padded
    ("012345678905", "", DigitalLink("00012345678905")),  # GTIN-12
    ("96385074", "", DigitalLink("00000096385074")),  # GTIN-8
    ("09506000134352", "/21/SN-0001", DigitalLink("09506000134352", serial="SN-0001")),
    ("09506000134352", "/10/LOT7/21/SN-1/", DigitalLink("09506000134352", lot="LOT7",
                                                        serial="SN-1")),
    ("09506000134352", "/22/V2/10/L1/21/S1", DigitalLink("09506000134352", cpv="V2", lot="L1",
                                                         serial="S1")),
    ("09506000134352", "/10/A/B/21/C/D", DigitalLink("09506000134352", lot="A/B",
                                                     serial="C/D")),
])
def test_digital_link_paths_parse_in_the_gs1_order(gtin, qualifiers, expected):
    assert parse_digital_link(gtin, qualifiers) == expected


@pytest.mark.parametrize(("gtin", "qualifiers", "code"), [
    ("09506000134353", "", "gtin_check_digit"),
    ("12345", "", "gtin_format"),
    ("0950600013435X", "", "gtin_format"),
    ("09506000134352", "/99/X", "qualifiers"),
    ("09506000134352", "/21/ümlaut", "gs1_text"),
    ("09506000134352", "/10/" + "L" * 21, "gs1_text"),
])
def test_bad_digital_link_paths_are_refused_with_a_code(gtin, qualifiers, code):
    with pytest.raises(ValidationError) as raised:
        parse_digital_link(gtin, qualifiers)
    assert raised.value.code == code


# Content negotiation -----------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "text/html"),
    ("", "text/html"),
    ("*/*", "text/html"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("application/vc+jwt", "application/vc+jwt"),
    ("application/vc", "application/vc"),
    ("application/ld+json", "application/ld+json"),
    ("application/linkset+json", "application/linkset+json"),
    ("text/html;q=0.5, application/vc+jwt", "application/vc+jwt"),
    ("application/*", "application/vc+jwt"),
    ("application/vc;q=0.2, application/*;q=0.1", "application/vc"),
    ("text/html;q=0, */*;q=0.1", "application/vc+jwt"),
    ("image/png", None),
    ("text/html;q=oops", None),
])
def test_negotiation_follows_q_values_and_specificity(accept, chosen):
    assert negotiate(accept) == chosen


# Machines ------------------------------------------------------------------------------------

def get(client, path, accept=None, **extra):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    return client.get(path, **headers, **extra)


def test_vc_jwt_is_the_compact_jwt(client, issued):
    response = get(client, LINK, "application/vc+jwt")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert response.content.decode() == issued.jwt
    assert "Accept" in response["Vary"]


@pytest.mark.parametrize("media_type", ["application/vc", "application/ld+json",
                                        "application/json"])
def test_json_credential_is_the_enveloped_credential(client, issued, media_type):
    response = get(client, LINK, media_type)
    assert response.status_code == 200
    assert response["Content-Type"] == media_type
    document = json.loads(response.content)
    assert document["type"] == "EnvelopedVerifiableCredential"
    assert document["id"] == f"data:application/vc+jwt,{issued.jwt}"
    assert verify_credential(document)["verified"] is True


def test_json_credential_of_an_embedded_proof_passport_is_that_credential(client, acme):
    acme.embedded_proof = True
    acme.save(update_fields=["embedded_proof"])
    passport = issue(make_product(acme))
    assert passport.embedded and "proof" in passport.embedded

    document = get(client, LINK, "application/ld+json").json()

    assert document == passport.embedded
    assert verify_credential(document)["verified"] is True


def test_linkset_is_valid_untp_and_links_passport_versions_did_and_page(client, battery):
    first = issue(battery)
    second = issue(battery)

    response = get(client, LINK, "application/linkset+json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/linkset+json"
    document = response.json()
    assert schemas.schema_errors(linkset.SCHEMA, document) == []
    context, = document["linkset"]
    assert context["anchor"] == URI
    assert context[linkset.DEFAULT] == [{"href": URI, "title": "Product passport page",
                                         "type": "text/html",
                                         "hreflang": ["en", "nl", "de", "fr"]}]
    assert [link["hreflang"] for link in context[linkset.PIP]] == [["en"], ["nl"], ["de"],
                                                                   ["fr"]]
    current, = context["describedby"]
    assert current["href"] == second.credential_url
    assert current["type"] == "application/vc+jwt"
    assert current["rel"] == ["untp:dpp", "latest-version"]
    older, = context["predecessor-version"]
    assert older["href"] == first.credential_url and older["rel"] == ["untp:dpp"]
    assert context["author"][0]["href"] == "http://localhost:8000/orgs/acme/did.json"
    assert client.get("/orgs/acme/did.json").json()["id"] == battery.organisation.did


@pytest.mark.parametrize("link_type", ["linkset", "all"])
def test_link_type_linkset_wins_over_accept(client, issued, link_type):
    response = get(client, f"{LINK}?linkType={link_type}", "text/html")
    assert response["Content-Type"] == "application/linkset+json"
    assert schemas.schema_errors(linkset.SCHEMA, response.json()) == []


def test_a_product_with_no_signed_passport_has_a_valid_linkset_without_credentials(
        client, battery):
    document = get(client, LINK, "application/linkset+json").json()
    assert schemas.schema_errors(linkset.SCHEMA, document) == []
    assert "describedby" not in document["linkset"][0]


@pytest.mark.parametrize(("link_type", "target"), [
    ("untp:dpp", "credential"),
    ("dpp", "credential"),
    ("describedby", "credential"),
    ("gs1:pip", URI + "?lang=en"),
    ("https://gs1.org/voc/pip", URI + "?lang=en"),
    ("gs1:defaultLink", URI),
    ("author", "http://localhost:8000/orgs/acme/did.json"),
    ("did", "http://localhost:8000/orgs/acme/did.json"),
    ("no-such-type", URI),  # UNTP: a link type it does not have goes to the default link
])
def test_link_type_redirects_307_to_that_link(client, issued, link_type, target):
    response = get(client, f"{LINK}?linkType={link_type}", "application/vc+jwt")
    assert response.status_code == 307
    expected = issued.credential_url if target == "credential" else target
    assert response["Location"] == expected


def test_predecessor_version_redirects_to_the_previous_credential(client, battery):
    first = issue(battery)
    issue(battery)
    response = client.get(f"{LINK}?linkType=predecessor-version")
    assert response.status_code == 307
    assert response["Location"] == first.credential_url


def test_every_answer_has_link_and_vary_headers(client, issued):
    for accept in ("text/html", "application/vc+jwt", "application/vc",
                   "application/linkset+json"):
        response = get(client, LINK, accept)
        assert response.status_code == 200, accept
        assert "Accept" in response["Vary"]
        assert f'<{URI}?linkType=linkset>; rel="linkset"' in response["Link"]
        assert f'<{issued.credential_url}>; rel="describedby"' in response["Link"]


def test_shorter_gtins_resolve_to_the_same_product(client, issued):
    response = get(client, "/01/9506000134352/21/SN-0001", "application/vc+jwt")
    assert response.content.decode() == issued.jwt


def test_lot_and_cpv_qualifiers_resolve(client, acme):
    lot = issue(make_product(acme, serial="", lot="LOT-7"))
    assert get(client, "/01/09506000134352/10/LOT-7", "application/vc+jwt").content.decode() \
        == lot.jwt
    # Products carry no variant: the CPV selects the less granular record.
    assert get(client, "/01/09506000134352/22/BLUE/10/LOT-7/",
               "application/vc+jwt").content.decode() == lot.jwt


def test_an_older_version_is_served_when_asked_for(client, battery):
    first = issue(battery)
    second = issue(battery)
    assert get(client, LINK, "application/vc+jwt").content.decode() == second.jwt
    response = get(client, f"{LINK}?version=1", "application/vc+jwt")
    assert response.content.decode() == first.jwt
    assert f'<{URI}>; rel="latest-version"' in response["Link"]


def test_head_is_answered_and_other_methods_are_not(client, issued):
    assert client.head(LINK).status_code == 200
    assert client.post(LINK).status_code == 405


def test_unacceptable_media_type_is_406_problem(client, issued):
    response = get(client, LINK, "image/png")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/problem+json"


def test_no_credential_yet_is_404_problem_for_machines(client, battery):
    Passport.objects.create(product=battery, version=1)  # pending
    response = get(client, LINK, "application/vc+jwt")
    assert response.status_code == 404
    assert response.json()["code"] == "not_issued"


# Errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "code"), [
    ("/01/09506000134353", "gtin_check_digit"),
    ("/01/09506000134353/21/SN-0001", "gtin_check_digit"),
    ("/01/123", "gtin_format"),
    ("/01/abcdefgh", "gtin_format"),
    ("/01/09506000134352/99/X", "qualifiers"),
])
def test_bad_gtins_are_400_problem_for_machines(client, db, path, code):
    response = get(client, path, "application/vc+jwt")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code and problem["status"] == 400 and problem["detail"]


def test_bad_gtin_is_a_400_page_for_people(client, db):
    response = get(client, "/01/09506000134353", "text/html", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in response
    text = response.content.decode()
    assert '<html lang="de">' in text and "Prüfziffer" in text


def test_unknown_products_are_404(client, issued):
    for path in ("/01/04006381333931", "/01/09506000134352/21/SN-9999",
                 "/01/09506000134352/10/LOT/21/SN-0001"):
        page = get(client, path, "text/html")
        assert page.status_code == 404, path
        assert "Product not found" in page.content.decode()
        problem = get(client, path, "application/vc+jwt")
        assert problem.status_code == 404
        assert problem.json()["code"] == "unknown_product"


def test_unknown_version_is_404(client, issued):
    assert get(client, f"{LINK}?version=7", "application/vc+jwt").status_code == 404
    assert get(client, f"{LINK}?version=x", "text/html").status_code == 404


def test_another_organisations_product_resolves_under_its_own_gtin(client, issued):
    other = organisation("globex", "Globex GmbH")
    passport = issue(make_product(other, gtin=GTINS[1], serial="G-1", category="generic",
                                  name="Widget"))
    response = get(client, f"/01/{GTINS[1]}/21/G-1", "application/vc+jwt")
    assert response.content.decode() == passport.jwt


def test_the_resolver_is_rate_limited_per_client(client, issued, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "public": "3/minute"}}
    address = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::1"  # a fresh /64
    codes = [get(client, LINK, "application/vc+jwt", REMOTE_ADDR=address).status_code
             for _ in range(4)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429
    assert json.loads(get(client, LINK, REMOTE_ADDR=address).content)["code"] == "rate_limited"
