"""The open consumer paths (the Digital Link resolver and its QR codes) skip the session, CSRF,
auth and messages middleware (config/public_paths.py): a logged-in person gets the same page
and keeps their session, every answer keeps its headers, and the views there use none of what
was skipped."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from config.public_paths import OPEN_PATHS
from passports import views
from passports.services.status import passport_revoke
from tests.support.factories import staff_member
from wallet.tenancy.authority import operator

LINK = "/01/09506000134352/21/SN-0001"


VERIFY = ("/api/v1/verify/", "/credentials/verify", "/presentations/verify")  # API, VC-API


def test_the_open_paths_are_the_resolver_its_qr_codes_and_the_open_verify_operations():
    assert OPEN_PATHS.match(LINK) and OPEN_PATHS.match(f"/qr{LINK}")
    assert all(OPEN_PATHS.match(path) for path in VERIFY)
    for path in ("/admin/", "/partner/", "/verify/", "/api/v1/verify/x", "/passports/x",
                 "/health/", "/status/x", "/x/01/", "/api/v1/passports/", "/api/v1/",
                 "/credentials/issue", "/credentials/status", "/api/v1/verifyx/"):
        assert not OPEN_PATHS.match(path), path


@pytest.mark.parametrize("path, body, content_type", [
    (VERIFY[0], {"credential": "passport"}, "application/json"),
    (VERIFY[0] + "?indent=2", {"credential": "passport"}, "application/json"),
    (VERIFY[0], "passport", "application/vc+jwt"),
    (VERIFY[0], {"credential": "garbage"}, "application/json"),
    (VERIFY[0], "{not json", "application/json"),
    (VERIFY[1], {"verifiableCredential": "passport"}, "application/json"),
    (VERIFY[2], {"verifiablePresentation": {"type": "VerifiablePresentation"}},
     "application/json"),
])
def test_the_open_verify_operations_answer_a_logged_in_person_as_anyone(
        client, issued, acme, path, body, content_type):
    """Same answer with and without a session; no cookie set; the session still works."""
    def post(who):
        data = body.replace("passport", issued.jwt) if isinstance(body, str) else {
            key: issued.jwt if value == "passport" else value for key, value in body.items()}
        return who.post(path, data if isinstance(data, str) else json.dumps(data),
                        content_type=content_type)

    person = Client()
    person.force_login(staff_member(acme, "ann"))
    session = person.cookies["sessionid"].value

    theirs, anyones = post(person), post(client)

    assert theirs.status_code == anyones.status_code
    assert theirs.status_code in (200, 400)
    assert _without_times(theirs) == _without_times(anyones)
    assert not theirs.cookies and not hasattr(theirs.wsgi_request, "session")
    assert person.get("/admin/").status_code == 200
    assert person.cookies["sessionid"].value == session


def _without_times(response) -> dict:
    """The answer's JSON without what differs between two requests (ids, times)."""
    document = response.json()
    for key in ("instance", "checked_at"):
        document.pop(key, None)
    return document


def test_a_logged_in_person_gets_the_same_page_and_keeps_their_session(client, issued, acme):
    anonymous = client.get(LINK, HTTP_ACCEPT="text/html")
    views._rendered.clear()  # the logged-in request renders it again
    person = Client()
    person.force_login(staff_member(acme, "ann"))
    session = person.cookies["sessionid"].value

    page = person.get(LINK, HTTP_ACCEPT="text/html")

    assert page.status_code == 200 and page.content == anonymous.content
    assert page["ETag"] == anonymous["ETag"]
    assert not page.cookies  # no cookie set or cleared
    assert not hasattr(page.wsgi_request, "session") and not hasattr(page.wsgi_request, "user")
    admin = person.get("/admin/")
    assert admin.status_code == 200 and person.cookies["sessionid"].value == session


def test_the_page_keeps_every_header(client, issued):
    response = client.get(LINK, HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="nl")

    assert response.status_code == 200
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert {"Accept", "Accept-Language"} <= {v.strip() for v in response["Vary"].split(",")}
    assert response["Content-Language"] == "nl"
    assert response["Cache-Control"] == "no-cache" and response["ETag"].startswith('"')
    assert "linkset" in response["Link"]
    assert response["X-Request-ID"]


@pytest.mark.parametrize("path, accept", [
    (LINK, "text/html"), (LINK, "application/vc+jwt"), (LINK, "application/vc"),
    (f"{LINK}?linkType=linkset", "application/json"), (f"{LINK}?linkType=untp:dpp", "*/*"),
    ("/01/09506000134352/21/NOPE", "text/html"), ("/01/123/21/SN-0001", "application/json"),
    (f"/qr{LINK}?format=svg", "*/*"), (f"/qr{LINK}?format=png", "*/*"),
])
def test_every_answer_of_the_open_paths_needs_no_session_or_user(client, issued, path, accept):
    response = client.get(path, HTTP_ACCEPT=accept)

    assert response.status_code in (200, 307, 400, 404)
    assert not hasattr(response.wsgi_request, "user")
    assert not response.cookies


def test_an_unsafe_method_is_still_refused_by_the_csrf_check(issued):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(LINK, {}).status_code == 403


def test_a_revocation_shows_on_the_next_scan_with_one_query(client, issued,
                                                            django_assert_num_queries):
    client.get(LINK, HTTP_ACCEPT="text/html")
    with django_assert_num_queries(1):
        assert b"Verified" in client.get(LINK, HTTP_ACCEPT="text/html").content

    passport_revoke(actor=operator(), passport=issued, reason="recall")

    assert b"Revoked" in client.get(LINK, HTTP_ACCEPT="text/html").content
