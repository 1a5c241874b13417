"""The verifier: one verdict shape for every format, every failure named by its check."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from credentials.dids import StaticKeyResolver, did_key_for, did_key_verification_method
from credentials.keys import LocalSigner
from credentials.status_list import Bitstring, TokenStatusList
from credentials.suites import get_suite
from credentials.verifier import Verifier

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
STATUS_URL = "https://issuer.example/status/1"
TOKEN_URL = "https://issuer.example/status/2"


@pytest.fixture
def signer():
    key = LocalSigner.generate()
    did = did_key_for(key.public_key())
    return LocalSigner(key._key, did_key_verification_method(did))


def issuer_did(signer) -> str:
    return signer.verification_method.split("#")[0]


def credential(signer, **overrides) -> dict:
    base = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "id": "urn:uuid:6f1c1b9a-0d52-4a39-9ad2-1a2b3c4d5e6f",
        "issuer": {"id": issuer_did(signer), "name": "Acme Batteries B.V."},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://example.com/01/09506000134352"},
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                             "statusListIndex": 42, "statusListCredential": STATUS_URL},
    }
    base.update(overrides)
    return base


@dataclass
class ListView:
    issuer: str
    purpose: str | None
    codec: object

    def status(self, index: int) -> int:
        return int(self.codec.get(index))


class Lists:
    """Status lists as a fetcher would return them after verifying their proofs."""

    def __init__(self, issuer: str):
        self.revocation = ListView(issuer, "revocation", Bitstring())
        self.token_view = ListView(issuer, None, TokenStatusList(bits=2))

    def bitstring(self, url):
        return self.revocation

    def token(self, uri):
        return self.token_view


def checks(verdict) -> dict:
    return {c["check"]: c for c in verdict["checks"]}


def verifier(signer, lists=None, trust=None) -> Verifier:
    return Verifier(keys=StaticKeyResolver(), status=lists or Lists(issuer_did(signer)),
                    trust=trust)


def test_a_valid_vc_jwt_is_verified_with_every_check_named(signer):
    jwt = get_suite("vc+jwt").secure(credential(signer), signer)

    verdict = verifier(signer).verify(jwt, now=NOW)

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["format"] == "vc+jwt"
    assert [c["check"] for c in verdict["checks"]] == \
        ["proof", "issuer", "validity_period", "status", "schema"]
    assert verdict["issuer"]["id"] == issuer_did(signer)
    assert verdict["issuer"]["name"] == "Acme Batteries B.V."
    assert verdict["credential"]["id"] == "urn:uuid:6f1c1b9a-0d52-4a39-9ad2-1a2b3c4d5e6f"


def test_the_envelope_and_the_compact_form_give_the_same_verdict(signer):
    from credentials.signing import envelope

    jwt = get_suite("vc+jwt").secure(credential(signer), signer)

    assert verifier(signer).verify(envelope(jwt), now=NOW)["verified"] is True


def test_a_tampered_credential_fails_the_proof_check(signer):
    jwt = get_suite("vc+jwt").secure(credential(signer), signer)
    header, payload, signature = jwt.split(".")
    forged = ".".join([header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"),
                       signature])

    verdict = verifier(signer).verify(forged, now=NOW)

    assert verdict["verified"] is False
    assert verdict["checks"][0]["check"] == "proof"
    assert verdict["checks"][0]["ok"] is False


def test_an_expired_credential_says_expired(signer):
    jwt = get_suite("vc+jwt").secure(credential(signer, validUntil="2026-02-01T00:00:00Z"),
                                     signer)

    verdict = verifier(signer).verify(jwt, now=NOW)

    assert verdict["verified"] is False
    assert checks(verdict)["validity_period"] == \
        {"check": "validity_period", "ok": False, "detail": "expired"}


def test_a_revoked_credential_says_revoked(signer):
    lists = Lists(issuer_did(signer))
    lists.revocation.codec.set(42)
    jwt = get_suite("vc+jwt").secure(credential(signer), signer)

    verdict = verifier(signer, lists).verify(jwt, now=NOW)

    assert verdict["verified"] is False
    assert checks(verdict)["status"] == {"check": "status", "ok": False,
                                         "purpose": "revocation", "detail": "revoked"}


def test_the_w3c_string_index_is_accepted_too(signer):
    lists = Lists(issuer_did(signer))
    lists.revocation.codec.set(42)
    entry = credential(signer)["credentialStatus"] | {"statusListIndex": "42"}
    jwt = get_suite("vc+jwt").secure(credential(signer, credentialStatus=entry), signer)

    assert checks(verifier(signer, lists).verify(jwt, now=NOW))["status"]["detail"] == "revoked"


def test_a_status_list_from_another_issuer_is_refused(signer):
    lists = Lists("did:web:someone-else.example")
    jwt = get_suite("vc+jwt").secure(credential(signer), signer)

    status = checks(verifier(signer, lists).verify(jwt, now=NOW))["status"]

    assert status["ok"] is False
    assert "not by the credential's issuer" in status["detail"]


def test_an_unknown_issuer_key_fails_the_proof(signer):
    stranger = LocalSigner.generate("did:web:unknown.example#key-1")
    jwt = get_suite("vc+jwt").secure(
        credential(signer, issuer="did:web:unknown.example"), stranger)

    verdict = verifier(signer).verify(jwt, now=NOW)

    assert verdict["verified"] is False
    assert checks(verdict)["proof"]["ok"] is False
    assert "did:web:unknown.example" in checks(verdict)["proof"]["detail"]


@pytest.mark.parametrize("garbage", [
    "", "not a credential", "a.b.c", "{not json", b"\xff\xfe", 42, None, [], {"foo": "bar"},
    {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]},
    "eyJhbGciOiJub25lIn0.eyJ9.", "x" * 10000 + "~",
])
def test_garbage_never_raises_and_names_the_failing_check(signer, garbage):
    verdict = verifier(signer).verify(garbage, now=NOW)

    assert verdict["verified"] is False
    assert verdict["errors"]
    assert verdict["checks"][0]["ok"] is False


def test_a_credential_breaking_vcdm2_rules_fails_the_schema_check(signer):
    jwt = get_suite("vc+jwt").secure(credential(signer, validFrom="yesterday"), signer)

    schema = checks(verifier(signer).verify(jwt, now=NOW))["schema"]

    assert schema["ok"] is False
    assert "validFrom" in schema["detail"]


def test_a_trusted_issuer_carries_its_legal_person(signer):
    class Registry:
        def legal_person(self, issuer, *, now):
            return {"name": "Acme Batteries B.V.", "registry_id": "KVK-12345678",
                    "anchor": "did:web:register.example"}, ""

    jwt = get_suite("vc+jwt").secure(credential(signer), signer)

    verdict = verifier(signer, trust=Registry()).verify(jwt, now=NOW)

    assert verdict["issuer"]["trusted"] is True
    assert verdict["issuer"]["legal_person"]["registry_id"] == "KVK-12345678"


def test_an_issuer_without_attestation_verifies_but_is_not_trusted(signer):
    class Registry:
        def legal_person(self, issuer, *, now):
            return None, "no identity credential from a trusted anchor"

    jwt = get_suite("vc+jwt").secure(credential(signer), signer)

    verdict = verifier(signer, trust=Registry()).verify(jwt, now=NOW)

    assert verdict["verified"] is True
    assert verdict["issuer"]["trusted"] is False
    assert any("no identity credential" in w for w in verdict["warnings"])


def test_sd_jwt_vc_suspended_through_its_token_status_list(signer):
    lists = Lists(issuer_did(signer))
    sd_jwt = get_suite("dc+sd-jwt").secure(
        {"vct": "https://example.com/vct/business-identity", "iss": issuer_did(signer),
         "legal_name": "Acme Batteries B.V.",
         "status": {"status_list": {"idx": 7, "uri": TOKEN_URL}}},
        signer, disclosable=["legal_name"])
    lists.token_view.codec.set(7, 2)  # suspended

    verdict = verifier(signer, lists).verify(sd_jwt, now=datetime.now(UTC))

    assert verdict["format"] == "dc+sd-jwt"
    assert checks(verdict)["status"]["detail"] == "suspended"
    assert checks(verdict)["status"]["purpose"] == "suspension"
    lists.token_view.codec.set(7, 0)
    assert verifier(signer, lists).verify(sd_jwt, now=datetime.now(UTC))["verified"] is True


def test_an_embedded_data_integrity_proof_is_verified(signer):
    secured = get_suite("eddsa-rdfc-2022").secure(credential(signer), signer)

    verdict = verifier(signer).verify(secured, now=NOW)

    assert verdict["format"] == "eddsa-rdfc-2022"
    assert verdict["verified"] is True, verdict["errors"]


def test_presentation_credentials_each_get_a_verdict(signer):
    jwt = get_suite("vc+jwt").secure(credential(signer), signer)
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiablePresentation"], "holder": issuer_did(signer),
                    "verifiableCredential": [jwt]}
    vp = get_suite("vp+jwt").secure(presentation, signer, challenge="n-1", domain="verifier.x")

    verdict = verifier(signer).verify(vp, now=NOW + timedelta(seconds=1), challenge="n-1",
                                      domain="verifier.x")

    assert verdict["verified"] is True, verdict["errors"]
    assert len(verdict["credentials"]) == 1
    assert verdict["credentials"][0]["format"] == "vc+jwt"
    wrong = verifier(signer).verify(vp, now=NOW, challenge="other", domain="verifier.x")
    assert wrong["verified"] is False
