"""The W3C VC-API endpoints: issue as the key's organisation, verify credentials and
presentations with VC-API request and response shapes."""

from credentials.signing import decode_jwt_parts
from passports.api.schema import credential_examples
from tests.support.formats import vp_jwt, world_for

V2 = "https://www.w3.org/ns/credentials/v2"


def unsecured(issuer=None) -> dict:
    credential = {"@context": [V2], "type": ["VerifiableCredential"],
                  "credentialSubject": {"id": "https://example.com/01/09506000134352"}}
    if issuer:
        credential["issuer"] = issuer
    return credential


def test_issue_signs_as_the_keys_organisation_and_the_result_verifies(acme, anonymous):
    response = acme.client.post("/credentials/issue", {
        "credential": unsecured(), "options": {"credentialId": "urn:uuid:1234"}}, format="json")

    assert response.status_code == 201, response.content
    secured = response.json()["verifiableCredential"]
    assert secured["type"] == "EnvelopedVerifiableCredential"
    _header, credential = decode_jwt_parts(secured["id"].split(",", 1)[1])
    assert credential["issuer"] == acme.organisation.did
    assert credential["id"] == "urn:uuid:1234"
    assert "validFrom" in credential
    result = anonymous.post("/credentials/verify", {"verifiableCredential": secured},
                            format="json").json()
    assert result["verified"] is True, result["errors"]
    assert result["checks"][:3] == ["proof", "issuer", "validity_period"]
    assert result["errors"] == [] and result["problemDetails"] == []
    assert result["verdict"]["issuer"]["id"] == acme.organisation.did


def test_issue_refuses_another_issuer_unknown_contexts_and_options(acme, other):
    for body, field, code in [
        ({"credential": unsecured(other.organisation.did)}, "credential.issuer",
         "issuer_mismatch"),
        ({"credential": {**unsecured(), "@context": [V2, "https://unknown.example/v1"]}},
         "credential.@context", "unknown_context"),
        ({"credential": unsecured(), "options": {"mandatoryPointers": ["/issuer"]}},
         "options.mandatoryPointers", "unknown_field"),
        ({"credential": {"@context": ["https://www.w3.org/2018/credentials/v1"]}},
         "credential", "invalid_credential"),
    ]:
        response = acme.client.post("/credentials/issue", body, format="json")
        assert response.status_code == 400, response.content
        assert (field, code) in {(e.get("field"), e["code"]) for e in response.json()["errors"]}


def test_verify_reports_failures_as_400_with_checks_errors_and_problem_details(anonymous,
                                                                              passport):
    forged = passport.jwt[:-6] + ("AAAAAA" if not passport.jwt.endswith("AAAAAA") else "BBBBBB")

    response = anonymous.post("/credentials/verify", {"verifiableCredential": forged},
                              format="json")
    result = response.json()

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert result["code"] == "verification_failed" and "proof" in result["detail"]
    assert result["verified"] is False
    assert "proof" in result["checks"]
    assert result["errors"][0]["code"] == "proof"
    assert result["problemDetails"][0]["title"] == "proof check failed"


def test_verify_presentation_binds_challenge_and_domain(anonymous, passport):
    presentation = vp_jwt(world_for(passport), "valid")

    good = anonymous.post("/presentations/verify", {
        "verifiablePresentation": presentation,
        "options": {"challenge": "c-1", "domain": "verifier.example"}}, format="json").json()
    replayed = anonymous.post("/presentations/verify", {
        "verifiablePresentation": presentation,
        "options": {"challenge": "another", "domain": "verifier.example"}}, format="json")

    assert good["verified"] is True, good["errors"]
    assert good["verdict"]["credentials"][0]["verified"] is True
    assert replayed.status_code == 400
    assert replayed.json()["verified"] is False


def test_a_request_without_its_member_is_400(anonymous):
    for path in ("/credentials/verify", "/presentations/verify"):
        response = anonymous.post(path, {"credential": "x"}, format="json")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"


def test_every_documented_example_has_a_valid_proof(anonymous):
    for name, secured in credential_examples().items():
        field = "presentation" if name == "vp+jwt" else "credential"
        body = {field: secured}
        if field == "presentation":
            body.update(challenge="6e62f66e-67de-11eb-b490-ef3eeefa55f2",
                        domain="verifier.example")
        verdict = anonymous.post("/api/v1/verify/", body, format="json").json()
        proof = verdict["checks"][0]
        assert proof == {"check": "proof", "ok": True}, (name, verdict["errors"])
