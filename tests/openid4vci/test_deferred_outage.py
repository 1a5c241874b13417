"""An anchor approves a review while the broker is down (through a real gunicorn whose broker
connection the test cuts): the approval is answered, not a 500 after its commit, and the sweep
queues the deferred copy's signing once the broker is back."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from openid4vci.models import CredentialOffer
from openid4vci.services.issuance import deferred_credentials_requeue
from tests.support.factories import api_key
from tests.support.openid4vci import collect, deferred_session


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_approval_while_the_broker_is_down_is_answered_and_the_sweep_signs_the_copy(
        register, open_review, web_server):
    wallet, session, transaction_id, offer_id = deferred_session(register, open_review)
    _token, key = api_key(register, name="review")
    server = web_server()
    server.broker.cut()

    answer = server.request("POST", reverse("wallet-api-attestation-approve",
                                            args=[open_review.pk]),
                            body={"reason": "extract matches"},
                            headers={"Authorization": f"Token {key}"})

    assert answer.status == 200, answer.body
    assert answer.json()["state"] == "approved"
    assert ("broker unavailable: could not enqueue openid4vci.sign_deferred_credential"
            in server.log())
    offer = CredentialOffer.objects.get(pk=offer_id)
    assert offer.state == "deferred" and offer.credential == ""

    server.broker.restore()
    assert deferred_credentials_requeue(older_than=timedelta(0)) == 1

    deadline = time.monotonic() + 30
    while not CredentialOffer.objects.get(pk=offer_id).credential:
        assert time.monotonic() < deadline, "the worker did not sign within 30 s"
        time.sleep(0.1)
    assert deferred_credentials_requeue(older_than=timedelta(0)) == 0  # signed: not again
    ready = collect(wallet, session, transaction_id)
    assert ready.status_code == 200, ready.content
