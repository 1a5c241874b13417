"""The VC-API issuer refuses what VC Data Model 2.0 forbids (the W3C VCDM 2.0 suite's negative
inputs), naming the rule; conforming variants are still signed."""

import pytest

V2 = "https://www.w3.org/ns/credentials/v2"
SUBJECT = {"id": "did:example:subject"}


def credential(**fields) -> dict:
    return {"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": SUBJECT,
            **fields}


REFUSED = [
    ("context entry a number", {"@context": [V2, 123192875]}, "@context[1]"),
    ("context entry not a URL", {"@context": [V2, "https ://not-a-url/v1"]}, "@context[1]"),
    ("inline context redefines a protected term",
     {"@context": [V2, {"VerifiableCredential": "https://example.org/#Bad"}]}, "protected"),
    ("a term protected by an earlier inline context redefined",
     {"@context": [V2, {"@protected": True, "ExampleVC": "https://example.org/#A"},
                   {"ExampleVC": "https://example.org/#B"}],
      "type": ["VerifiableCredential", "ExampleVC"]}, "protected"),
    ("type mapped to a non-URL",
     {"@context": [V2, {"ExampleVC": "https ://not-a-url#ExampleVC"}],
      "type": ["VerifiableCredential", "ExampleVC"]}, "not a URL"),
    ("type unmapped with @vocab off",
     {"@context": [V2, {"@vocab": None}], "type": ["VerifiableCredential", "ExampleVC"]},
     "not defined"),
    ("two ids", {"id": ["https://example.org/1", "https://example.net/1"]}, "id:"),
    ("null id", {"id": None}, "id:"),
    ("null issuer", {"issuer": None}, "issuer:"),
    ("two subject ids", {"credentialSubject": {"id": ["did:example:1", "did:example:2"]}},
     "credentialSubject.id"),
    ("empty subject", {"credentialSubject": {}}, "credentialSubject"),
    ("an empty subject among others", {"credentialSubject": [SUBJECT, {}]},
     "credentialSubject"),
    ("termsOfUse without a type", {"termsOfUse": {}}, "termsOfUse.type"),
    ("evidence without a type", {"evidence": {}}, "evidence.type"),
    ("refreshService without a type", {"refreshService": {"id": "did:example:r"}},
     "refreshService.type"),
    ("credentialSchema without a type", {"credentialSchema": {"id": "did:example:s"}},
     "credentialSchema.type"),
    ("credentialSchema without an id", {"credentialSchema": {"type": "JsonSchema"}},
     "credentialSchema.id"),
    ("credentialStatus with two ids",
     {"credentialStatus": {"id": ["did:example:1", "did:example:2"], "type": "X"}},
     "credentialStatus.id"),
    ("credentialStatus with a numeric type",
     {"credentialStatus": {"id": "did:example:status", "type": 2}}, "credentialStatus.type"),
    ("name with an extra property", {"name": {"@value": "n", "@language": "en", "x": 1}},
     "name:"),
    ("issuer description with an extra property",
     {"issuer": {"id": "ISSUER", "description": {"@value": "d", "extra": "e"}}},
     "issuer.description"),
    ("relatedResource as strings", {"relatedResource": ["https://example.org/r"]},
     "relatedResource"),
    ("relatedResource without an id", {"relatedResource": [{"digestMultibase": "uAAAA"}]},
     "relatedResource.id"),
    ("relatedResource twice",
     {"relatedResource": [{"id": "https://example.org/r", "digestSRI": "sha384-A"},
                          {"id": "https://example.org/r", "digestMultibase": "uAAAA"}]},
     "twice"),
    ("a malformed BitstringStatusListEntry anywhere",
     {"statusEntry": {"type": "BitstringStatusListEntry", "statusListIndex": True,
                      "statusListCredential": "https://example.com"}},
     "statusListIndex"),
    ("relatedResource without a digest", {"relatedResource": [{"id": "https://example.org/r"}]},
     "digest"),
]


@pytest.mark.parametrize(("fields", "rule"), [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_issue_refuses_what_the_data_model_forbids_naming_the_rule(acme, fields, rule):
    if isinstance(fields.get("issuer"), dict):
        fields = {**fields, "issuer": {**fields["issuer"], "id": acme.organisation.did}}

    response = acme.client.post("/credentials/issue", {"credential": credential(**fields)},
                                format="json")

    assert response.status_code == 400, response.content
    messages = [error["detail"] for error in response.json()["errors"]]
    assert any(rule in message and "§" in message for message in messages), messages


@pytest.mark.parametrize("fields", [
    {"name": [{"@value": "Name", "@language": "en", "@direction": "ltr"}, "plain"]},
    {"credentialSchema": {"id": "https://example.org/schema", "type": "JsonSchema"}},
    {"credentialStatus": {"type": "ExampleStatus"}},
    {"relatedResource": [{"id": "https://example.org/r", "digestSRI": "sha384-A"}]},
    {"@context": [V2, {"@protected": True, "ExampleVC": "https://example.org/#A"}],
     "type": ["VerifiableCredential", "ExampleVC"]},
])
def test_issue_signs_the_conforming_variants(acme, fields):
    response = acme.client.post("/credentials/issue", {"credential": credential(**fields)},
                                format="json")

    assert response.status_code == 201, response.content


def test_issue_refuses_a_credential_without_subject_in_either_data_model(acme):
    v1 = {"@context": ["https://www.w3.org/2018/credentials/v1"],
          "type": ["VerifiableCredential"]}
    for document, options in [(v1, {"cryptosuite": "eddsa-rdfc-2022"}),
                              ({"@context": [V2], "type": ["VerifiableCredential"]}, {})]:
        response = acme.client.post("/credentials/issue",
                                    {"credential": document, "options": options}, format="json")

        assert response.status_code == 400, response.content
        assert "credentialSubject: required (§4.8 Credential Subject)" in [
            error["detail"] for error in response.json()["errors"]]
