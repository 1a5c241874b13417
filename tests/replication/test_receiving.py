"""A back-up provider receiving pushes (docs/backup.md): only authenticated pushes of the
primary's own documents are stored, by path and revision, and served at the same path; an
unauthenticated push is refused as a whole (problem+json), a document that is not the
primary's own is refused naming why, and neither is stored."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from credentials import jose
from credentials.keys import LocalSigner
from replication import hooks
from replication.models import Replica
from replication.receiving import source_add

pytestmark = pytest.mark.django_db

ORIGIN = "https://dpp.acme-batteries.eu"
SIGNER = LocalSigner.generate("did:web:dpp.acme-batteries.eu:orgs:acme#key-1")


@pytest.fixture
def source():
    found, credential = source_add(name="Acme", origin=ORIGIN)
    hooks.forget()
    yield found, credential.split(":", 1)[1]
    hooks.forget()


def _passport(path: str | None = None, *, names: str | None = None,
              revision: str = "2026-12-07T10:00:00.000000+00:00") -> dict:
    path = path or f"/passports/{uuid.uuid4()}"
    jwt = jose.sign({"id": names or ORIGIN + path, "type": ["VerifiableCredential"]}, SIGNER,
                    {"typ": "vc+jwt"})
    return {"kind": "passport", "path": path, "media_type": "application/vc+jwt", "body": jwt,
            "revision": revision, "meta": {"state": "issued"}}


def _push(client, source, documents, *, origin=ORIGIN, secret=None, source_id=None):
    found, own_secret = source
    body = json.dumps({"origin": origin, "documents": documents}).encode()
    at = datetime.now(UTC)
    message_id = f"msg_{uuid.uuid4().hex}"
    signature = Webhook(secret or own_secret).sign(message_id, at, body)
    return client.post("/replication/v1/push", body, content_type="application/json",
                       headers={"webhook-id": message_id,
                                "webhook-timestamp": str(int(at.timestamp())),
                                "webhook-signature": signature,
                                "Replication-Source": str(source_id or found.pk)})


def test_a_pushed_passport_is_served_at_its_path_and_a_push_sent_again_changes_nothing(
        client, source):
    document = _passport()

    answer = _push(client, source, [document])
    again = _push(client, source, [document])

    assert answer.status_code == 200 and answer.json() == {"stored": [document["path"]],
                                                           "changed": 1, "refused": []}
    assert again.json() == {"stored": [document["path"]], "changed": 0, "refused": []}
    assert Replica.objects.get(path=document["path"]).writes == 1
    served = client.get(document["path"], headers={"Accept": "application/vc+jwt"})
    assert served.status_code == 200 and served.content.decode() == document["body"]
    assert served["Backup-Of"] == ORIGIN
    assert served["Link"] == f'<{ORIGIN}{document["path"]}>; rel="canonical"'
    assert served["Primary-Last-Seen"]  # just heard from: not said to be unreachable
    assert "Primary-Unreachable-Since" not in served
    as_json = json.loads(client.get(document["path"], headers={"Accept": "application/vc"}).content)
    assert as_json["id"] == f"data:application/vc+jwt,{document['body']}"


def test_an_older_revision_never_replaces_a_newer_one(client, source):
    newer = _passport(revision="2026-12-07T11:00:00.000000+00:00")
    older = {**_passport(newer["path"], revision="2026-12-07T10:00:00.000000+00:00"),
             "meta": {"state": "revoked"}}

    _push(client, source, [newer])
    answer = _push(client, source, [older])

    assert answer.json() == {"stored": [newer["path"]], "changed": 0, "refused": []}
    assert Replica.objects.get(path=newer["path"]).meta == {"state": "issued"}


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"secret": "whsec_" + "QUFB" * 11}, 401, "signature_invalid"),
    ({"source_id": uuid.uuid4()}, 401, "source_unknown"),
    ({"origin": "https://someone-else.example"}, 400, "origin_mismatch"),
])
def test_an_unauthenticated_push_is_refused_as_a_whole_and_nothing_is_stored(
        client, source, change, status, code):
    documents = [_passport()]

    answer = _push(client, source, documents, **change)

    assert answer.status_code == status
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert not Replica.objects.exists()
    assert client.get(documents[0]["path"]).status_code == 404


@pytest.mark.parametrize(("bad", "code"), [
    (_passport(names="https://someone-else.example/passports/x"), "address_mismatch"),
    ({**_passport(), "path": "/passports/not-a-uuid/../../admin"}, "path_refused"),
    ({**_passport(), "media_type": "text/html"}, "document_invalid"),
    ({**_passport(), "revision": ""}, "document_invalid"),
])
def test_a_document_that_is_not_the_primarys_own_is_refused_naming_why_and_not_stored(
        client, source, bad, code):
    good = _passport()

    answer = _push(client, source, [good, bad])

    assert answer.status_code == 200
    assert answer.json()["stored"] == [good["path"]]
    assert [(item["path"], item["code"]) for item in answer.json()["refused"]] == [
        (bad["path"], code)]
    assert list(Replica.objects.values_list("path", flat=True)) == [good["path"]]
    assert client.get(bad["path"]).status_code == 404


def test_a_passport_signed_with_its_api_address_as_id_is_taken_too(client, source):
    document = _passport()
    passport_id = document["path"].rsplit("/", 1)[1]
    older = _passport(document["path"],
                      names=f"{ORIGIN}/api/v1/passports/{passport_id}/credential")

    assert _push(client, source, [older]).json()["stored"] == [document["path"]]


def test_what_the_service_serves_itself_wins_over_a_copy(client, source):
    own = client.get("/.well-known/did.json").json()
    did = {"id": "did:web:dpp.acme-batteries.eu", "verificationMethod": []}
    document = {"kind": "did_document", "path": "/.well-known/did.json",
                "media_type": "application/did+json", "body": json.dumps(did),
                "revision": "abc"}

    assert _push(client, source, [document]).status_code == 200
    assert client.get("/.well-known/did.json").json() == own


def test_the_page_of_a_copy_says_in_its_language_since_when_the_primary_is_unreachable(
        client, source, settings):
    document = _passport()
    _push(client, source, [document])

    heard = client.get(document["path"] + "?lang=nl", headers={"Accept": "text/html"})
    settings.REPLICATION_PRIMARY_SILENT_SECONDS = 0
    silent = client.get(document["path"] + "?lang=de", headers={"Accept": "text/html"})

    assert heard.status_code == 200 and heard["Content-Security-Policy"].startswith("default-src")
    page = heard.content.decode()
    assert "Reservekopie van een paspoort dat https://dpp.acme-batteries.eu publiceert" in page
    assert "liet het laatst van zich horen op" in page and "onbereikbaar" not in page
    assert "Primary-Unreachable-Since" in silent
    assert "ist seit" in silent.content.decode() and "nicht erreichbar" in silent.content.decode()
