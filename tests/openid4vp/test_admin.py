"""Presentation requests in the admin: staff of an organisation make one and read its verdict;
nobody edits a verdict; other organisations do not see it."""

import json

from django.urls import reverse

from openid4vp.models import PresentationRequest
from tests.support.factories import staff_member
from tests.support.openid4vp import IDENTITY_VCT, simple_query

ADD = reverse("admin:openid4vp_presentationrequest_add")
LIST = reverse("admin:openid4vp_presentationrequest_changelist")


def staff(org, name):
    return staff_member(org, name, apps=("openid4vp",), mandates=())


def form(query=None, **fields):
    return {"purpose": "Check the signatory",
            "dcql_query": json.dumps(query or simple_query(["family_name"])),
            "response_mode": "direct_post.jwt", "redirect_uri": "", **fields}


def test_staff_create_a_request_for_their_organisation_and_see_its_link(world, client):
    client.force_login(staff(world.verifier, "vera"))

    response = client.post(ADD, form(), follow=True)

    created = PresentationRequest.objects.get()
    assert created.organisation == world.verifier
    page = response.content.decode()
    assert "openid4vp://?client_id=x509_hash" in page
    assert reverse("openid4vp-request-qr", args=[created.request_token, "svg"]) in page
    assert created.events.get().kind == "created"


def test_an_invalid_query_is_shown_on_the_form_and_nothing_is_stored(world, client):
    client.force_login(staff(world.verifier, "vera"))
    query = {"credentials": [{"id": "x", "format": "mso_mdoc", "meta": {}}]}

    response = client.post(ADD, form(query))

    assert response.status_code == 200
    assert "only dc+sd-jwt" in response.content.decode()
    assert not PresentationRequest.objects.exists()


def test_the_verdict_is_read_only_and_shows_the_disclosed_claims(world, client):
    client.force_login(staff(world.verifier, "vera"))
    client.post(ADD, form())
    created = PresentationRequest.objects.get()
    link = f"openid4vp://?client_id={created.client_id}&request_uri=http://localhost:8000" \
           f"/openid4vp/request/{created.request_token}"
    request = world.wallet.fetch(link)
    world.wallet.answer_query(request, "identity")
    page_url = reverse("admin:openid4vp_presentationrequest_change", args=[created.pk])

    page = client.get(page_url).content.decode()
    edit = client.post(page_url, {"purpose": "changed"})

    assert "verified" in page and "Mustermann" in page and IDENTITY_VCT in page
    assert 'name="purpose"' not in page  # nothing to edit
    assert edit.status_code == 403
    created.refresh_from_db()
    assert created.purpose == "Check the signatory"


def test_other_organisations_do_not_see_the_request(world, client):
    client.force_login(staff(world.verifier, "vera"))
    client.post(ADD, form(), follow=True)
    created = PresentationRequest.objects.get()
    client.force_login(staff(world.other, "otto"))

    listing = client.get(LIST).content.decode()
    detail = client.get(reverse("admin:openid4vp_presentationrequest_change",
                                args=[created.pk]))

    assert created.purpose not in listing
    assert detail.status_code == 302  # the admin's "does not exist" redirect


def test_an_operator_picks_the_organisation(world, client, django_user_model):
    operator = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(operator)

    client.post(ADD, form(organisation=world.acme.pk))

    assert PresentationRequest.objects.get().organisation == world.acme
