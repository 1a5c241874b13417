"""Evidence credentials on a back-up provider (issue #26 for issue #25's credentials): what a
primary pushes (every signed evidence credential, again after a revocation or a key
compromise's re-signing), and what the backup serves at `/evidence/<id>`, byte for byte."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from passports.services import keys as key_service
from passports.services.evidence import evidence_revoke
from replication import documents, hooks
from replication.models import Acknowledgement, BackupProvider, Replica
from replication.receiving import source_add
from tests.support.evidence import conformity_credential, world
from tests.support.public import make_product
from wallet.tenancy.authority import operator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider():
    hooks.forget()  # inactive: what is pending is computed, nothing is sent
    yield BackupProvider.objects.create(name="Backup Co", url="https://backup.example",
                                        source_id=uuid.uuid4(), wrapped_secret=b"",
                                        active=False)
    hooks.forget()


def _pending_evidence(provider) -> dict:
    return {document.path: document for document in documents.pending(provider, limit=100)
            if document.kind == "evidence"}


def _acknowledge(provider, pending: dict) -> None:
    for document in pending.values():  # as a push's answer does (replication.pushing)
        Acknowledgement.objects.update_or_create(
            provider=provider, evidence_id=document.evidence_id,
            defaults={"revision": document.revision_at})


def test_a_signed_evidence_credential_is_pending_until_held_and_again_when_revoked_or_resigned(
        provider, django_capture_on_commit_callbacks):
    parties = world()
    dcc = conformity_credential(parties.lab, make_product(parties.batteries))
    path = f"/evidence/{dcc.pk}"

    first = _pending_evidence(provider)
    assert list(first) == [path] and first[path].body == dcc.jwt
    assert first[path].meta["state"] == "issued"
    _acknowledge(provider, first)
    assert _pending_evidence(provider) == {}  # held at this revision: not sent again

    evidence_revoke(credential=dcc, actor=operator(), reason="withdrawn")
    revoked = _pending_evidence(provider)
    assert list(revoked) == [path] and revoked[path].meta["state"] == "revoked"
    _acknowledge(provider, revoked)

    # A key compromise re-signs it: other bytes at the same path, pushed again.
    with django_capture_on_commit_callbacks(execute=True):
        key_service.keys_compromise(organisation=parties.lab, since=timezone.now(),
                                    reason="key leaked", actor=operator())
    dcc.refresh_from_db()
    resigned = _pending_evidence(provider)
    assert list(resigned) == [path] and resigned[path].body == dcc.jwt != first[path].body


def _push(client, secret: str, source_id, document: dict):
    body = json.dumps({"origin": ORIGIN, "documents": [document]}).encode()
    at = datetime.now(UTC)
    message_id = f"msg_{uuid.uuid4().hex}"
    return client.post("/replication/v1/push", body, content_type="application/json",
                       headers={"webhook-id": message_id,
                                "webhook-timestamp": str(int(at.timestamp())),
                                "webhook-signature": Webhook(secret).sign(message_id, at, body),
                                "Replication-Source": str(source_id)})


ORIGIN = "https://dpp.acme-batteries.eu"


def test_the_backup_serves_a_pushed_evidence_credential_at_its_path_byte_for_byte(
        client, settings):
    settings.PUBLIC_BASE_URL = ORIGIN  # the primary signs it under its own address
    parties = world()
    dcc = conformity_credential(parties.lab, make_product(parties.batteries))
    document = documents.evidence_document(dcc).wire()
    dcc.delete()  # served here from now on only as the primary's copy
    settings.PUBLIC_BASE_URL = "https://backup.example"
    source, credential = source_add(name="Acme", origin=ORIGIN)
    hooks.forget()

    answer = _push(client, credential.split(":", 1)[1], source.pk, document)
    elsewhere = _push(client, credential.split(":", 1)[1], source.pk,
                      {**document, "path": f"/evidence/{uuid.uuid4()}"})

    assert answer.json() == {"stored": [document["path"]], "changed": 1, "refused": []}
    assert elsewhere.json()["refused"][0]["code"] == "address_mismatch"
    served = client.get(document["path"], headers={"Accept": "application/vc+jwt"})
    assert served.status_code == 200 and served.content.decode() == dcc.jwt
    assert served["Backup-Of"] == ORIGIN
    assert served["Link"] == f'<{ORIGIN}{document["path"]}>; rel="canonical"'
    as_json = json.loads(client.get(document["path"], headers={"Accept": "application/vc"})
                         .content)
    assert as_json["id"] == f"data:application/vc+jwt,{dcc.jwt}"
    assert Replica.objects.get(path=document["path"]).kind == Replica.Kind.EVIDENCE
