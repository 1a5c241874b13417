"""Why a passport does not verify, said as what it is: a signing key that is not found, an
issuer DID that cannot be resolved and a signature that does not match are different checks'
details (POST /api/v1/verify/, no key) and different sentences on the page, in every language;
only a real signature mismatch says the passport may have been changed. A DID of this service
from an earlier public address resolves from its own records and verifies. The version list
says what the verdict says."""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.html import escape

from credentials.dids import did_key_for, did_key_verification_method
from credentials.keys import LocalSigner
from credentials.signing import decode_jwt_parts
from credentials.suites.jose import VC_JWT
from passports.api import verifying
from passports.models import Passport
from tests.support.factories import acme_with_legal_details, trust_anchor
from tests.support.public import issue, make_product
from wallet.business.identity.services import attestation_approve, attestation_request

LINK = "/01/09506000134352/21/SN-0001"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
MAY_HAVE_BEEN_CHANGED = ("The digital signature does not match the data: the passport may have "
                         "been changed.")
KEY_NOT_FOUND = ("The signature could not be checked: the manufacturer's signing key was not "
                 "found.")
DID_NOT_RESOLVED = ("The signature could not be checked: the manufacturer's digital identifier "
                    "could not be looked up.")
EARLIER_ADDRESS = ("The signing key belongs to the manufacturer. This service recorded it under "
                   "its earlier web address.")
FOREIGN = "did:web:issuer.invalid"  # .invalid never resolves (RFC 6761): no network involved


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    """Each test makes acme anew, with a new key under the same key id."""
    verifying._keys.clear()


def store(passport: Passport, jwt: str) -> None:
    """What the passport's stored credential is, as the page and partners find it."""
    Passport.objects.filter(pk=passport.pk).update(jwt=jwt)


def credential_of(passport: Passport) -> dict:
    return decode_jwt_parts(passport.jwt)[1]


def signed_with_unknown_key(passport: Passport) -> str:
    """Signed under the manufacturer's DID by a key its DID document does not have."""
    signer = LocalSigner.generate(f"{passport.product.organisation.did}#key-9")
    return VC_JWT.secure(credential_of(passport), signer)


def signed_by_foreign_did(passport: Passport) -> str:
    credential = credential_of(passport)
    credential["issuer"] = {**credential["issuer"], "id": FOREIGN}
    return VC_JWT.secure(credential, LocalSigner.generate(f"{FOREIGN}#key-1"))


def tampered(passport: Passport) -> str:
    """The stored credential with its name changed and its signature kept."""
    header, _payload, signature = passport.jwt.split(".")
    credential = {**credential_of(passport), "name": "Digital Product Passport: changed"}
    payload = base64.urlsafe_b64encode(json.dumps(credential).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def verdict_of(client, jwt: str) -> dict:
    response = client.post("/api/v1/verify/", jwt, content_type="application/vc+jwt")
    assert response.status_code == 200
    return response.json()


def proof_check(verdict: dict) -> dict:
    check, = [c for c in verdict["checks"] if c["check"] == "proof"]
    return check


def in_language(text: str, language: str) -> str:
    with translation.override(language):
        translated = translation.gettext(text)
    assert language == "en" or translated != text, f"{text!r} is not translated to {language}"
    return escape(translated)


def page(client, language: str) -> str:
    response = client.get(f"{LINK}?lang={language}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    return response.content.decode()


def shown_version_line(html: str) -> str:
    """The version list's line of the version the page shows."""
    history = html.split('id="history"', 1)[1].split("</section>", 1)[0]
    line, = [item for item in re.findall(r"<li>(.*?)</li>", history, re.S)
             if 'aria-current="page"' in item]
    return line


@pytest.mark.parametrize(("make", "code", "detail", "sentence"), [
    (signed_with_unknown_key, "key_not_found",
     "issuer key not found: {did} has no verification method {did}#key-9", KEY_NOT_FOUND),
    (signed_by_foreign_did, "did_not_resolved",
     f"issuer's DID could not be resolved: {FOREIGN}: ", DID_NOT_RESOLVED),
    (tampered, "signature_invalid", "signature: invalid", MAY_HAVE_BEEN_CHANGED),
], ids=["unknown-key-id", "unresolvable-foreign-did", "signature-mismatch"])
def test_each_failure_has_its_own_check_detail_and_sentence_in_every_language(
        client, issued, make, code, detail, sentence):
    did = issued.product.organisation.did
    store(issued, make(issued))
    issued.refresh_from_db()

    verdict = verdict_of(client, issued.jwt)

    assert verdict["verified"] is False
    check = proof_check(verdict)
    assert check["ok"] is False and check["code"] == code
    assert check["detail"].startswith(detail.format(did=did)), check["detail"]
    for language in LANGUAGES:
        html = page(client, language)
        assert in_language(sentence, language) in html, language
        if sentence != MAY_HAVE_BEEN_CHANGED:  # never blamed on tampering when it is not
            assert in_language(MAY_HAVE_BEEN_CHANGED, language) not in html, language
        # The version list agrees with the verdict: this version cannot be verified.
        line = shown_version_line(html)
        assert in_language("Cannot verify", language) in line, (language, line)
        assert in_language("Valid", language) not in line, (language, line)


def test_a_passport_signed_at_an_earlier_address_of_the_service_verifies(client, db, settings):
    """The demo battery after PUBLIC_BASE_URL moved from :8000 to :8782: its DID, status list
    and credential id carry the old address, and all of them come from the database."""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    acme = acme_with_legal_details()
    attestation_approve(request=attestation_request(organisation=acme, anchor=trust_anchor(),
                                                    evidence="KvK extract 12345678"))
    battery = make_product(acme)
    passport = issue(battery)
    old_did = battery.organisation.did
    settings.PUBLIC_BASE_URL = "http://localhost:8782"
    assert battery.organisation.did != old_did == "did:web:localhost%3A8000:orgs:acme"

    verdict = verdict_of(client, passport.jwt)

    assert verdict["verified"] is True, verdict["errors"]
    checks = {c["check"]: c for c in verdict["checks"]}
    assert checks["proof"] == {"check": "proof", "ok": True}
    assert checks["issuer"] == {
        "check": "issuer", "ok": True, "code": "earlier_address",
        "detail": f"{old_did} is a DID of this service at its earlier address localhost:8000, "
                  f"resolved from the service's own records"}
    assert checks["status"]["ok"] is True and checks["status"]["detail"] == "valid"
    assert verdict["passport"]["id"] == str(passport.pk)  # its id names the old address too
    assert verdict["issuer"]["trusted"] is True  # the legal person behind the old DID too
    assert verdict["issuer"]["legal_person"]["registry_id"] == "12345678"
    for language in LANGUAGES:
        html = page(client, language)
        assert in_language(EARLIER_ADDRESS, language) in html, language
        assert in_language("Verified", language) in html
        assert in_language("Valid", language) in shown_version_line(html)


def test_a_did_at_an_earlier_address_that_the_service_holds_no_keys_for_is_unknown(client,
                                                                                    issued):
    """An address of this service is never fetched: a DID there that the service holds no
    keys for is not one of its DIDs, and the verdict says so."""
    did = "did:web:localhost%3A8000:orgs:nobody"
    credential = {**credential_of(issued), "issuer": {"id": did, "name": "Nobody"}}
    jwt = VC_JWT.secure(credential, LocalSigner.generate(f"{did}#key-1"))

    check = proof_check(verdict_of(client, jwt))

    assert check["code"] == "did_not_resolved"
    assert check["detail"] == (f"issuer's DID could not be resolved: {did} is not a DID of "
                               f"this service")


def test_a_foreign_did_cannot_borrow_our_keys_by_claiming_an_organisation_of_ours(client,
                                                                                  issued):
    """did:web:<another host>:orgs:acme is not acme: it is resolved where its host says (here:
    nowhere), never from this service's records."""
    impostor = "did:web:issuer.invalid:orgs:acme"
    credential = {**credential_of(issued), "issuer": {"id": impostor, "name": "Acme"}}
    jwt = VC_JWT.secure(credential, LocalSigner.generate(f"{impostor}#key-1"))

    verdict = verdict_of(client, jwt)

    assert verdict["verified"] is False
    assert proof_check(verdict)["code"] == "did_not_resolved"
    assert "passport" not in verdict  # its id names our passport: that does not make it ours


def test_a_credential_that_copies_a_passport_id_is_not_that_passport(client, issued):
    """Signed by its own did:key, it verifies as what it is, without our passport's state."""
    key = LocalSigner.generate()
    did = did_key_for(key.public_key())
    signer = LocalSigner(key._key, did_key_verification_method(did))
    credential = {**credential_of(issued), "issuer": {"id": did, "name": "Copycat"}}
    credential.pop("credentialStatus")
    jwt = VC_JWT.secure(credential, signer)

    verdict = verdict_of(client, jwt)

    assert proof_check(verdict)["ok"] is True
    assert "passport" not in verdict
