"""Mandates: powers of representation, one scope each, that stop working the moment they are
suspended or revoked."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from credentials.did_web import DidResolver
from credentials.suites import get_suite
from tests.support.factories import organisation
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import (
    active_mandate,
    active_mandate_for_organisation,
    mandate_grant,
    mandate_reinstate,
    mandate_revoke,
    mandate_suspend,
)

ISSUE = Mandate.Scope.PASSPORTS_ISSUE


@pytest.fixture
def acme(db):
    return organisation("acme", "Acme Batteries B.V.")


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", first_name="Alice", last_name="Jansen")


def test_a_mandate_lets_its_holder_act_within_its_scope_only(acme, alice):
    mandate = mandate_grant(organisation=acme, scope=ISSUE, user=alice)

    assert active_mandate(user=alice, organisation=acme, scope=ISSUE) == mandate
    assert active_mandate(user=alice, organisation=acme,
                          scope=Mandate.Scope.PASSPORTS_REVOKE) is None


def test_a_mandate_is_an_sd_jwt_vc_signed_by_the_organisation(acme, alice):
    mandate = mandate_grant(organisation=acme, scope=ISSUE, user=alice)

    result = get_suite("dc+sd-jwt").verify(mandate.credential.credential,
                                           DidResolver(allow_remote=False),
                                           now=datetime.now(UTC))

    assert result.ok, result.errors
    assert result.credential["iss"] == acme.did
    assert result.credential["scope"] == "passports:issue"
    assert result.credential["representative"]["name"] == "Alice Jansen"
    assert "idx" in result.credential["status"]["status_list"]


@pytest.mark.parametrize("stop", [mandate_revoke, mandate_suspend])
def test_suspending_or_revoking_stops_it_at_once(acme, alice, stop):
    mandate = mandate_grant(organisation=acme, scope=ISSUE, user=alice)

    stop(mandate=mandate, reason="left the company")

    assert active_mandate(user=alice, organisation=acme, scope=ISSUE) is None


def test_a_suspended_mandate_can_be_reinstated_a_revoked_one_cannot(acme, alice):
    suspended = mandate_grant(organisation=acme, scope=ISSUE, user=alice)
    mandate_suspend(mandate=suspended)
    mandate_reinstate(mandate=suspended)
    assert active_mandate(user=alice, organisation=acme, scope=ISSUE) == suspended

    mandate_revoke(mandate=suspended)
    with pytest.raises(WalletError, match="stays revoked"):
        mandate_reinstate(mandate=suspended)


def test_a_mandate_outside_its_validity_period_does_not_count(acme, alice):
    now = timezone.now()
    mandate_grant(organisation=acme, scope=ISSUE, user=alice,
                  valid_from=now - timedelta(days=10), valid_until=now - timedelta(days=1))
    mandate_grant(organisation=acme, scope=ISSUE, user=alice, valid_from=now + timedelta(days=1))

    assert active_mandate(user=alice, organisation=acme, scope=ISSUE) is None


def test_a_mandate_must_end_after_it_starts(acme, alice):
    now = timezone.now()
    with pytest.raises(ValidationError):
        mandate_grant(organisation=acme, scope=ISSUE, user=alice, valid_from=now,
                      valid_until=now - timedelta(hours=1))
    assert not Mandate.objects.exists()


def test_a_mandate_to_an_organisation_is_bound_to_its_did(acme):
    partner = organisation("recycle", "Recycle Partners B.V.")

    mandate = mandate_grant(organisation=acme, scope=Mandate.Scope.MESSAGES_SEND,
                            grantee=partner)

    result = get_suite("dc+sd-jwt").verify(mandate.credential.credential,
                                           DidResolver(allow_remote=False),
                                           now=datetime.now(UTC))
    assert result.credential["sub"] == partner.did
    assert "cnf" in result.credential
    assert active_mandate_for_organisation(grantee=partner, organisation=acme,
                                           scope=Mandate.Scope.MESSAGES_SEND) == mandate
