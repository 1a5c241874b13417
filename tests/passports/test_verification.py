"""Verifying our own passports: the verdict partners and the public page rely on, including
what only the service knows (superseded versions) and the opt-in embedded proof."""

import pytest

from credentials import schemas
from credentials.signing import decode_jwt_parts
from passports.models import Passport
from passports.services.issuance import passport_request
from passports.services.products import product_create
from passports.services.verification import (
    verify_credential,
    verify_passport_uncached,
)
from tests.support.factories import GTINS, battery_attributes, organisation
from tests.support.public import issue
from wallet.tenancy.authority import operator


@pytest.fixture
def battery(db):
    org = organisation("acme", "Acme Batteries B.V.")
    return product_create(organisation=org, gtin=GTINS[0], serial="B-1", name="Pack 75 kWh",
                          category="battery", country_of_production="NL",
                          attributes=battery_attributes(remainingCapacity=48))


def checks(verdict) -> dict:
    return {c["check"]: c for c in verdict["checks"]}


def test_an_issued_battery_passport_verifies_with_every_check(battery):
    verdict = verify_passport_uncached(issue(battery))

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["format"] == "vc+jwt"
    assert verdict["issuer"]["id"] == battery.organisation.did
    assert checks(verdict)["status"]["detail"] == "valid"
    assert checks(verdict)["schema"] == {"check": "schema", "ok": True,
                                         "schema": "untp-dpp-0.7.0"}


def test_restricted_data_stays_out_of_the_public_passport(battery):
    passport = issue(battery)
    _, public = decode_jwt_parts(passport.jwt)
    restricted = {r.access_group: decode_jwt_parts(r.jwt)[1]
                  for r in passport.restricted_credentials.all()}

    assert "remainingCapacity" not in public["credentialSubject"]["characteristics"]
    assert restricted["legitimate_interest"]["credentialSubject"]["characteristics"][
        "remainingCapacity"] == {"value": 48, "unit": "AMH"}
    assert schemas.schema_errors("untp-dpp-0.7.0", restricted["legitimate_interest"]) == []
    assert verify_credential(passport.restricted_credentials.get().jwt)["verified"] is True


def test_a_superseded_version_still_verifies_and_names_the_current_one(battery):
    first = issue(battery)
    second = issue(battery)
    first.refresh_from_db()

    verdict = verify_passport_uncached(first)

    assert first.state == Passport.State.SUPERSEDED
    assert verdict["verified"] is True
    assert verdict["superseded_by"]["id"] == str(second.pk)
    assert verdict["superseded_by"]["version"] == 2
    assert any(w.startswith("superseded") for w in verdict["warnings"])
    assert "superseded_by" not in verify_passport_uncached(second)


def test_a_pending_passport_cannot_be_verified_yet(battery):
    passport = passport_request(actor=operator(), product=battery)

    verdict = verify_passport_uncached(passport)

    assert verdict["verified"] is False
    assert verdict["errors"] == ["issued: the passport is pending"]


def test_an_organisation_that_opts_in_also_gets_an_eddsa_rdfc_2022_proof(battery):
    battery.organisation.embedded_proof = True
    battery.organisation.save()

    passport = issue(battery)

    proof = passport.embedded["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"].startswith(battery.organisation.did + "#")
    verdict = verify_credential(passport.embedded)
    assert verdict["format"] == "eddsa-rdfc-2022"
    assert verdict["verified"] is True, verdict["errors"]
    tampered = {**passport.embedded, "name": "Something else"}
    assert checks(verify_credential(tampered))["proof"]["ok"] is False


def test_the_default_path_has_no_embedded_proof(battery):
    assert issue(battery).embedded is None


def test_the_extension_context_is_served_and_unknown_versions_are_404(client):
    response = client.get("/contexts/v1")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert "DigitalProductPassport" in response.json()["@context"]
    assert client.get("/contexts/v9").status_code == 404


def test_every_issued_credential_is_lossless_json_ld(battery):
    """vc+jwt does not process JSON-LD, but the credential must still mean what it says: no
    term or type that the contexts leave undefined (pyld would drop it silently)."""
    from credentials import jsonld

    passport = issue(battery)
    documents = [decode_jwt_parts(passport.jwt)[1]] + [
        decode_jwt_parts(r.jwt)[1] for r in passport.restricted_credentials.all()]

    for document in documents:
        assert jsonld.expand(document)  # raises UndefinedTerms naming any undefined term
