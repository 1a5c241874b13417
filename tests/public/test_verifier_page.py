"""The verifier page for people (`/verify/`, passports/views_verifier.py): the API's verdict in
words, for a pasted or uploaded credential, in the reader's language, with nothing stored."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from passports.services.status import passport_revoke
from tests.support.public import tampered, without_verify_limit
from wallet.tenancy.authority import operator

URL = "/verify/"


def verdict_of(response) -> str:
    text = response.content.decode()
    return text.split('id="verdict"', 1)[1].split("</h2>", 1)[0].split("<span>")[1].split(
        "</span>")[0]


@pytest.fixture(autouse=True)
def _no_verify_limit(settings):
    without_verify_limit(settings)


def test_the_form_needs_no_script_and_sets_no_cookie(client):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<form method="post"' in body and 'enctype="multipart/form-data"' in body
    assert "<script" not in body
    assert "script-src" not in response["Content-Security-Policy"]  # none allowed
    assert not response.cookies


def test_a_valid_passport_is_verified_as_the_api_says(client, issued):
    api = client.post("/api/v1/verify/", {"credential": issued.jwt},
                      content_type="application/json")
    assert api.json()["verified"] is True

    response = client.post(URL, {"credential": issued.jwt})

    assert response.status_code == 200
    assert verdict_of(response) == "Verified"
    body = response.content.decode()
    assert "The manufacturer&#x27;s digital signature is valid." in body
    assert "Acme Batteries B.V." in body
    assert response["Cache-Control"] == "no-store"


def test_a_revoked_passport_says_so_with_the_reason(client, issued):
    passport_revoke(actor=operator(), passport=issued, reason="Cell defect found in this batch")

    response = client.post(URL, {"credential": issued.jwt})

    assert verdict_of(response) == "Revoked"
    assert "Cell defect found in this batch" in response.content.decode()


def test_a_tampered_credential_fails_its_signature(client, issued):
    forged = tampered(issued.jwt)
    api = client.post("/api/v1/verify/", {"credential": forged}, content_type="application/json")
    assert api.json()["verified"] is False

    response = client.post(URL, {"credential": forged})

    assert verdict_of(response) == "Cannot verify"
    assert "the passport may have been changed" in response.content.decode()


def test_an_uploaded_json_credential_is_read_from_the_file(client, issued):
    document = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"],
                           "id": f"data:application/vc+jwt,{issued.jwt}",
                           "type": "EnvelopedVerifiableCredential"})
    upload = SimpleUploadedFile("passport.json", document.encode(), "application/json")

    response = client.post(URL, {"file": upload, "credential": ""})

    assert verdict_of(response) == "Verified"


def test_a_jwt_wrapped_over_lines_is_still_read(client, issued):
    wrapped = "\n".join(issued.jwt[i:i + 76] for i in range(0, len(issued.jwt), 76))
    assert verdict_of(client.post(URL, {"credential": wrapped})) == "Verified"


@pytest.mark.parametrize(("sent", "message"), [
    ({"credential": "   "}, "Paste a credential or choose a file holding one."),
    ({"credential": '{"type": '}, "This looks like JSON, but it is not valid JSON."),
    ({"file": SimpleUploadedFile("x.bin", b"\xff\xfe\x00\x01", "application/octet-stream")},
     "The file is not text"),
])
def test_unreadable_input_gets_a_clear_message_and_400(client, db, sent, message):
    response = client.post(URL, sent)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_garbage_gets_the_verdict_the_api_gives(client, db):
    response = client.post(URL, {"credential": "not-a-credential"})
    assert response.status_code == 200
    assert verdict_of(response) == "Cannot verify"


def test_in_the_readers_language(client, issued):
    response = client.post(URL + "?lang=de", {"credential": issued.jwt})
    assert response["Content-Language"] == "de"
    assert verdict_of(response) == "Verifiziert"
    assert "Nachweis prüfen" in response.content.decode()
    for language, word in (("fr", "Vérifié"), ("nl", "Geverifieerd")):
        assert verdict_of(client.post(f"{URL}?lang={language}",
                                      {"credential": issued.jwt})) == word


def test_nothing_is_stored(client, issued):
    with CaptureQueriesContext(connection) as queries:
        client.post(URL, {"credential": issued.jwt})
        client.post(URL, {"credential": tampered(issued.jwt)})
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
