"""The wallet's and the verifier's events reach core.events (and so the webhooks) after commit,
addressed to the organisations concerned only: a message or e-invoice received (the
recipient), an attestation decided (the organisation and the anchor), a mandate revoked (the
giver and an organisation grantee), an OpenID4VP presentation finished (the requester)."""

from __future__ import annotations

import pytest

from core import events
from tests.support.factories import acme_with_legal_details, organisation, trust_anchor
from tests.support.wallet import attest
from wallet.business.messaging.services import message_send
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import mandate_grant, mandate_revoke


@pytest.fixture
def heard(django_capture_on_commit_callbacks):
    got: list[events.Event] = []
    events.register(got.extend)
    yield got
    events.unregister(got.extend)


def test_a_message_is_told_to_its_recipient_only(db, heard, django_capture_on_commit_callbacks):
    acme, recycle = organisation("acme"), organisation("recycle")
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(actor=operator(), sender=acme, recipient=recycle,
                               subject="End-of-life packs", body="Ready.")
    assert [(e.kind, e.organisations, e.payload["message"]) for e in heard] == [
        (events.MESSAGE_RECEIVED, frozenset({recycle.pk}), str(message.pk))]


def test_an_attestation_decision_and_a_mandate_revocation(db, heard,
                                                          django_capture_on_commit_callbacks):
    acme, register = acme_with_legal_details(), trust_anchor()
    with django_capture_on_commit_callbacks(execute=True):
        attest(acme, register)
    partner = organisation("partner")
    mandate = mandate_grant(organisation=acme, scope=Mandate.Scope.MESSAGES_SEND,
                            grantee=partner)
    with django_capture_on_commit_callbacks(execute=True):
        mandate_revoke(mandate=mandate, reason="Contract ended")

    assert [(e.kind, e.organisations) for e in heard] == [
        (events.ATTESTATION_DECIDED, frozenset({acme.pk, register.pk})),
        (events.MANDATE_REVOKED, frozenset({acme.pk, partner.pk}))]
    assert heard[0].payload["state"] == "approved"


def test_nothing_is_told_before_commit_and_an_unknown_kind_is_refused(db, heard):
    with pytest.raises(ValueError, match="unknown event kinds"):
        events.publish("passport.exploded", organisations=[1], payload={})
    assert heard == []
