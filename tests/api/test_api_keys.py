"""API keys: made in the admin or with `manage.py api_token`, shown once, stored as a SHA-256
hash; scoped to an organisation and to chosen scopes. Entitlements are given in the admin by
the manufacturer's staff, for their own organisation only."""

import hashlib
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from passports.models import Entitlement, PassportEvent
from tests.support.api import api_client
from tests.support.factories import staff_member
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.authority import actor_of, operator
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import mandate_grant, mandate_revoke
from wallet.tenancy.models import ApiToken


def test_only_the_hash_of_a_key_is_stored(acme):
    token, key = api_token_create(actor=operator(), organisation=acme.organisation, name="ERP",
                                  scopes=["passports:read"])

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in str(stored)
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert stored["prefix"] == key[:8]
    assert len(key) >= 43  # 32 random bytes


def test_unknown_scopes_are_refused(acme):
    with pytest.raises(ValidationError):
        api_token_create(actor=operator(), organisation=acme.organisation, name="x",
                         scopes=["passports:all"])


def test_the_command_prints_the_key_once_with_the_chosen_scopes(acme, passport):
    out, err = io.StringIO(), io.StringIO()

    call_command("api_token", "acme", "--scope", "passports:read", "--name", "Recycler feed",
                 stdout=out, stderr=err)

    key = out.getvalue().strip()
    token = ApiToken.objects.get(name="Recycler feed")
    assert token.scopes == ["passports:read"] and token.organisation == acme.organisation
    assert "shown only now" in err.getvalue()
    client = api_client(key)
    assert client.get("/api/v1/passports/").status_code == 200
    assert client.get("/api/v1/products/").status_code == 403
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_command_refuses_unknown_organisations_and_scopes(db):
    with pytest.raises(CommandError, match="No organisation"):
        call_command("api_token", "nobody", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("api_token", "nobody", "--scope", "everything", stdout=io.StringIO(),
                     stderr=io.StringIO())


@pytest.fixture
def acme_staff(acme):
    return staff_member(acme.organisation, "acme-staff")


@pytest.fixture
def other_staff(other):
    return staff_member(other.organisation, "other-staff")


def test_staff_make_a_key_in_the_admin_and_see_it_once(client, acme_staff, passport):
    client.force_login(acme_staff)

    response = client.post(reverse("admin:wallet_apitoken_add"),
                           {"name": "Label printer", "scopes": ["passports:read"]}, follow=True)

    token = ApiToken.objects.get(name="Label printer")
    assert token.organisation.slug == "acme" and token.created_by == acme_staff
    key = re.search(r"<code>([A-Za-z0-9_-]+)</code>", response.content.decode()).group(1)
    assert hashlib.sha256(key.encode()).hexdigest() == token.key_hash
    page = client.get(reverse("admin:wallet_apitoken_change", args=[token.pk]))
    assert key not in page.content.decode()
    assert api_client(key).get("/api/v1/passports/").status_code == 200


def test_a_key_cannot_do_more_than_the_staff_member_who_makes_it(client, acme, acme_staff):
    """A write scope that a mandate governs needs the maker's active mandate
    (docs/architecture.md, Business wallet)."""
    client.force_login(acme_staff)
    add = reverse("admin:wallet_apitoken_add")

    refused = client.post(add, {"name": "Issuer bot", "scopes": ["invoices:send"]})

    assert refused.status_code == 200  # the form again, with the reason
    assert "no active mandate for invoices:send" in refused.content.decode()
    assert not ApiToken.objects.filter(name="Issuer bot").exists()

    mandate = mandate_grant(organisation=acme.organisation, scope="invoices:send",
                            user=acme_staff)
    client.post(add, {"name": "Issuer bot", "scopes": ["invoices:send"]})
    assert ApiToken.objects.get(name="Issuer bot").scopes == ["invoices:send"]

    mandate_revoke(mandate=mandate)
    with pytest.raises(ValidationError, match="invoices:send"):
        api_token_create(actor=actor_of(acme_staff), organisation=acme.organisation,
                         name="Again", scopes=["passports:read", "invoices:send"])
    assert not ApiToken.objects.filter(name="Again").exists()


def test_staff_see_only_their_organisations_keys(client, acme, other_staff):
    client.force_login(other_staff)

    listing = client.get(reverse("admin:wallet_apitoken_changelist")).content.decode()

    acme_token = ApiToken.objects.get(organisation=acme.organisation)
    assert acme_token.prefix not in listing
    page = client.get(reverse("admin:wallet_apitoken_change", args=[acme_token.pk]))
    assert page.status_code in (302, 404)


def test_revoking_a_key_in_the_admin_stops_it(client, acme, acme_staff):
    client.force_login(acme_staff)
    token = ApiToken.objects.get(organisation=acme.organisation)

    client.post(reverse("admin:wallet_apitoken_changelist"),
                {"action": "revoke", "_selected_action": [token.pk]})

    assert acme.client.get("/api/v1/passports/").status_code == 401


def test_staff_entitle_a_partner_for_their_own_organisation(client, acme, recycle, other,
                                                            acme_staff, other_staff):
    client.force_login(acme_staff)

    client.post(reverse("admin:passports_entitlement_add"),
                {"partner": other.organisation.pk, "access_group": "authorities"})

    given = Entitlement.objects.get(partner=other.organisation)
    assert given.manufacturer == acme.organisation and given.created_by == acme_staff
    client.force_login(other_staff)
    listing = client.get(reverse("admin:passports_entitlement_changelist")).content.decode()
    assert "Recycle B.V." not in listing  # acme's entitlement of recycle is acme's business
    assert client.get(reverse("admin:passports_entitlement_change",
                              args=[given.pk])).status_code in (302, 404)


def test_the_commands_all_scopes_gives_only_what_the_operator_may_give(acme):
    """Issue #15: `--all-scopes` used to give passports:issue, passports:revoke and
    mandates:manage to a key nobody holds a mandate for. A command is an operator action; a
    scope that acts in a person's name needs --for-user, a member who may use it."""
    call_command("api_token", "acme", "--all-scopes", "--name", "everything",
                 stdout=io.StringIO(), stderr=io.StringIO())

    scopes = set(ApiToken.objects.get(name="everything").scopes)
    assert scopes == set(ApiToken.Scope.values) - {
        "passports:issue", "passports:revoke", "messages:send", "invoices:send",
        "mandates:manage", "attestations:review"}  # acme is no trust anchor
    with pytest.raises(CommandError, match="--for-user"):
        call_command("api_token", "acme", "--scope", "passports:issue", stdout=io.StringIO(),
                     stderr=io.StringIO())


def test_a_key_made_for_a_member_acts_with_their_mandate_while_it_lasts(
        acme, acme_staff, product, django_capture_on_commit_callbacks):
    out = io.StringIO()
    call_command("api_token", "acme", "--scope", "passports:issue", "--for-user", "acme-staff",
                 stdout=out, stderr=io.StringIO())
    client = api_client(out.getvalue().strip())

    with django_capture_on_commit_callbacks(execute=True):  # signed: not pending any more
        issued = client.post("/api/v1/passports/", {"product": product.pk}, format="json")

    mandate = Mandate.objects.get(grantee_user=acme_staff, scope="passports:issue")
    assert issued.status_code == 202, issued.content
    event = PassportEvent.objects.get(passport_id=issued.json()["id"], action="requested")
    assert event.actor == acme_staff and event.details["mandate"] == mandate.pk
    mandate_revoke(mandate=mandate)
    refused = client.post("/api/v1/passports/", {"product": product.pk}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "no_mandate"
    assert "acme-staff" in refused.json()["detail"]
    assert PassportEvent.objects.filter(action="requested").count() == 1
