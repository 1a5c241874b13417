"""Who may do what, at every entry point (issue #15): the rule lives once, in
wallet.tenancy.authority.authorise, and every admin action, admin import, API operation, management
command and OpenID4VCI offer goes through it.

Every act below targets Acme's objects. The actors:
- staff with the mandate: an Acme member holding the mandate of the act's scope (through the
  API: a key that member made);
- staff without: an Acme member whose mandates were revoked (through the API: the key they made
  while they held them, which now acts with nothing);
- staff of another organisation: a member of Other GmbH holding every mandate of Other (through
  the API: Other's key);
- operator: a superuser in the admin; a management command without --for-user; through the
  API, the key `manage.py api_token acme --all-scopes` makes (it carries no scope that acts in
  a person's name, so a mandate-governed operation is refused).

"refused" means nothing of Acme's changed. The last column is what the act's event records:
the mandate of the acting member (`mandate`, checked to be that member's own mandate of the
scope), `operator`, `member` (a scope no mandate governs), or `-` when nothing was recorded."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

import wallet.business.messaging.admin  # noqa: F401 - registers the message box and invoices admin
from openid4vci.models import CredentialOffer
from passports.models import Passport, PassportEvent, Product
from passports.services.issuance import passport_request
from passports.services.products import product_create
from passports.services.status import passport_suspend
from tests.support.factories import GTINS, organisation, staff_member
from tests.support.invoices import BUYER, SELLER, invoice_data, with_legal_details
from wallet.business.messaging.models import Message
from wallet.business.messaging.services import invoice_create
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.authority import actor_of, operator
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import active_mandate, mandate_revoke
from wallet.tenancy.models import ApiToken, Member

WITH, WITHOUT, OTHER, OPERATOR = "with mandate", "without mandate", "other organisation", \
    "operator"
DONE, REFUSED = "done", "refused"
ISSUE, REVOKE = Mandate.Scope.PASSPORTS_ISSUE, Mandate.Scope.PASSPORTS_REVOKE
MESSAGES, INVOICES = Mandate.Scope.MESSAGES_SEND, Mandate.Scope.INVOICES_SEND

# (entry point,                   actor,    outcome,  the event records)
MATRIX = [
    ("admin: issue passport",       WITH,     DONE,     "mandate"),
    ("admin: issue passport",       WITHOUT,  REFUSED,  "-"),
    ("admin: issue passport",       OTHER,    REFUSED,  "-"),
    ("admin: issue passport",       OPERATOR, DONE,     "operator"),
    ("admin: re-issue",             WITH,     DONE,     "mandate"),
    ("admin: re-issue",             WITHOUT,  REFUSED,  "-"),
    ("admin: re-issue",             OTHER,    REFUSED,  "-"),
    ("admin: re-issue",             OPERATOR, DONE,     "operator"),
    ("admin: revoke",               WITH,     DONE,     "mandate"),
    ("admin: revoke",               WITHOUT,  REFUSED,  "-"),
    ("admin: revoke",               OTHER,    REFUSED,  "-"),
    ("admin: revoke",               OPERATOR, DONE,     "operator"),
    ("admin: suspend",              WITH,     DONE,     "mandate"),
    ("admin: suspend",              WITHOUT,  REFUSED,  "-"),
    ("admin: suspend",              OTHER,    REFUSED,  "-"),
    ("admin: suspend",              OPERATOR, DONE,     "operator"),
    ("admin: reinstate",            WITH,     DONE,     "mandate"),
    ("admin: reinstate",            WITHOUT,  REFUSED,  "-"),
    ("admin: reinstate",            OTHER,    REFUSED,  "-"),
    ("admin: reinstate",            OPERATOR, DONE,     "operator"),
    ("admin: import and issue",     WITH,     DONE,     "mandate"),
    ("admin: import and issue",     WITHOUT,  REFUSED,  "-"),
    ("admin: import and issue",     OTHER,    REFUSED,  "-"),
    ("admin: import and issue",     OPERATOR, DONE,     "operator"),
    ("admin: send message",         WITH,     DONE,     "mandate"),
    ("admin: send message",         WITHOUT,  REFUSED,  "-"),
    ("admin: send message",         OTHER,    REFUSED,  "-"),
    ("admin: send message",         OPERATOR, REFUSED,  "-"),  # composing is for members
    ("admin: send invoice",         WITH,     DONE,     "mandate"),
    ("admin: send invoice",         WITHOUT,  REFUSED,  "-"),
    ("admin: send invoice",         OTHER,    REFUSED,  "-"),
    ("admin: send invoice",         OPERATOR, DONE,     "operator"),
    ("admin: create API key",       WITH,     DONE,     "maker"),
    ("admin: create API key",       WITHOUT,  REFUSED,  "-"),
    ("admin: create API key",       OTHER,    REFUSED,  "-"),
    ("admin: create API key",       OPERATOR, REFUSED,  "-"),
    ("admin: OpenID4VCI offer",     WITH,     DONE,     "mandate"),
    ("admin: OpenID4VCI offer",     WITHOUT,  REFUSED,  "-"),
    ("admin: OpenID4VCI offer",     OTHER,    REFUSED,  "-"),
    ("admin: OpenID4VCI offer",     OPERATOR, DONE,     "operator"),
    ("API: issue passport",         WITH,     DONE,     "mandate"),
    ("API: issue passport",         WITHOUT,  REFUSED,  "-"),
    ("API: issue passport",         OTHER,    REFUSED,  "-"),
    ("API: issue passport",         OPERATOR, REFUSED,  "-"),
    ("API: revoke",                 WITH,     DONE,     "mandate"),
    ("API: revoke",                 WITHOUT,  REFUSED,  "-"),
    ("API: revoke",                 OTHER,    REFUSED,  "-"),
    ("API: revoke",                 OPERATOR, REFUSED,  "-"),
    ("API: suspend",                WITH,     DONE,     "mandate"),
    ("API: suspend",                WITHOUT,  REFUSED,  "-"),
    ("API: suspend",                OTHER,    REFUSED,  "-"),
    ("API: suspend",                OPERATOR, REFUSED,  "-"),
    ("API: reinstate",              WITH,     DONE,     "mandate"),
    ("API: reinstate",              WITHOUT,  REFUSED,  "-"),
    ("API: reinstate",              OTHER,    REFUSED,  "-"),
    ("API: reinstate",              OPERATOR, REFUSED,  "-"),
    ("API: send message",           WITH,     DONE,     "mandate"),
    ("API: send message",           WITHOUT,  REFUSED,  "-"),
    ("API: send message",           OTHER,    REFUSED,  "-"),
    ("API: send message",           OPERATOR, REFUSED,  "-"),
    ("API: send invoice",           WITH,     DONE,     "mandate"),
    ("API: send invoice",           WITHOUT,  REFUSED,  "-"),
    ("API: send invoice",           OTHER,    REFUSED,  "-"),
    ("API: send invoice",           OPERATOR, REFUSED,  "-"),
    ("API: OpenID4VCI offer",       WITH,     DONE,     "mandate"),
    ("API: OpenID4VCI offer",       WITHOUT,  REFUSED,  "-"),
    ("API: OpenID4VCI offer",       OTHER,    REFUSED,  "-"),
    ("API: OpenID4VCI offer",       OPERATOR, REFUSED,  "-"),
    ("command: import_products --issue", WITH,     DONE,     "mandate"),
    ("command: import_products --issue", WITHOUT,  REFUSED,  "-"),
    ("command: import_products --issue", OTHER,    REFUSED,  "-"),
    ("command: import_products --issue", OPERATOR, DONE,     "operator"),
    ("command: api_token",          WITH,     DONE,     "maker"),
    ("command: api_token",          WITHOUT,  REFUSED,  "-"),
    ("command: api_token",          OTHER,    REFUSED,  "-"),
    ("command: api_token",          OPERATOR, REFUSED,  "-"),
]
# A superuser has no organisation to compose a message for in the admin; the operator's
# messages come from the demo command (test_the_operator_is_named_on_what_it_sends below).


@dataclass
class World:
    acme: object
    recycle: object
    other: object
    users: dict
    product: Product
    passport: Passport

    def member(self, who):
        return self.users[who]


@pytest.fixture
def world(db, django_capture_on_commit_callbacks) -> World:
    acme = with_legal_details(organisation("acme", SELLER.legal_name), SELLER)
    recycle = with_legal_details(organisation("recycle", BUYER.legal_name), BUYER)
    other = organisation("other", "Other GmbH")
    everything = Mandate.Scope.values
    users = {
        WITH: staff_member(acme, "with", apps=("passports", "wallet", "openid4vci"),
                           mandates=everything),
        WITHOUT: staff_member(acme, "without", apps=("passports", "wallet", "openid4vci"),
                              mandates=everything),
        OTHER: staff_member(other, "stranger", apps=("passports", "wallet", "openid4vci"),
                            mandates=everything),
        OPERATOR: get_user_model().objects.create_superuser("root", email=""),
    }
    product = product_create(organisation=acme, gtin=GTINS[0], serial="M-1", name="Widget",
                             category="generic")
    with django_capture_on_commit_callbacks(execute=True):
        passport = passport_request(product=product, actor=operator())
    passport.refresh_from_db()
    return World(acme, recycle, other, users, product, passport)


def revoke_mandates(user) -> None:
    for mandate in Mandate.objects.filter(grantee_user=user):
        mandate_revoke(mandate=mandate, reason="left the team")


def api_client(world: World, who: str) -> APIClient:
    """A key for `who` (see the module's docstring), made before their mandates lapse."""
    if who == OPERATOR:
        out = io.StringIO()
        call_command("api_token", "acme", "--all-scopes", stdout=out, stderr=io.StringIO())
        key = out.getvalue().strip()
    else:
        user = world.member(who)
        organisation = world.other if who == OTHER else world.acme
        _, key = api_token_create(actor=actor_of(user), organisation=organisation, name=who,
                                  scopes=[s for s in ApiToken.Scope.values
                                          if s != ApiToken.Scope.ATTESTATIONS_REVIEW
                                          and s != ApiToken.Scope.MANDATES_MANAGE])
    if who == WITHOUT:
        revoke_mandates(world.member(who))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def logged_in(client, world: World, who: str):
    if who == WITHOUT:
        revoke_mandates(world.member(who))
    client.force_login(world.member(who))
    return client


def products_csv(serial: str) -> io.BytesIO:
    upload = io.BytesIO(f"gtin,serial,name,category\n{GTINS[1]},{serial},Widget,generic\n"
                        .encode())
    upload.name = "products.csv"
    return upload


# What Acme has of each kind, and how to read each kind's record ---------------------------------

def passport_events(world):
    return PassportEvent.objects.filter(passport__product__organisation=world.acme,
                                        action__in=["requested", "revoked", "suspended",
                                                    "reinstated"])


def sent_messages(world):
    return Message.objects.filter(sender=world.acme)


def made_offers(world):
    return CredentialOffer.objects.filter(issuer=world.acme)


def matrix_keys(world):
    return ApiToken.objects.filter(organisation=world.acme, name="matrix key")


def passport_record(event: PassportEvent) -> tuple[str, int | None]:
    return event.details.get("authority", "-"), event.details.get("mandate")


def message_record(message: Message) -> tuple[str, int | None]:
    if message.by_operator:
        return "operator", None
    return ("mandate" if message.mandate_id else "-"), message.mandate_id


def offer_record(offer: CredentialOffer) -> tuple[str, int | None]:
    detail = offer.events.get(action="offered").detail
    if detail.startswith("by the operator"):
        return "operator", None
    found = re.search(r"under mandate (\d+)", detail)
    return ("mandate", int(found.group(1))) if found else ("member", None)


def key_record(token: ApiToken) -> tuple[str, int | None]:
    return ("maker" if token.created_by else "-"), None


# The entry points: each acts, and returns Acme's new records -------------------------------------

def admin_action(model: str, action: str, ids):
    def act(client, world, who, captured):
        logged_in(client, world, who)
        with captured(execute=True):
            client.post(reverse(f"admin:{model}_changelist"),  # as confirmed, with a reason
                        {"action": action, "_selected_action": ids(world), "reason": "matrix",
                         "confirm": action})
    return act


def admin_import(client, world, who, captured):
    logged_in(client, world, who)
    form = {"file": products_csv("IMPORTED"), "issue": "on"}
    if who == OPERATOR:
        form["organisation"] = world.acme.pk
    response = client.post(reverse("admin:passports_product_import"), form)  # the check
    ready = response.context and response.context.get("ready")
    if ready:  # then the import of the checked file
        with captured(execute=True):
            response = client.post(reverse("admin:passports_product_import"),
                                   {"token": ready["token"], "issue": "on"})
    return response


def admin_send_message(client, world, who, captured):
    logged_in(client, world, who)
    client.post(reverse("admin:wallet_outboxmessage_add"),
                {"recipient": world.recycle.pk, "subject": "Packs", "body": "Ready."})


def admin_send_invoice(client, world, who, captured):
    invoice = invoice_create(seller=world.acme, buyer=world.recycle, data=invoice_data())
    logged_in(client, world, who)
    client.post(reverse("admin:wallet_invoice_changelist"),
                {"action": "send", "_selected_action": [invoice.pk]})


def admin_create_key(client, world, who, captured):
    logged_in(client, world, who)
    form = {"name": "matrix key", "scopes": [ISSUE]}
    if who == OPERATOR:
        form["organisation"] = world.acme.pk
    client.post(reverse("admin:wallet_apitoken_add"), form)


def admin_offer(client, world, who, captured):
    logged_in(client, world, who)
    form = {"configuration": "product_passport", "passport": world.passport.pk}
    if who == OPERATOR:
        form["issuer"] = world.acme.pk
    client.post(reverse("admin:openid4vci_credentialoffer_add"), form)


def api_issue(client, world, who, captured):
    api = api_client(world, who)
    with captured(execute=True):
        api.post("/api/v1/passports/", {"product": world.product.pk}, format="json")


def api_change(verb: str):
    def act(client, world, who, captured):
        api = api_client(world, who)
        api.post(f"/api/v1/passports/{world.passport.pk}/{verb}", {"reason": "matrix"},
                 format="json")
    return act


def api_send_message(client, world, who, captured):
    api_client(world, who).post("/api/v1/wallet/messages/",
                                {"recipient": "recycle", "subject": "Packs", "body": "Ready."},
                                format="json")


def api_send_invoice(client, world, who, captured):
    invoice = invoice_create(seller=world.acme, buyer=world.recycle, data=invoice_data())
    api_client(world, who).post(f"/api/v1/wallet/invoices/{invoice.pk}/send", format="json")


def api_offer(client, world, who, captured):
    api_client(world, who).post("/api/v1/openid4vci/offers",
                                {"credential_configuration_id": "product_passport",
                                 "passport": str(world.passport.pk)}, format="json")


def command(name: str, arguments):
    def act(client, world, who, captured):
        if who == WITHOUT:
            revoke_mandates(world.member(who))
        for_user = [] if who == OPERATOR else ["--for-user", world.member(who).username]
        with captured(execute=True):
            try:
                call_command(name, *arguments(world), *for_user, stdout=io.StringIO(),
                             stderr=io.StringIO())
            except CommandError:
                pass  # refused: the table says whether it should have been
    return act


def import_arguments(world):
    path = world.tmp / "products.csv"
    path.write_bytes(products_csv("COMMAND").getvalue())
    return [str(path), "--org", "acme", "--issue"]


def PASSPORT(world):  # noqa: N802 - read as a constant in the table below
    return [world.passport.pk]


def PRODUCT(world):  # noqa: N802
    return [world.product.pk]


def suspended(world):
    passport_suspend(passport=world.passport, actor=operator(), reason="checking")


# Done before the act (and before its records are counted).
PREPARE = {"admin: reinstate": suspended, "API: reinstate": suspended}

# entry point → (act, what Acme has of the kind it changes, how to read a record, scope)
ENTRY_POINTS = {
    "admin: issue passport": (admin_action("passports_product", "issue_passport", PRODUCT),
                              passport_events, passport_record, ISSUE),
    "admin: re-issue": (admin_action("passports_passport", "reissue", PASSPORT),
                        passport_events, passport_record, ISSUE),
    "admin: revoke": (admin_action("passports_passport", "revoke", PASSPORT),
                      passport_events, passport_record, REVOKE),
    "admin: suspend": (admin_action("passports_passport", "suspend", PASSPORT),
                       passport_events, passport_record, REVOKE),
    "admin: reinstate": (admin_action("passports_passport", "reinstate", PASSPORT),
                         passport_events, passport_record, REVOKE),
    "admin: import and issue": (admin_import, passport_events, passport_record, ISSUE),
    "admin: send message": (admin_send_message, sent_messages, message_record, MESSAGES),
    "admin: send invoice": (admin_send_invoice, sent_messages, message_record, INVOICES),
    "admin: create API key": (admin_create_key, matrix_keys, key_record, ISSUE),
    "admin: OpenID4VCI offer": (admin_offer, made_offers, offer_record, ISSUE),
    "API: issue passport": (api_issue, passport_events, passport_record, ISSUE),
    "API: revoke": (api_change("revoke"), passport_events, passport_record, REVOKE),
    "API: suspend": (api_change("suspend"), passport_events, passport_record, REVOKE),
    "API: reinstate": (api_change("reinstate"), passport_events, passport_record, REVOKE),
    "API: send message": (api_send_message, sent_messages, message_record, MESSAGES),
    "API: send invoice": (api_send_invoice, sent_messages, message_record, INVOICES),
    "API: OpenID4VCI offer": (api_offer, made_offers, offer_record, ISSUE),
    "command: import_products --issue": (command("import_products", import_arguments),
                                         passport_events, passport_record, ISSUE),
    "command: api_token": (command("api_token", lambda world: ["acme", "--scope", ISSUE,
                                                               "--name", "matrix key"]),
                           matrix_keys, key_record, ISSUE),
}


@pytest.mark.parametrize(("entry_point", "who", "outcome", "recorded"), MATRIX,
                         ids=[f"{entry} | {who}" for entry, who, _, _ in MATRIX])
def test_authorisation_matrix(entry_point, who, outcome, recorded, world, client, tmp_path,
                              django_capture_on_commit_callbacks):
    act, records, read, scope = ENTRY_POINTS[entry_point]
    world.tmp = tmp_path
    PREPARE.get(entry_point, lambda world: None)(world)
    before = set(records(world).values_list("pk", flat=True))

    act(client, world, who, django_capture_on_commit_callbacks)

    new = list(records(world).exclude(pk__in=before))
    assert (DONE if new else REFUSED) == outcome, new
    for record in new:
        authority, mandate = read(record)
        assert authority == recorded
        if authority == "mandate":  # the acting member's own, active mandate of the scope
            assert mandate == active_mandate(user=world.member(who), organisation=world.acme,
                                             scope=scope).pk


def test_the_admin_import_with_issuance_without_the_mandate_names_it_and_changes_nothing(
        world, client, django_capture_on_commit_callbacks):
    products_before = Product.objects.count()
    events_before = PassportEvent.objects.count()

    response = admin_import(client, world, WITHOUT, django_capture_on_commit_callbacks)

    assert response.status_code == 200  # the form again, with the reason
    shown = [str(message) for message in response.context["messages"]]
    assert any("an active mandate with the scope passports:issue from "
               f"{world.acme.legal_name}" in text for text in shown), shown
    assert Product.objects.count() == products_before
    assert PassportEvent.objects.count() == events_before
    assert Passport.objects.count() == 1


def test_the_operator_is_named_on_what_it_sends(world):
    from wallet.business.messaging.demo import ensure_demo_messages  # noqa: PLC0415 - the demo's data

    Member.objects.all().delete()
    sent = ensure_demo_messages({"acme": world.acme, "recycle": world.recycle})

    assert sent["message"].by_operator and sent["message"].mandate is None
    assert sent["invoice"].message.by_operator
