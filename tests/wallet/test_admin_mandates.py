"""A person issuing or revoking passports in the admin needs an active mandate with that scope;
the event log names the mandate; a revoked or suspended mandate stops working at once."""

import pytest
from django.urls import reverse

from passports.models import Passport, PassportEvent
from passports.services.issuance import passport_request, passports_sign
from passports.services.products import product_create
from tests.support.factories import GTINS, battery_attributes, organisation, staff_member
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import mandate_grant, mandate_revoke, mandate_suspend

ISSUE, REVOKE = Mandate.Scope.PASSPORTS_ISSUE, Mandate.Scope.PASSPORTS_REVOKE


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def acme(db):
    org = organisation("acme", "Acme Batteries B.V.")
    product = product_create(organisation=org, gtin=GTINS[0], serial="M-1", name="Pack",
                             category="battery", attributes=battery_attributes())
    return {"org": org, "product": product,
            "staff": staff_member(org, "alice", mandates=())}


def issue_in_admin(client, product, captured):
    with captured(execute=True):
        return client.post(reverse("admin:passports_product_changelist"),
                           {"action": "issue_passport", "_selected_action": [product.pk]},
                           follow=True)


def revoke_in_admin(client, passport):
    return client.post(reverse("admin:passports_passport_changelist"),
                       {"action": "revoke", "_selected_action": [passport.pk],
                        "reason": "recalled", "confirm": "revoke"}, follow=True)


def test_without_a_mandate_staff_cannot_issue(client, acme, django_capture_on_commit_callbacks):
    client.force_login(acme["staff"])

    response = issue_in_admin(client, acme["product"], django_capture_on_commit_callbacks)

    assert "You need an active mandate with the scope passports:issue" in \
        response.content.decode()
    assert not Passport.objects.exists()


def test_with_a_mandate_staff_can_issue_and_the_event_names_it(
        client, acme, django_capture_on_commit_callbacks):
    mandate = mandate_grant(organisation=acme["org"], scope=ISSUE, user=acme["staff"])
    client.force_login(acme["staff"])

    issue_in_admin(client, acme["product"], django_capture_on_commit_callbacks)

    passport = Passport.objects.get()
    assert passport.state == Passport.State.ISSUED
    event = passport.events.get(action="requested")
    assert event.actor == acme["staff"]
    assert event.details["mandate"] == mandate.pk
    assert event.details["mandate_credential"] == mandate.credential.credential_id


@pytest.mark.parametrize("stop", [mandate_revoke, mandate_suspend])
def test_a_stopped_mandate_stops_working_at_once(client, acme, stop,
                                                 django_capture_on_commit_callbacks):
    mandate = mandate_grant(organisation=acme["org"], scope=ISSUE, user=acme["staff"])
    client.force_login(acme["staff"])
    stop(mandate=mandate, reason="left the company")

    issue_in_admin(client, acme["product"], django_capture_on_commit_callbacks)

    assert not Passport.objects.exists()


def test_revoking_needs_the_revoke_scope_not_the_issue_scope(client, acme):
    mandate_grant(organisation=acme["org"], scope=ISSUE, user=acme["staff"])
    passport = passport_request(actor=operator(), product=acme["product"])
    passports_sign([passport.pk])
    client.force_login(acme["staff"])

    response = revoke_in_admin(client, passport)

    assert "scope passports:revoke" in response.content.decode()
    assert Passport.objects.get(pk=passport.pk).state == Passport.State.ISSUED

    revoker = mandate_grant(organisation=acme["org"], scope=REVOKE, user=acme["staff"])
    revoke_in_admin(client, passport)

    assert Passport.objects.get(pk=passport.pk).state == Passport.State.REVOKED
    event = PassportEvent.objects.get(passport=passport, action="revoked")
    assert event.details["mandate"] == revoker.pk
    assert event.reason == "recalled"


def revoke_mandate_in_admin(client, mandate, **confirmation):
    return client.post(reverse("admin:wallet_mandate_changelist"),
                       {"action": "revoke", "_selected_action": [mandate.pk], **confirmation},
                       follow=True)


def test_revoking_a_mandate_asks_first_and_needs_a_reason(client, acme):
    mandate = mandate_grant(organisation=acme["org"], scope=ISSUE, user=acme["staff"])
    client.force_login(acme["staff"])

    asked = revoke_mandate_in_admin(client, mandate)
    without_reason = revoke_mandate_in_admin(client, mandate, confirm="revoke", reason="  ")

    mandate.refresh_from_db()
    assert mandate.state == Mandate.State.ACTIVE
    assert asked.templates[0].name == "admin/wallet/mandate/confirm_revoke.html"
    page = asked.content.decode()
    assert 'id="mandate-warning"' in page and "Issue passports" in page
    assert f'name="_selected_action" value="{mandate.pk}"' in page
    assert 'name="confirm" value="revoke"' in page
    assert "This field is required." in without_reason.content.decode()

    revoke_mandate_in_admin(client, mandate, confirm="revoke", reason="left the company")

    mandate.refresh_from_db()
    assert (mandate.state, mandate.state_reason) == (Mandate.State.REVOKED, "left the company")
    assert mandate.credential.state == "revoked"
