"""Staff offer credentials in the admin: the transaction code, link and QR code are shown once,
right after the offer is made; afterwards the offer's page follows what the wallet did."""

import re

import pytest
from django.contrib.auth.models import Permission

from openid4vci.models import CredentialOffer
from tests.support.factories import organisation, staff_member
from tests.support.openid4vci_wallet import TestWallet

ADD = "/admin/openid4vci/credentialoffer/add/"


@pytest.fixture
def staff_client(client, staff, acme):
    staff.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["openid4vci", "wallet", "passports"]))
    client.force_login(staff)
    return client


def created_page_parts(html: str) -> dict:
    return {"tx_code": re.search(r'id="tx-code"[^>]*>(\d{6})<', html).group(1),
            "by_reference": re.search(r'id="offer-by-reference"[^>]*>([^<]+)<', html).group(1)
            .replace("&amp;", "&")}


def test_staff_make_an_offer_see_the_tx_code_once_and_then_see_it_redeemed(staff_client,
                                                                           mandate):
    form = staff_client.get(f"{ADD}?configuration=mandate&mandate={mandate.pk}")
    assert "Create OpenID4VCI offer" in form.content.decode()
    assert form.context["adminform"].form.initial["mandate"] == str(mandate.pk)

    page = staff_client.post(ADD, {"configuration": "mandate", "mandate": mandate.pk})

    assert page.status_code == 200
    html = page.content.decode()
    parts = created_page_parts(html)
    assert parts["by_reference"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code
    assert "Shown only now" in html
    assert "no-store" in page["Cache-Control"]
    offer = CredentialOffer.objects.get()
    assert offer.created_by.username == "jan"

    change_page = staff_client.get(f"/admin/openid4vci/credentialoffer/{offer.pk}/change/")
    assert change_page.status_code == 200
    assert parts["tx_code"] not in change_page.content.decode()  # once means once
    assert "credential_offer_uri" not in change_page.content.decode()
    assert "Offered" in change_page.content.decode()

    TestWallet().redeem_offer(parts["by_reference"], parts["tx_code"])

    change_page = staff_client.get(f"/admin/openid4vci/credentialoffer/{offer.pk}/change/")
    text = change_page.content.decode()
    assert "Issued" in text and "token_issued" in text  # the state and its events
    offer.refresh_from_db()
    assert offer.redeemed_at is not None and offer.issued_at is not None
    listing = staff_client.get("/admin/openid4vci/credentialoffer/").content.decode()
    assert "Issued" in listing and "Create OpenID4VCI offer" in listing


def test_a_source_that_does_not_fit_is_a_form_error_and_stores_nothing(staff_client,
                                                                       passport, mandate):
    for form, field in [({"configuration": "mandate"}, "mandate"),
                        ({"configuration": "mandate", "mandate": mandate.pk,
                          "passport": passport.pk}, "mandate"),
                        ({"configuration": "business_identity"}, "configuration")]:
        page = staff_client.post(ADD, form)
        assert page.status_code == 200
        assert page.context["adminform"].form.errors.get(field), (form, field)
    assert not CredentialOffer.objects.exists()


def test_staff_cannot_offer_or_see_another_organisations_things(staff_client, db):
    other = organisation("other", "Other GmbH")
    other_staff = staff_member(other, "otto")
    from wallet.tenancy.legal_models import Mandate

    foreign = Mandate.objects.filter(grantee_user=other_staff).first()

    page = staff_client.post(ADD, {"configuration": "mandate", "mandate": foreign.pk})

    assert page.context["adminform"].form.errors["mandate"]
    assert not CredentialOffer.objects.exists()


def test_the_admin_offers_an_open_review_as_a_deferred_business_identity(
        client, register, open_review, django_user_model):
    operator = django_user_model.objects.create_superuser("root", password=None)
    client.force_login(operator)

    page = client.post(ADD, {"issuer": register.pk, "configuration": "business_identity",
                             "attestation": open_review.pk})

    assert page.status_code == 200, page.context and page.context["adminform"].form.errors
    offer = CredentialOffer.objects.get()
    assert offer.issuer == register and offer.subject == open_review.organisation.did
