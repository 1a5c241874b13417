"""Deferred issuance: a business identity whose review is still open is answered with a
transaction id; when the anchor approves, a Celery task signs the copy bound to the key the
wallet proved, and the wallet collects it at the deferred credential endpoint."""

import time

import pytest

from openid4vci.models import CredentialOffer
from openid4vci.services.offers import offer_create
from openid4vci.tasks import sign_deferred_credential
from tests.support import openid4vci_schemas as schemas
from tests.support.openid4vci import (
    collect,
    deferred_session,
    oauth_error,
    verify_independently,
)
from wallet.business.identity.services import attestation_approve, attestation_reject
from wallet.business.verification import verify
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import AttestationRequest


def test_an_open_review_defers_then_approval_issues_the_copy(
        client, register, open_review, django_capture_on_commit_callbacks):
    wallet, session, transaction_id, offer_id = deferred_session(register, open_review)
    offer = CredentialOffer.objects.get(pk=offer_id)
    assert offer.state == "deferred" and offer.holder_jwk == wallet.key.jwk()

    pending = collect(wallet, session, transaction_id)
    assert pending.status_code == 202
    assert pending.json() == {"transaction_id": transaction_id, "interval": 5}
    assert schemas.errors("deferred_response", pending.json()) == []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        attestation_approve(request=open_review, reason="extract matches")
    assert callbacks  # the signing task was queued after commit

    ready = collect(wallet, session, transaction_id)
    assert ready.status_code == 200, ready.content
    assert schemas.errors("credential_response", ready.json()) == []
    sd_jwt = ready.json()["credentials"][0]["credential"]
    claims = verify_independently(client, sd_jwt, wallet)
    assert claims["sub"] == open_review.organisation.did
    assert claims["legal_name"] == "Recycle Partners B.V."
    assert verify(sd_jwt)["verified"]
    offer.refresh_from_db()
    assert offer.state == "issued" and offer.credential == "" and offer.issued_at

    again = collect(wallet, session, transaction_id)
    assert oauth_error(again, 400, "invalid_transaction_id") == ("transaction_id already used "
                                                                 "to obtain its credential")


def test_an_unknown_transaction_id_is_refused(register, open_review):
    wallet, session, _, offer_id = deferred_session(register, open_review)

    response = collect(wallet, session, "guessed")

    assert oauth_error(response, 400, "invalid_transaction_id") == "transaction_id unknown"
    assert CredentialOffer.objects.get(pk=offer_id).state == "deferred"


def test_a_rejected_review_denies_the_deferred_credential(register, open_review):
    wallet, session, transaction_id, offer_id = deferred_session(register, open_review)

    attestation_reject(request=open_review, reviewer=None, reason="extract does not match")

    response = collect(wallet, session, transaction_id)
    assert oauth_error(response, 400, "credential_request_denied") == (
        "the attestation request was rejected: extract does not match")
    assert CredentialOffer.objects.get(pk=offer_id).state == "denied"


def test_the_signing_task_is_idempotent(register, open_review,
                                        django_capture_on_commit_callbacks):
    wallet, session, transaction_id, offer_id = deferred_session(register, open_review)
    assert sign_deferred_credential.delay(str(offer_id)).get() is False  # still under review
    with django_capture_on_commit_callbacks(execute=True):
        attestation_approve(request=open_review)
    signed = CredentialOffer.objects.get(pk=offer_id).credential

    assert sign_deferred_credential.delay(str(offer_id)).get() is False

    assert CredentialOffer.objects.get(pk=offer_id).credential == signed
    assert collect(wallet, session, transaction_id).status_code == 200


def test_a_lost_signing_task_is_queued_again_by_the_next_poll(
        register, open_review, django_capture_on_commit_callbacks):
    wallet, session, transaction_id, offer_id = deferred_session(register, open_review)
    attestation_approve(request=open_review)  # its after-commit task never runs here

    with django_capture_on_commit_callbacks(execute=True):
        assert collect(wallet, session, transaction_id).status_code == 202

    assert collect(wallet, session, transaction_id).status_code == 200


def test_the_access_token_outlives_its_expiry_for_the_deferred_transaction_only(
        register, open_review, settings, django_capture_on_commit_callbacks):
    settings.OPENID4VCI_ACCESS_TOKEN_SECONDS = 1
    wallet, session, transaction_id, _ = deferred_session(register, open_review)
    time.sleep(1.1)  # the access token's own lifetime is over

    with django_capture_on_commit_callbacks(execute=True):
        attestation_approve(request=open_review)

    assert collect(wallet, session, transaction_id).status_code == 200


def test_an_offer_made_after_approval_is_issued_at_once(register, open_review, wallet):
    attestation_approve(request=open_review)
    created = offer_create(actor=operator(), issuer=register, configuration="business_identity",
                           attestation=AttestationRequest.objects.get(pk=open_review.pk))

    sd_jwt = wallet.redeem_offer(created.by_reference, created.tx_code)

    assert verify(sd_jwt)["verified"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_signs_the_deferred_credential_after_approval(client, register,
                                                                    open_review):
    wallet, session, transaction_id, offer_id = deferred_session(register, open_review)
    assert collect(wallet, session, transaction_id).status_code == 202

    attestation_approve(request=open_review, reason="extract matches")  # commits: task queued

    deadline = time.monotonic() + 30
    while (response := collect(wallet, session, transaction_id)).status_code == 202:
        assert time.monotonic() < deadline, "the worker did not sign within 30 s"
        time.sleep(0.2)
    assert response.status_code == 200, response.content
    sd_jwt = response.json()["credentials"][0]["credential"]
    verify_independently(client, sd_jwt, wallet)
    assert CredentialOffer.objects.get(pk=offer_id).state == "issued"


def test_the_sweep_queues_decided_but_unsigned_copies_and_leaves_open_reviews(
        register, open_review):
    from datetime import timedelta

    from openid4vci.services.issuance import deferred_credentials_requeue

    wallet, session, transaction_id, offer_id = deferred_session(register, open_review)
    assert deferred_credentials_requeue(older_than=timedelta(0)) == 0  # still under review

    attestation_approve(request=open_review)  # its task is lost: on_commit never runs here
    assert deferred_credentials_requeue() == 0  # decided just now: its own task may be on the way
    assert CredentialOffer.objects.get(pk=offer_id).credential == ""

    assert deferred_credentials_requeue(older_than=timedelta(0)) == 1
    assert CredentialOffer.objects.get(pk=offer_id).credential  # signed (tasks run in-process)
    assert collect(wallet, session, transaction_id).status_code == 200
