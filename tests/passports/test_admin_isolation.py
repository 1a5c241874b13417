"""The admin is scoped to the staff user's organisation: lists, object pages, actions, QR codes
and the bulk import never show or touch another organisation's data. Superusers see all."""

import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from passports.models import Passport, PassportEvent, Product, RestrictedCredential
from passports.services.issuance import passport_request, passports_sign
from passports.services.products import product_create
from tests.support.factories import GTINS, battery_attributes, organisation, staff_member
from wallet.tenancy.authority import operator
from wallet.tenancy.models import Member, Organisation

# Every model in the admin that belongs to one organisation, with the lookup to it.
ADMIN_MODELS = {
    "product": (Product, "organisation"),
    "passport": (Passport, "product__organisation"),
    "passportevent": (PassportEvent, "passport__product__organisation"),
    "restrictedcredential": (RestrictedCredential, "passport__product__organisation"),
    "organisation": (Organisation, "pk"),
}


def rows_of(model: str, org) -> set:
    model_class, lookup = ADMIN_MODELS[model]
    return set(model_class.objects.filter(**{lookup: org.pk}).values_list("pk", flat=True))


def _url(model: str, view: str, *args) -> str:
    app = "wallet" if model == "organisation" else "passports"
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def _issued_battery(org, gtin, serial):
    # One attribute outside the public group, so the passport has a restricted credential.
    product = product_create(organisation=org, gtin=gtin, serial=serial, name=f"Pack {serial}",
                             category="battery",
                             attributes=battery_attributes(batteryStatus="original"))
    passport = passport_request(actor=operator(), product=product)
    passports_sign([passport.pk])
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED
    return product, passport


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # admin_client


@pytest.fixture
def world(db):
    """Two organisations, each with a staff member and an issued battery passport."""
    world = {}
    for slug, gtin in (("acme", GTINS[0]), ("bolt", GTINS[1])):
        org = organisation(slug)
        product, passport = _issued_battery(org, gtin, f"{slug.upper()}-1")
        world[slug] = {
            "org": org, "staff": staff_member(org, f"{slug}-staff"), "product": product,
            "passport": passport, "event": PassportEvent.objects.filter(passport=passport)[0],
            "restricted": RestrictedCredential.objects.get(passport=passport),
        }
    return world


def _listed_pks(response) -> set:
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def _refused(response) -> bool:
    """Not found, or redirected to the admin index with "doesn't exist" (Django's way)."""
    if response.status_code == 404:
        return True
    return (response.status_code == 302 and response.url == reverse("admin:index")
            and any("doesn’t exist" in str(m) for m in get_messages(response.wsgi_request)))


# Lists and object pages -------------------------------------------------------------------------

@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_staff_see_only_their_organisations_rows(client, world, model):
    own_rows = rows_of(model, world["acme"]["org"])
    other_rows = rows_of(model, world["bolt"]["org"])
    client.force_login(world["acme"]["staff"])

    listed = _listed_pks(client.get(_url(model, "changelist")))

    assert own_rows and other_rows
    assert listed == own_rows
    for pk in own_rows:
        assert client.get(_url(model, "change", pk)).status_code == 200
    for pk in other_rows:
        assert _refused(client.get(_url(model, "change", pk)))


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_a_superuser_sees_every_organisations_rows(admin_client, world, model):
    everything = rows_of(model, world["acme"]["org"]) | rows_of(model, world["bolt"]["org"])

    listed = _listed_pks(admin_client.get(_url(model, "changelist")))

    assert everything <= listed
    for pk in everything:
        assert admin_client.get(_url(model, "change", pk)).status_code == 200


def test_search_cannot_reach_another_organisation(client, world):
    client.force_login(world["acme"]["staff"])

    found = _listed_pks(client.get(_url("product", "changelist"), {"q": GTINS[1]}))

    assert found == set()


def test_a_staff_user_outside_any_organisation_sees_nothing(client, world, django_user_model):
    loner = django_user_model.objects.create_user("loner", is_staff=True)
    loner.user_permissions.set(world["acme"]["staff"].user_permissions.all())
    client.force_login(loner)

    assert _listed_pks(client.get(_url("product", "changelist"))) == set()
    assert _listed_pks(client.get(_url("passport", "changelist"))) == set()
    assert client.get(_url("product", "add")).status_code == 403


# Passports are read-only --------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["passport", "passportevent", "restrictedcredential"])
def test_passports_and_their_records_cannot_be_added_or_edited_by_hand(client, world, model):
    client.force_login(world["acme"]["staff"])
    row = ADMIN_MODELS[model][0].objects.get(pk=min(rows_of(model, world["acme"]["org"])))

    assert client.get(_url(model, "add")).status_code == 403
    assert client.post(_url(model, "change", row.pk), {"state": "revoked"}).status_code == 403
    assert client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403


def test_the_passport_page_shows_versions_events_decoded_jwt_and_qr(client, world):
    client.force_login(world["acme"]["staff"])
    passport = world["acme"]["passport"]

    page = client.get(_url("passport", "change", passport.pk)).content.decode()

    assert "&quot;typ&quot;: &quot;vc+jwt&quot;" in page  # the decoded header, pretty-printed
    assert "DigitalProductPassport" in page  # the decoded payload
    assert "v1 (this one)" in page and "issued" in page  # versions and events
    assert _url("product", "qr_svg", passport.product.pk) in page
    assert "legitimate_interest" in page  # the restricted credential, linked
    assert passport.jwt in page


def test_the_restricted_credential_list_never_shows_the_jwt(client, world):
    client.force_login(world["acme"]["staff"])
    restricted = world["acme"]["restricted"]

    page = client.get(_url("restrictedcredential", "changelist")).content.decode()

    assert restricted.access_group in page
    assert restricted.jwt not in page and restricted.jwt[:40] not in page


def test_the_passport_list_shows_issuance_progress_of_the_organisation(client, world):
    passport_request(product=world["acme"]["product"],
                     actor=operator())  # a second version, still pending
    client.force_login(world["acme"]["staff"])

    response = client.get(_url("passport", "changelist"))

    progress = {item["state"]: item["count"] for item in response.context["issuance_progress"]}
    assert progress["pending"] == 1 and progress["issued"] == 1  # bolt's passport not counted
    assert "1 pending" in response.content.decode()


# Actions ------------------------------------------------------------------------------------------

def test_issue_passport_action_issues_only_own_products(client, world,
                                                        django_capture_on_commit_callbacks):
    acme, bolt = world["acme"], world["bolt"]
    fresh = product_create(organisation=acme["org"], gtin=GTINS[0], serial="ACME-2",
                           name="Pack 2", category="battery", attributes=battery_attributes())
    client.force_login(acme["staff"])

    with django_capture_on_commit_callbacks(execute=True):  # tasks run eagerly after commit
        response = client.post(_url("product", "changelist"), {
            "action": "issue_passport",
            "_selected_action": [fresh.pk, bolt["product"].pk]}, follow=True)

    assert "Requested 1 passport(s)" in response.content.decode()
    passport = Passport.objects.get(product=fresh)
    assert passport.state == Passport.State.ISSUED  # pending → issued by the signing task
    assert passport.events.get(action="requested").actor == acme["staff"]
    assert Passport.objects.filter(product=bolt["product"]).count() == 1  # untouched


def test_issue_passport_skips_products_whose_passport_is_pending(client, world):
    acme = world["acme"]
    passport_request(product=acme["product"],
                     actor=operator())  # on_commit never runs here: stays pending
    client.force_login(acme["staff"])

    response = client.post(_url("product", "changelist"), {
        "action": "issue_passport", "_selected_action": [acme["product"].pk]}, follow=True)

    assert "Skipped 1 product(s)" in response.content.decode()
    assert Passport.objects.filter(product=acme["product"]).count() == 2


def test_reissue_action_requests_a_new_version(client, world, django_capture_on_commit_callbacks):
    acme = world["acme"]
    client.force_login(acme["staff"])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("passport", "changelist"), {
            "action": "reissue",
            "_selected_action": [acme["passport"].pk, world["bolt"]["passport"].pk]})

    versions = dict(Passport.objects.filter(product=acme["product"])
                    .values_list("version", "state"))
    assert versions == {1: "superseded", 2: "issued"}
    assert Passport.objects.filter(product=world["bolt"]["product"]).count() == 1


# QR codes -----------------------------------------------------------------------------------------

def test_qr_codes_download_as_svg_and_png_for_own_products_only(client, world):
    client.force_login(world["acme"]["staff"])
    own, other = world["acme"]["product"].pk, world["bolt"]["product"].pk

    svg = client.get(_url("product", "qr_svg", own), {"download": 1})
    png = client.get(_url("product", "qr_png", own), {"scale": 20})

    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    assert "attachment" in svg["Content-Disposition"]
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert client.get(_url("product", "qr_svg", other)).status_code == 404
    assert client.get(_url("product", "qr_png", other)).status_code == 404
    assert client.get(_url("product", "qr_png", own), {"scale": 1000}).status_code == 400


# Product form -------------------------------------------------------------------------------------

def _product_post(**overrides) -> dict:
    data = {"gtin": "4006381333931", "serial": "ACME-9", "name": "Pack 9",
            "category": "battery", "lot": "", "description": "", "facility_name": "",
            "facility_id": "", "country_of_production": "NL", "production_date": ""}
    data.update({f"attributes.{key}": value for key, value in battery_attributes().items()})
    data.update(overrides)
    return data


def test_add_product_asks_for_the_category_first(client, world):
    client.force_login(world["acme"]["staff"])

    chooser = client.get(_url("product", "add"))
    form = client.get(_url("product", "add"), {"category": "battery"})

    assert "?category=battery" in chooser.content.decode()
    fields = form.context["adminform"].form.fields
    assert fields["attributes.ratedCapacity"].label == "Rated capacity (Ah)"
    assert "organisation" not in fields  # set from the staff user's membership


def test_staff_add_a_product_to_their_own_organisation(client, world):
    acme, bolt = world["acme"], world["bolt"]
    client.force_login(acme["staff"])

    response = client.post(_url("product", "add"),
                           _product_post(organisation=bolt["org"].pk))

    assert response.status_code == 302
    product = Product.objects.get(serial="ACME-9")
    assert product.organisation == acme["org"]
    assert product.gtin == "04006381333931"
    assert product.attributes["ratedCapacity"] == 50


def test_a_superuser_chooses_the_organisation_of_a_new_product(admin_client, world):
    bolt = world["bolt"]["org"]

    form = admin_client.get(_url("product", "add"), {"category": "battery"})
    response = admin_client.post(_url("product", "add"), _product_post(organisation=bolt.pk))

    assert "organisation" in form.context["adminform"].form.fields
    assert response.status_code == 302
    assert Product.objects.get(serial="ACME-9").organisation == bolt


def test_attribute_errors_are_shown_next_to_their_fields(client, world):
    client.force_login(world["acme"]["staff"])

    response = client.post(_url("product", "add"), _product_post(**{
        "attributes.ratedCapacity": "lots", "attributes.batteryChemistry": "",
        "gtin": "4006381333932"}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"attributes.ratedCapacity", "attributes.batteryChemistry", "gtin"}
    assert not Product.objects.filter(serial="ACME-9").exists()


def test_staff_edit_a_product_and_another_organisations_product_is_not_found(client, world):
    acme, bolt = world["acme"], world["bolt"]
    client.force_login(acme["staff"])
    product = acme["product"]

    edited = client.post(_url("product", "change", product.pk), _product_post(
        gtin=product.gtin, serial=product.serial, name="Pack renamed",
        **{"attributes.batteryStatus": "repurposed"}), follow=True)
    foreign = client.post(_url("product", "change", bolt["product"].pk),
                          _product_post(gtin=GTINS[1], serial="BOLT-1", name="Stolen"))

    product.refresh_from_db()
    assert (product.name, product.attributes["batteryStatus"]) == ("Pack renamed", "repurposed")
    assert "still carries the previous data" in edited.content.decode()
    assert _refused(foreign)
    assert Product.objects.get(pk=bolt["product"].pk).name == "Pack BOLT-1"


# Bulk import --------------------------------------------------------------------------------------

def _csv(*serials_and_capacities) -> io.BytesIO:
    attributes = battery_attributes()
    header = ["gtin", "serial", "name", "category", *attributes]
    lines = [",".join(header)]
    for serial, capacity in serials_and_capacities:
        values = {**attributes, "ratedCapacity": capacity}
        lines.append(",".join([GTINS[2], serial, "Pack", "battery",
                               *(str(values[key]) for key in attributes)]))
    upload = io.BytesIO("\n".join(lines).encode())
    upload.name = "products.csv"
    return upload


def test_the_import_page_is_linked_from_the_product_list(client, world):
    client.force_login(world["acme"]["staff"])

    assert _url("product", "import") in client.get(_url("product", "changelist")).content.decode()


def test_bulk_import_in_the_admin_shows_row_and_column_errors(client, world):
    client.force_login(world["acme"]["staff"])

    response = client.post(_url("product", "import"),
                           {"file": _csv(("S1", 50), ("S2", 50), ("S3", "lots"))})

    assert response.status_code == 200
    assert response.context["errors"][0]["row"] == 3
    assert response.context["errors"][0]["column"] == "ratedCapacity"
    assert "<td>ratedCapacity</td>" in response.content.decode()
    assert not Product.objects.filter(gtin=GTINS[2]).exists()


def test_bulk_import_in_the_admin_imports_into_the_staffs_organisation(
        client, world, django_capture_on_commit_callbacks):
    client.force_login(world["acme"]["staff"])

    checked = client.post(_url("product", "import"),
                          {"file": _csv(("S1", 50), ("S2", 60)), "issue": "on"})
    assert checked.context["ready"]["count"] == 2
    assert not Product.objects.filter(gtin=GTINS[2]).exists()  # checked, not stored yet
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("product", "import"),
                               {"token": checked.context["ready"]["token"], "issue": "on"})

    assert response.status_code == 302
    imported = Product.objects.filter(gtin=GTINS[2])
    assert {p.organisation.slug for p in imported} == {"acme"}
    assert Passport.objects.filter(product__in=imported, state="issued").count() == 2


def test_organisation_admin_lists_only_the_staffs_own_organisation(client, world):
    client.force_login(world["acme"]["staff"])

    listed = _listed_pks(client.get(_url("organisation", "changelist")))

    assert listed == {world["acme"]["org"].pk}
    assert Organisation.objects.count() == 2


def test_staff_cannot_add_people_to_their_organisation(client, world, django_user_model):
    outsider = django_user_model.objects.create_user("outsider", password="x")
    org = world["acme"]["org"]
    client.force_login(world["acme"]["staff"])
    url = _url("organisation", "change", org.pk)

    client.post(url, {"legal_name": org.legal_name, "members-TOTAL_FORMS": "1",
                      "members-INITIAL_FORMS": "0", "members-0-user": outsider.pk,
                      "members-0-role": "staff"})

    assert not Member.objects.filter(user=outsider).exists()
