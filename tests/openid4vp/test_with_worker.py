"""Real mode: a revocation goes through the real Celery worker to the published Token Status
List, and the Verifier refuses the credential naming `revoked`. (The Verifier reads this
service's own lists from the database with their pending changes, so it refuses at once; the
published list, what foreign verifiers read, follows within seconds.)"""

import time

import pytest
from django.db import transaction

from credentials import jose
from credentials.status_list import TokenStatus, TokenStatusList
from credentials.status_registry import token_status_set
from tests.support.openid4vp import create_request, result_of


def published_status(client, entry) -> int:
    answer = client.get(f"/status/{entry.list_id}")
    assert answer.status_code == 200
    claims = jose.decode(answer.content.decode()).claims()
    return TokenStatusList.from_claim(claims["status_list"]).get(entry.index)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_revocation_published_by_the_worker_makes_the_presentation_fail(world, client):
    entry = world.issued.entry
    with transaction.atomic():
        token_status_set(entry, TokenStatus.INVALID)
    refused_at_once = _present(world)

    deadline = time.monotonic() + 10
    while published_status(client, entry) != TokenStatus.INVALID:
        assert time.monotonic() < deadline, "the worker did not publish within 10 s"
        time.sleep(0.2)
    refused_after = _present(world)

    for created, answer in (refused_at_once, refused_after):
        assert answer.status_code == 400 and answer.json()["error"] == "access_denied"
        assert result_of(world, created)["error_code"] == "revoked"


def _present(world):
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])
    return created, world.wallet.answer_query(request, "identity")
