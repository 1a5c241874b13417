"""Chains of evidence on one service: a lab's conformity credential, cell passports turned into
a battery by a traceability event, and the battery passport's verdict with its evidence tree."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from credentials import evidence, jsonld, schemas
from credentials.signing import decode_jwt_parts
from passports.models import EvidenceCredential, EvidenceLink, Product
from passports.services.evidence import (
    EvidenceError,
    evidence_link_add,
    evidence_request,
    evidence_revoke,
    transformation_record,
)
from passports.services.status import passport_revoke
from passports.services.verification import verify_credential
from tests.support.api import party
from tests.support.evidence import (
    carbon_footprint_subject,
    cell_products,
    conformity_credential,
    sign_now,
    world,
)
from tests.support.public import issue, make_product
from wallet.tenancy.authority import operator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_caches():
    evidence.clear_caches()
    yield
    evidence.clear_caches()


def battery_with_evidence(parties, cells: int = 3):
    """The battery maker's pack made from `cells` cell passports, with the lab's carbon
    footprint credential linked, and its passport issued."""
    cell_passports = [issue(product) for product in cell_products(parties.cells, cells)]
    battery = make_product(parties.batteries)
    dcc = conformity_credential(parties.lab, battery)
    evidence_link_add(product=battery, url=dcc.credential_url, actor=operator())
    event = sign_now(transformation_record(
        product=battery, inputs=[p.product.digital_link for p in cell_passports],
        actor=operator()))
    return battery, dcc, event, cell_passports, issue(battery)


def branches(verdict, kind):
    return [b for b in verdict["evidence"]["links"] if b.get("kind") == kind]


def test_each_evidence_credential_keeps_every_term_and_conforms_to_its_schema():
    parties = world()
    battery, dcc, event, _, passport = battery_with_evidence(parties, cells=2)
    facility = sign_now(evidence_request(
        organisation=parties.batteries, kind="facility", actor=operator(),
        subject={"name": "Acme Plant Eindhoven", "id": "https://acme.example/facilities/1",
                 "country": "NL", "process": {"code": "2720", "name": "Manufacture of batteries"}}))
    for row, schema in ((dcc, "untp-dcc-0.7.0"), (event, "untp-dte-0.7.0"),
                        (facility, "untp-dfr-0.7.0")):
        _, credential = decode_jwt_parts(row.jwt)
        jsonld.expand(credential)  # raises on any term JSON-LD would drop
        assert schemas.schema_for_types(credential["type"]) == schema
        assert schemas.schema_errors(schema, credential) == []
        verdict = verify_credential(row.jwt)
        assert verdict["verified"], verdict["errors"]
        assert {"check": "schema", "ok": True, "schema": schema} in verdict["checks"]
    _, credential = decode_jwt_parts(passport.jwt)
    jsonld.expand(credential)
    assert schemas.schema_errors("untp-dpp-0.7.0", credential) == []
    subject = credential["credentialSubject"]
    claim = subject["performanceClaim"][0]
    assert claim["name"] == "Carbon footprint"
    assert claim["evidence"][0]["linkURL"] == dcc.credential_url
    assert claim["evidence"][0]["digestMultibase"] == evidence.digest_multibase(
        dcc.jwt.encode())
    assert claim["claimedPerformance"][0]["measure"] == {"value": 61.5, "unit": "KGM"}
    documents = {d["linkURL"]: d for d in subject["relatedDocument"]}
    assert event.credential_url in documents
    _, dte = decode_jwt_parts(event.jwt)
    make = dte["credentialSubject"][0]
    assert make["type"] == ["MakeEvent"]
    assert len(make["inputProduct"]) == 2
    assert make["outputProduct"][0]["product"]["id"] == battery.digital_link


def test_the_battery_passport_verdict_carries_the_whole_tree_verified():
    parties = world()
    _, dcc, event, cells, passport = battery_with_evidence(parties)
    verdict = verify_credential(passport.jwt)
    assert verdict["verified"], verdict["errors"]
    tree = verdict["evidence"]
    assert tree["verified"] and tree["count"] == 5  # the DCC, the event, three cells
    [lab] = branches(verdict, "conformity")
    assert lab["verified"] and lab["hash"] == "match"
    assert lab["claim"]["topic"] == "Carbon footprint"
    assert lab["issuer"] == {"id": parties.lab.did, "name": "Voltcheck Test Laboratory B.V.",
                             "trusted": True, "anchor": parties.register.did,
                             "anchor_name": "Demo Business Register"}
    inputs = branches(verdict, "passport")
    assert len(inputs) == 3 and all(b["verified"] for b in inputs)
    assert {b["issuer"]["name"] for b in inputs} == {"Cellfab GmbH"}
    assert not [w for w in verdict["warnings"] if w.startswith("evidence")]


def test_a_revoked_cell_passport_turns_its_branch_red():
    parties = world()
    _, _, _, cells, passport = battery_with_evidence(parties)
    passport_revoke(passport=cells[1], actor=operator(), reason="thermal runaway in test")
    verdict = verify_credential(passport.jwt)
    red = [b for b in branches(verdict, "passport") if not b["verified"]]
    assert [b["url"] for b in red] == [cells[1].credential_url]
    assert any("revoked" in error for error in red[0]["errors"])
    assert not verdict["evidence"]["verified"]
    assert verdict["verified"]  # the battery passport itself still verifies
    assert any(w.startswith("evidence: ") and "revoked" in w for w in verdict["warnings"])


def test_a_linked_credential_whose_bytes_changed_is_a_hash_mismatch():
    parties = world()
    battery, dcc, _, _, passport = battery_with_evidence(parties, cells=1)
    # The lab's record now serves another (validly signed) credential at the same address.
    other = conformity_credential(parties.lab, battery)
    EvidenceCredential.objects.filter(pk=dcc.pk).update(jwt=other.jwt)
    verdict = verify_credential(passport.jwt)
    [lab] = branches(verdict, "conformity")
    assert lab["hash"] == "mismatch" and not lab["verified"]
    assert any(error.startswith("hash:") for error in lab["errors"])


def test_a_lab_no_anchor_attested_is_an_untrusted_branch():
    parties = world(attested=("cells", "batteries"))
    _, _, _, _, passport = battery_with_evidence(parties, cells=1)
    verdict = verify_credential(passport.jwt)
    [lab] = branches(verdict, "conformity")
    assert not lab["verified"] and lab["issuer"]["trusted"] is False
    assert any(error.startswith("issuer: not trusted") for error in lab["errors"])


def test_a_revoked_conformity_credential_turns_red():
    parties = world()
    _, dcc, _, _, passport = battery_with_evidence(parties, cells=1)
    evidence_revoke(credential=dcc, actor=operator(), reason="wrong sample")
    [lab] = branches(verify_credential(passport.jwt), "conformity")
    assert not lab["verified"] and any("revoked" in e for e in lab["errors"])


def test_only_an_assessment_body_issues_conformity_credentials_and_not_about_itself():
    parties = world()
    product = make_product(parties.batteries)
    with pytest.raises(EvidenceError) as refused:
        evidence_request(organisation=parties.batteries, kind="conformity", actor=operator(),
                         subject=carbon_footprint_subject(product, parties.batteries))
    assert refused.value.code == "not_an_assessment_body"
    with pytest.raises(ValidationError) as own:
        evidence_request(organisation=parties.lab, kind="conformity", actor=operator(),
                         subject=carbon_footprint_subject(product, parties.lab))
    assert "subject.issued_to" in own.value.message_dict
    with pytest.raises(ValidationError) as bad:
        evidence_request(organisation=parties.lab, kind="conformity", actor=operator(),
                         subject={**carbon_footprint_subject(product, parties.batteries),
                                  "value": "low", "assessment_date": "yesterday"})
    assert {"subject.value", "subject.assessment_date"} <= set(bad.value.message_dict)
    assert not EvidenceCredential.objects.exists()


def test_a_credential_that_does_not_verify_is_not_linked():
    parties = world()
    battery = make_product(parties.batteries)
    dcc = conformity_credential(parties.lab, battery)
    evidence_revoke(credential=dcc, actor=operator())
    with pytest.raises(EvidenceError) as refused:
        evidence_link_add(product=battery, url=dcc.credential_url, actor=operator())
    assert refused.value.code == "link_not_verified"
    assert not EvidenceLink.objects.exists()


def test_a_new_version_supersedes_the_previous_one():
    parties = world()
    battery = make_product(parties.batteries)
    first = conformity_credential(parties.lab, battery)
    second = sign_now(evidence_request(
        organisation=parties.lab, kind="conformity", actor=operator(), previous=first,
        subject=carbon_footprint_subject(battery, parties.batteries, value=58.0)))
    first.refresh_from_db()
    assert (second.version, first.state, first.superseded_by_id) == (2, "superseded", second.pk)


def test_the_api_issues_links_and_revokes_evidence(django_capture_on_commit_callbacks):
    parties = world()
    lab, maker = party(parties.lab), party(parties.batteries)
    battery = make_product(parties.batteries)
    with django_capture_on_commit_callbacks(execute=True):
        answer = lab.client.post("/api/v1/evidence/", {
            "kind": "conformity", "subject": carbon_footprint_subject(battery,
                                                                     parties.batteries)},
            format="json")
    assert answer.status_code == 202, answer.json()
    issued = lab.client.get(f"/api/v1/evidence/{answer.json()['id']}/").json()
    assert issued["state"] == "issued" and issued["kind"] == "conformity"
    jwt = lab.client.get(f"/api/v1/evidence/{issued['id']}/credential",
                         HTTP_ACCEPT="application/vc+jwt").content.decode()
    assert decode_jwt_parts(jwt)[1]["type"][-1] == "DigitalConformityCredential"
    # The manufacturer links it; the link holds the hash of what the public address serves.
    public = maker.client.get(f"/evidence/{issued['id']}", HTTP_ACCEPT="application/vc+jwt")
    assert public.status_code == 200 and public.content.decode() == jwt
    linked = maker.client.post(f"/api/v1/products/{battery.pk}/evidence-links",
                               {"url": issued["credential_url"]}, format="json")
    assert linked.status_code == 201, linked.json()
    assert linked.json()["digest"] == evidence.digest_multibase(jwt.encode())
    assert linked.json()["role"] == "claim"
    # Only its issuer sees or revokes it.
    assert maker.client.get(f"/api/v1/evidence/{issued['id']}/").status_code == 404
    revoked = lab.client.post(f"/api/v1/evidence/{issued['id']}/revoke", {"reason": "recall"},
                              format="json")
    assert revoked.status_code == 202 and revoked.json()["state"] == "revoked"


def test_bad_evidence_input_is_a_problem_and_nothing_is_stored():
    parties = world()
    lab, maker = party(parties.lab), party(parties.batteries)
    answer = lab.client.post("/api/v1/evidence/", {"kind": "conformity", "subject": {
        "name": "x"}}, format="json")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    fields = {error["field"] for error in answer.json()["errors"]}
    assert {"subject.scheme", "subject.issued_to", "subject.assessment_date"} <= fields
    refused = maker.client.post("/api/v1/evidence/", {
        "kind": "conformity", "subject": carbon_footprint_subject(
            make_product(parties.batteries), parties.lab)}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_an_assessment_body"
    battery = Product.objects.get(organisation=parties.batteries)
    unreachable = maker.client.post(f"/api/v1/products/{battery.pk}/evidence-links",
                                    {"url": "https://127.0.0.1:1/evidence/x"}, format="json")
    assert (unreachable.status_code, unreachable.json()["code"]) == (422, "link_unreachable")
    assert not EvidenceCredential.objects.exists() and not EvidenceLink.objects.exists()


def test_the_verify_api_returns_the_tree():
    parties = world()
    _, _, _, _, passport = battery_with_evidence(parties, cells=2)
    answer = party(parties.lab).client.post("/api/v1/verify/", {"credential": passport.jwt},
                                            format="json")
    tree = answer.json()["evidence"]
    assert tree["verified"] and tree["count"] == 4
    assert {branch["kind"] for branch in tree["links"]} == {"conformity", "traceability",
                                                           "passport"}


PAGE_WORDS = {
    "en": ("Carbon footprint: attested by Voltcheck Test Laboratory B.V., verified",
           "NMC811 cell: 2 passports from Cellfab GmbH, verified",
           "NMC811 cell: 2 passports from Cellfab GmbH, 1 not verified: revoked"),
    "nl": ("Carbon footprint: bevestigd door Voltcheck Test Laboratory B.V., geverifieerd",
           "NMC811 cell: 2 paspoorten van Cellfab GmbH, geverifieerd",
           "NMC811 cell: 2 paspoorten van Cellfab GmbH, 1 niet geverifieerd: ingetrokken"),
    "de": ("Carbon footprint: bestätigt von Voltcheck Test Laboratory B.V., bestätigt",
           "NMC811 cell: 2 Pässe von Cellfab GmbH, bestätigt",
           "NMC811 cell: 2 Pässe von Cellfab GmbH, 1 nicht bestätigt: widerrufen"),
    "fr": ("Carbon footprint : attesté par Voltcheck Test Laboratory B.V., vérifié",
           "NMC811 cell : 2 passeports de Cellfab GmbH, vérifié",
           "NMC811 cell : 2 passeports de Cellfab GmbH, 1 non vérifié : révoqué"),
}


def test_the_page_says_what_backs_the_passport_in_four_languages(client):
    from django.core.cache import cache

    parties = world()
    battery, _, _, cells, _ = battery_with_evidence(parties, cells=2)
    for lang, (claim, inputs, _) in PAGE_WORDS.items():
        html = client.get(f"{battery.digital_link}?lang={lang}",
                          HTTP_ACCEPT="text/html").content.decode()
        assert claim in html and inputs in html, lang
    passport_revoke(passport=cells[0], actor=operator(), reason="recall")
    evidence.clear_caches()
    cache.clear()
    from passports import views

    views._rendered.clear()
    for lang, (_, _, revoked) in PAGE_WORDS.items():
        html = client.get(f"{battery.digital_link}?lang={lang}",
                          HTTP_ACCEPT="text/html").content.decode()
        assert revoked in html, lang
