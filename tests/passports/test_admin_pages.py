"""The admin's pages as staff use them, server side: the country choice, the label sheet, the
"View site" link (the browser tests in test_admin_browser.py drive the same pages in Chromium)."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from passports.admin import BATCHES_SESSION_KEY
from passports.models import EvidenceCredential, Product
from passports.services.evidence import evidence_request
from passports.services.status import passports_change_status
from tests.support.evidence import sign_now
from tests.support.factories import GTINS, organisation, required_attributes
from tests.support.public import issue, make_product
from wallet.tenancy.authority import actor_of, operator
from wallet.tenancy.legal_models import Mandate


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _add_product(client, **fields):
    data = {"gtin": GTINS[0], "serial": "SN-1", "name": "Widget", "category": "generic",
            "lot": "", "description": "", "facility_name": "", "facility_id": "",
            "production_date": "", **fields}
    return client.post(reverse("admin:passports_product_add") + "?category=generic", data)


def test_the_country_is_a_choice_of_named_iso_countries(client, staff):
    page = client.get(reverse("admin:passports_product_add") + "?category=generic",
                      headers={"accept-language": "de"}).content.decode()

    assert '<select name="country_of_production"' in page
    assert '<option value="NL">Niederlande</option>' in page
    assert 'maxlength="2"' not in page


def test_a_country_name_typed_into_the_form_is_refused_not_cut(client, staff):
    refused = _add_product(client, country_of_production="Netherlands")
    saved = _add_product(client, country_of_production="NL")

    assert "country_of_production" in refused.context["adminform"].form.errors
    assert saved.status_code == 302
    assert list(Product.objects.values_list("country_of_production", flat=True)) == ["NL"]


def test_the_label_sheet_prints_and_leads_back(client, staff, acme):
    product = make_product(acme)
    with translation.override("de"):
        url = reverse("passports-labels")
    page = client.get(f"{url}?ids={product.pk}", headers={"accept-language": "de"})

    html = page.content.decode()
    assert 'id="labels-print"' in html and "passports/labels.js" in html
    assert f'id="labels-back" href="{reverse("admin:passports_product_changelist")}"' in html
    assert "Etiketten drucken" in html
    assert finders.find("passports/labels.js")


def test_the_admin_has_no_view_site_link_to_a_page_that_does_not_exist(client, staff):
    page = client.get(reverse("admin:index")).content.decode()

    assert 'href="/"' not in page


def test_the_passport_page_lists_events_latest_first_with_the_mandate(client, staff, acme):
    passport = issue(make_product(acme))
    passports_change_status(passports=[passport.pk], action="suspend", actor=actor_of(staff),
                            reason="review")
    mandate = Mandate.objects.get(grantee_user=staff, scope=Mandate.Scope.PASSPORTS_REVOKE)

    page = client.get(reverse("admin:passports_passport_change", args=[passport.pk]))
    events_list = client.get(reverse("admin:passports_passportevent_changelist"))

    actions = [event.action for event, _authority in page.context["events"]]
    assert actions[0] == "suspended" and actions[-1] != "suspended"
    html = page.content.decode()
    assert reverse("admin:wallet_mandate_change", args=[mandate.pk]) in html
    assert f"#{mandate.pk} (passports:revoke)" in html
    assert page.context["verdict_badge"]["kind"] == "suspended"
    assert f'href="{passport.product.digital_link}"' in html
    assert [e.action for e in events_list.context["cl"].result_list][0] == "suspended"


def _csv_upload(text: str):
    upload = io.BytesIO(text.encode())
    upload.name = "products.csv"
    return upload


def test_the_errors_of_a_checked_file_download_as_csv(client, staff):
    client.post(reverse("admin:passports_product_import"), {"file": _csv_upload(
        f"gtin,name,category\n123,Widget,generic\n{GTINS[0]},,generic\n")})

    download = client.get(reverse("admin:passports_product_import_errors"))

    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [(row["row"], row["column"]) for row in rows] == [("1", "gtin"), ("2", "name")]
    assert "attachment" in download["Content-Disposition"]


def test_the_import_page_offers_a_template_per_category(client, staff):
    page = client.get(reverse("admin:passports_product_import")).content.decode()
    template = client.get(reverse("admin:passports_product_import_template",
                                  args=["textile"]))

    for name in ("battery", "textile", "electronics", "generic"):
        assert reverse("admin:passports_product_import_template", args=[name]) in page
    assert template.content.decode().startswith("gtin,lot,serial,name,")
    assert client.get(reverse("admin:passports_product_import_template",
                              args=["spaceship"])).status_code == 404


def test_issuing_leads_to_the_batch_progress_of_own_products_only(
        client, staff, acme, django_capture_on_commit_callbacks):
    mine = make_product(acme)
    theirs = make_product(organisation("bolt"), gtin=GTINS[1])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:passports_product_changelist"), {
            "action": "issue_passport", "_selected_action": [mine.pk]})
    session = client.session
    token = next(iter(session[BATCHES_SESSION_KEY]))
    session[BATCHES_SESSION_KEY][token].append(theirs.pk)  # as if smuggled in
    session.save()
    progress = client.get(response.url)

    assert response.url == reverse("admin:passports_passport_progress", args=[token])
    assert progress.context["progress"].total == 1
    assert progress.context["progress"].all_issued
    assert 'http-equiv="refresh"' not in progress.content.decode()
    assert client.get(reverse("admin:passports_passport_progress",
                              args=["unknown"])).status_code == 404


def test_products_filter_and_search_by_category_attributes(client, staff, acme):
    def electronics(serial, **attributes):
        return make_product(acme, serial=serial, category="electronics", name="Phone",
                            attributes={**required_attributes("electronics"), **attributes})

    efficient = electronics("E-1", energyEfficiencyClass="A", batteryUserReplaceable=True)
    electronics("E-2", energyEfficiencyClass="C", batteryUserReplaceable=False)
    battery = make_product(acme, serial="B-1")
    url = reverse("admin:passports_product_changelist")

    by_class = client.get(url, {"category__exact": "electronics",
                                "attr_energyEfficiencyClass": "A"})
    by_flag = client.get(url, {"category__exact": "electronics",
                               "attr_batteryUserReplaceable": "true"})
    searched = client.get(url, {"q": "batteryChemistry=nmc811"})

    assert {p.pk for p in by_class.context["cl"].result_list} == {efficient.pk}
    assert {p.pk for p in by_flag.context["cl"].result_list} == {efficient.pk}
    assert {p.pk for p in searched.context["cl"].result_list} == {battery.pk}


def test_revoking_an_evidence_credential_asks_first_and_needs_a_reason(client, staff, acme):
    credential = sign_now(evidence_request(
        organisation=acme, kind="facility", actor=operator(),
        subject={"name": "Acme Plant Venlo", "id": "https://acme.example/facilities/venlo",
                 "country": "NL"}))

    def revoke(**confirmation):
        return client.post(reverse("admin:passports_evidencecredential_changelist"),
                           {"action": "revoke", "_selected_action": [credential.pk],
                            **confirmation}, follow=True)

    asked = revoke()
    without_reason = revoke(confirm="revoke", reason="  ")

    credential.refresh_from_db()
    assert credential.state == EvidenceCredential.State.ISSUED
    assert asked.templates[0].name == "admin/passports/evidencecredential/confirm_revoke.html"
    page = asked.content.decode()
    assert 'id="evidence-warning"' in page and "Acme Plant Venlo" in page
    assert 'name="confirm" value="revoke"' in page
    assert "This field is required." in without_reason.content.decode()

    revoke(confirm="revoke", reason="plant closed")

    credential.refresh_from_db()
    assert (credential.state, credential.state_reason) == (EvidenceCredential.State.REVOKED,
                                                           "plant closed")
