"""A stolen signing key (issue #26): the organisation declares it compromised from a time on.
What the key signed after that time fails verification naming the reason (whatever time the
thief wrote into it), what it signed before keeps verifying (the signing log says so), every
passport is re-signed with a new key by the worker (same id, same status entry), and the events
say so. A rotation without compromise keeps the old key verifying."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from credentials import signing
from credentials.did_web import DidResolver, did_document
from credentials.key_store import _signer
from credentials.models import KeyPair
from credentials.suites import get_suite
from passports.models import Passport, PassportEvent, RestrictedCredential
from passports.services import keys as key_service
from passports.services.verification import verify_credential, verify_passport_uncached
from tests.support.factories import api_key, organisation, staff_member
from tests.support.public import issue, make_product
from tests.support.waiting import wait_for_state
from wallet.tenancy.authority import NotAuthorised, actor_of, operator


@pytest.fixture
def org(db):
    return organisation("acme", "Acme Batteries B.V.")


def proof_check(verdict) -> dict:
    return next(check for check in verdict["checks"] if check["check"] == "proof")


def kid(jwt: str) -> str:
    return signing.decode_jwt_parts(jwt)[0]["kid"]


def stolen_key_forgery(org, passport) -> str:
    """What a thief makes with the stolen private key: the passport's credential with another
    claim, backdated, signed outside the service (so in no signing log)."""
    key = KeyPair.objects.get(controller=org.did, key_type="Ed25519", retired_at=None)
    thief = _signer(key.pk, key.verification_method, bytes(key.wrapped_private_key),
                    settings.KEY_ENCRYPTION_KEY)
    credential = signing.decode_jwt_parts(passport.jwt)[1]
    credential["credentialSubject"]["name"] = "A cheaper battery"
    credential["validFrom"] = "2020-01-01T00:00:00Z"  # the thief chooses any time he likes
    return get_suite("vc+jwt").secure(credential, thief)


def test_after_the_compromise_fails_with_the_reason_before_verifies_and_all_is_resigned(
        org, django_capture_on_commit_callbacks):
    before = issue(make_product(org, serial="SN-1"))
    old_key = kid(before.jwt)
    forged = stolen_key_forgery(org, before)
    assert verify_credential(forged)["verified"] is True  # the theft, before anyone knows
    since = timezone.now()
    after = issue(make_product(org, serial="SN-2"))  # signed by us, after the key was taken
    old_before, old_after = before.jwt, after.jwt

    with django_capture_on_commit_callbacks(execute=True):
        outcome = key_service.keys_compromise(organisation=org, since=since,
                                              reason="laptop stolen", actor=operator())

    assert old_key in outcome.compromised and outcome.queued == 2
    # Signed before the compromise: still verifies (its signature is in the signing log).
    assert verify_credential(old_before)["verified"] is True
    # Signed after it, by us: fails, naming the reason.
    verdict = verify_credential(old_after)
    assert verdict["verified"] is False
    assert proof_check(verdict)["code"] == "key_compromised"
    assert "after the key was compromised" in proof_check(verdict)["detail"]
    assert "laptop stolen" in proof_check(verdict)["detail"]
    # The thief's backdated forgery: fails, in no signing log whatever date it carries.
    verdict = verify_credential(forged)
    assert proof_check(verdict)["code"] == "key_compromised"
    assert "no record of making this signature" in proof_check(verdict)["detail"]

    # Every passport re-signed by the new key: same id and status entry, and it verifies.
    for passport, old_jwt in ((before, old_before), (after, old_after)):
        passport.refresh_from_db()
        assert kid(passport.jwt) not in outcome.compromised
        assert kid(passport.jwt) in outcome.new_keys
        old_credential = signing.decode_jwt_parts(old_jwt)[1]
        new_credential = signing.decode_jwt_parts(passport.jwt)[1]
        assert new_credential == old_credential  # same id, credentialStatus, everything
        assert verify_passport_uncached(passport)["verified"] is True
        event = PassportEvent.objects.get(passport=passport, action="resigned")
        assert event.details["old_key"] == old_key and event.reason == "laptop stolen"
        assert event.details["key"] == kid(passport.jwt)

    # The DID document keeps the old key, marked revoked, and no longer asserts with it.
    document = did_document(org.did)
    method = next(m for m in document["verificationMethod"] if m["id"] == old_key)
    assert method["revoked"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert old_key not in document["assertionMethod"]
    assert set(outcome.new_keys) <= set(document["assertionMethod"])

    # Re-running the re-signing changes nothing (idempotent, resumable).
    assert key_service.passports_resign([before.pk, after.pk]) == 0
    assert PassportEvent.objects.filter(action="resigned").count() == 2


def test_embedded_proofs_and_status_lists_are_signed_again(org,
                                                           django_capture_on_commit_callbacks):
    org.embedded_proof = True
    org.save()
    passport = issue(make_product(org, serial="SN-1"))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = key_service.keys_compromise(organisation=org, since=timezone.now(),
                                              reason="key leaked", actor=operator())
    passport.refresh_from_db()
    assert passport.embedded["proof"]["verificationMethod"] in outcome.new_keys
    assert verify_credential(passport.embedded)["verified"] is True
    # The status list the passport points at is signed by a new key too.
    list_jwt = passport.status_list.__class__.objects.get(pk=passport.status_list_id).published
    assert kid(list_jwt) in outcome.new_keys


def test_a_rotation_keeps_the_old_key_verifying(org):
    first = issue(make_product(org, serial="SN-1"))
    new = key_service.keys_rotate(organisation=org, actor=operator())
    second = issue(make_product(org, serial="SN-2"))

    assert kid(second.jwt) in {key.verification_method for key in new}
    assert kid(first.jwt) != kid(second.jwt)
    assert verify_passport_uncached(first)["verified"] is True
    assert verify_passport_uncached(second)["verified"] is True
    document = did_document(org.did)
    assert kid(first.jwt) in document["assertionMethod"]
    assert not any("revoked" in method for method in document["verificationMethod"])
    assert not PassportEvent.objects.filter(action="resigned").exists()


def test_a_foreign_issuer_revoked_key_is_not_trusted(org):
    """Another service's DID document marks its key revoked: this verifier has no log of what
    that key signed when, so it accepts nothing the key signed, and says why (the key is found:
    the refusal names the compromise, not a missing key)."""
    from core.outages import best_effort
    from credentials.errors import KeyCompromised

    document = did_document(org.did)
    foreign = "did:web:other.example:orgs:acme"
    method = {**document["verificationMethod"][0], "id": foreign + "#key-1",
              "controller": foreign, "revoked": "2026-01-01T00:00:00Z"}
    best_effort.set(f"did-web:{foreign}", {"@context": document["@context"], "id": foreign,
                                          "verificationMethod": [method],
                                          "assertionMethod": []}, 60)
    key = DidResolver().public_key(foreign + "#key-1")

    assert not key.verify(b"x" * 64, b"data")  # a wrong signature is still just wrong
    signature = signing.signer_for(org.did).sign(b"data")
    with pytest.raises(KeyCompromised, match="cannot be known outside its issuer"):
        key.verify(signature, b"data")


def test_refused_without_a_mandate_and_for_bad_input_nothing_changes(org):
    clerk = staff_member(org, "clerk", mandates=())
    issue(make_product(org, serial="SN-1"))
    keys_before = list(KeyPair.objects.values_list("pk", "retired_at", "compromised_at"))

    with pytest.raises(NotAuthorised):
        key_service.keys_compromise(organisation=org, since=timezone.now(), reason="x",
                                    actor=actor_of(clerk))
    with pytest.raises(NotAuthorised):
        key_service.keys_rotate(organisation=org, actor=actor_of(clerk))
    for since, reason, code in ((timezone.now() + timedelta(hours=1), "x", "invalid_time"),
                                (timezone.now(), "  ", "reason_required")):
        with pytest.raises(key_service.SigningKeyError) as refused:
            key_service.keys_compromise(organisation=org, since=since, reason=reason,
                                        actor=operator())
        assert refused.value.code == code
    assert list(KeyPair.objects.values_list("pk", "retired_at", "compromised_at")) == keys_before
    assert not PassportEvent.objects.filter(action="resigned").exists()


def test_the_api_declares_a_compromise_and_refuses_bad_input(org, client,
                                                             django_capture_on_commit_callbacks):
    passport = issue(make_product(org, serial="SN-1"))
    token, key = api_key(org)
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}

    answer = client.post("/api/v1/keys/compromise", {"since": "2999-01-01T00:00:00Z",
                                                     "reason": "x"},
                         content_type="application/json", **auth)
    assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json"
    answer = client.post("/api/v1/keys/compromise", {"reason": "x"},
                         content_type="application/json", **auth)
    assert answer.status_code == 400
    assert not KeyPair.objects.filter(compromised_at__isnull=False).exists()

    since = timezone.now().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/keys/compromise", {"since": since, "reason": "leak"},
                             content_type="application/json", **auth)
    assert answer.status_code == 202, answer.content
    assert answer.json()["queued"] == 1
    passport.refresh_from_db()
    assert kid(passport.jwt) in answer.json()["new_keys"]
    listed = client.get("/api/v1/keys/", **auth).json()
    assert {k["id"] for k in listed if k["compromised_at"]} == set(answer.json()["compromised"])


def test_the_admin_asks_for_confirmation_and_a_reason(org, client,
                                                      django_capture_on_commit_callbacks):
    user = staff_member(org, "acme-staff")
    client.force_login(user)
    issue(make_product(org, serial="SN-1"))
    # Made an hour ago: the form takes whole seconds, and the keys must exist at that time.
    KeyPair.objects.update(created_at=timezone.now() - timedelta(hours=1))
    keys = list(KeyPair.objects.filter(controller=org.did).values_list("pk", flat=True))
    url = "/admin/passports/signingkey/"
    page = client.post(url, {"action": "compromise", "_selected_action": keys})
    assert page.status_code == 200 and b"key-confirmation" in page.content
    assert not KeyPair.objects.filter(compromised_at__isnull=False).exists()
    page = client.post(url, {"action": "compromise", "confirm": "compromise",
                             "_selected_action": keys, "since": "", "reason": ""})
    assert page.status_code == 200  # the form again: both fields are required
    assert not KeyPair.objects.filter(compromised_at__isnull=False).exists()

    now = timezone.now().strftime("%Y-%m-%d %H:%M:%S")
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"action": "compromise", "confirm": "compromise",
                                 "_selected_action": keys, "since": now,
                                 "reason": "backup tape lost"}, follow=True)
    assert done.status_code == 200, done.content
    assert [str(m) for m in done.context["messages"]][0].startswith("2 key(s) of Acme")
    assert set(KeyPair.objects.filter(compromised_at__isnull=False)
               .values_list("pk", flat=True)) == set(keys)
    assert set(KeyPair.objects.filter(compromised_at__isnull=False)
               .values_list("compromise_reason", flat=True)) == {"backup tape lost"}


def test_the_command_rotates_and_declares(org, django_capture_on_commit_callbacks):
    issue(make_product(org, serial="SN-1"))
    call_command("signing_keys", "rotate", "acme")
    assert KeyPair.objects.filter(controller=org.did, retired_at__isnull=False).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        call_command("signing_keys", "compromise", "acme", "--since",
                     timezone.now().isoformat(), "--reason", "leak")
    assert KeyPair.objects.filter(controller=org.did, compromised_at__isnull=False).count() == 4
    assert PassportEvent.objects.filter(action="resigned").count() == 1


# --- through the real worker ---------------------------------------------------------------------

RESIGNED_IN_TEST = 600  # enough for several chunks; bench/resign.py re-signs 10,000


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_resigns_every_passport_and_each_verifies_with_the_new_key(org):
    from passports.models import Product
    from passports.services.issuance import passports_request

    products = Product.objects.bulk_create([
        Product(organisation=org, gtin="09506000134352", serial=f"B-{n}", name=f"Widget {n}",
                category="generic", country_of_production="NL", attributes={})
        for n in range(RESIGNED_IN_TEST)])
    passports = passports_request(products=products, actor=operator())
    for passport in passports:
        wait_for_state(passport, Passport.State.ISSUED, seconds=120)
    old_key = kid(Passport.objects.first().jwt)

    outcome = key_service.keys_compromise(organisation=org, since=timezone.now(),
                                          reason="stolen", actor=operator())
    assert outcome.queued == RESIGNED_IN_TEST

    import time
    deadline = time.monotonic() + 180
    while (PassportEvent.objects.filter(action="resigned").count() < RESIGNED_IN_TEST
           and time.monotonic() < deadline):
        time.sleep(0.2)
    resigned = list(Passport.objects.all())
    assert len(resigned) == RESIGNED_IN_TEST
    for passport in resigned:
        assert kid(passport.jwt) in outcome.new_keys and kid(passport.jwt) != old_key
        assert verify_passport_uncached(passport)["verified"] is True
    assert PassportEvent.objects.filter(action="resigned").count() == RESIGNED_IN_TEST


def test_a_signing_chunk_writes_its_signing_log_in_one_statement(org):
    """Every signature is logged (what a compromise later relies on), and a chunk of passports
    costs one write of the log, not one per signature."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from credentials.models import SignatureRecord
    from passports.services.issuance import passports_request, passports_sign

    products = [make_product(org, serial=f"SN-{n}") for n in range(5)]
    passports = passports_request(products=products, actor=operator())
    SignatureRecord.objects.all().delete()  # keep only what the chunk signs
    with CaptureQueriesContext(connection) as queries:
        assert passports_sign([p.pk for p in passports]) == 5
    # Django writes an executemany as one entry ("<n> times: INSERT ...").
    inserts = [q for q in queries.captured_queries
               if 'INSERT INTO "credentials_signaturerecord"' in q["sql"]]
    assert len(inserts) == 1
    signatures = 5 + RestrictedCredential.objects.count()  # each passport's JWT, each group's
    assert SignatureRecord.objects.count() == signatures


def test_the_organisations_evidence_credentials_are_resigned_too(
        db, django_capture_on_commit_callbacks):
    """A compromise re-signs what else the keys signed and the service keeps: a lab's
    conformity credential gets a new proof by the new key, verifies, and says so in its
    events; what the thief signs after the compromise with the old key does not verify."""
    from passports.models import EvidenceEvent
    from tests.support.evidence import conformity_credential, world

    parties = world()
    battery = make_product(parties.batteries)
    dcc = conformity_credential(parties.lab, battery)
    old_jwt, old_key = dcc.jwt, kid(dcc.jwt)
    since = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        key_service.keys_compromise(organisation=parties.lab, since=since,
                                    reason="key leaked", actor=operator())

    dcc.refresh_from_db()
    assert kid(dcc.jwt) != old_key
    assert signing.decode_jwt_parts(dcc.jwt)[1] == signing.decode_jwt_parts(old_jwt)[1]
    assert verify_credential(dcc.jwt)["verified"] is True
    event = EvidenceEvent.objects.get(credential=dcc, action="resigned")
    assert event.details["old_key"] == old_key and event.details["key"] == kid(dcc.jwt)
    # Again: nothing left to re-sign, no second event.
    assert key_service.evidence_resign([dcc.pk]) == 0
    assert EvidenceEvent.objects.filter(credential=dcc, action="resigned").count() == 1
