"""Status lists, published: changes recorded and folded into signed lists, served at
/status/<uuid> for caches and CDNs, read back by verifiers (ours and foreign ones, over guarded
HTTPS), with no change ever lost when publishers and allocators race on PostgreSQL."""

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from credentials import jose
from credentials.did_web import DidResolver
from credentials.dids import did_key_for, did_key_verification_method
from credentials.encoding import b64url_encode
from credentials.errors import CredentialError
from credentials.keys import LocalSigner
from credentials.models import StatusChange, StatusList
from credentials.signing import decode_jwt_parts
from credentials.status_fetcher import StatusFetcher, fetch_text_https, read_status_list
from credentials.status_list import Bitstring, TokenStatus, TokenStatusList
from credentials.status_registry import (
    LIST_SIZE,
    TTL_SECONDS,
    StatusChangeRefused,
    allocate,
    status_change,
    status_changes,
    status_list_publish,
    status_list_url,
    status_lists_publish_due,
    token_entry_allocate,
    token_status_set,
)
from credentials.suites import get_suite
from credentials.tasks import publish_due_status_lists
from credentials.verifier import Verifier
from tests.support.credential_fixtures import Network
from tests.support.environment import ROOT, _database_url_for_worker, postgres_only
from wallet.tenancy.services import organisation_create


@pytest.fixture
def org(db):
    return organisation_create(slug="acme", legal_name="Acme Batteries B.V.")


def fetch(client, list_id, **headers):
    return client.get(f"/status/{list_id}", headers=headers)


def decode_bitstring(jwt: str) -> tuple[dict, Bitstring]:
    _, credential = decode_jwt_parts(jwt)
    return credential, Bitstring.decode(credential["credentialSubject"]["encodedList"])


def checks(verdict) -> dict:
    return {c["check"]: c for c in verdict["checks"]}


def own_verifier() -> Verifier:
    return Verifier(keys=DidResolver(allow_remote=False), status=StatusFetcher())


# --- publishing and serving -------------------------------------------------------------------

def test_a_revocation_is_served_as_a_signed_bitstring_credential(
        org, client, django_capture_on_commit_callbacks):
    entries = allocate(org.did, count=3)
    status_list, revoked = entries[0][0], entries[1][1]

    with django_capture_on_commit_callbacks(execute=True):
        status_change(status_list.pk, revoked, 1)
    response = fetch(client, status_list.pk)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    header, _ = decode_jwt_parts(response.content.decode())
    assert header["typ"] == "vc+jwt" and header["kid"].startswith(org.did + "#")
    credential, bits = decode_bitstring(response.content.decode())
    url = status_list_url(status_list.pk)
    assert credential["id"] == url
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["issuer"] == org.did
    assert credential["validFrom"] < credential["validUntil"]
    subject = credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["id"] == f"{url}#list"
    assert subject["statusPurpose"] == "revocation" and subject["ttl"] == TTL_SECONDS * 1000
    assert len(bits) == LIST_SIZE and bits.count() == 1 and bits.get(revoked)
    # Its own proof verifies, like any verifier would check it.
    view, ttl = read_status_list(response.content.decode(), "bitstring", url=url,
                                 keys=DidResolver(allow_remote=False))
    assert (view.issuer, view.purpose, ttl) == (org.did, "revocation", TTL_SECONDS)
    assert [view.status(index) for _, index in entries] == [0, 1, 0]


def test_json_clients_get_the_enveloped_credential(org, client):
    status_list = allocate(org.did)[0][0]

    jwt = fetch(client, status_list.pk)
    enveloped = fetch(client, status_list.pk, accept="application/vc")

    assert enveloped["Content-Type"] == "application/vc"
    assert json.loads(enveloped.content) == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+jwt," + jwt.content.decode()}
    assert enveloped["ETag"] != jwt["ETag"]
    assert "Accept" in enveloped["Vary"]
    view, _ = read_status_list(enveloped.content.decode(), "bitstring",
                               url=status_list_url(status_list.pk),
                               keys=DidResolver(allow_remote=False))
    assert view.issuer == org.did


def test_conditional_requests_are_answered_304_until_the_list_changes(
        org, client, django_capture_on_commit_callbacks):
    status_list, index = allocate(org.did)[0]
    first = fetch(client, status_list.pk)
    assert first["Cache-Control"] == f"public, max-age={TTL_SECONDS}"
    assert first["Last-Modified"] and first["ETag"]

    not_modified = fetch(client, status_list.pk, if_none_match=first["ETag"])
    since = fetch(client, status_list.pk, if_modified_since=first["Last-Modified"])

    assert not_modified.status_code == since.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == first["ETag"]
    assert not_modified["Cache-Control"] == first["Cache-Control"]

    with django_capture_on_commit_callbacks(execute=True):
        status_change(status_list.pk, index, 1)
    changed = fetch(client, status_list.pk, if_none_match=first["ETag"])

    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert decode_bitstring(changed.content.decode())[1].get(index)


def test_unknown_lists_are_404_and_only_reads_are_allowed(org, client):
    status_list = allocate(org.did)[0][0]

    assert client.get(f"/status/{uuid.uuid4()}").status_code == 404
    assert client.head(f"/status/{status_list.pk}").status_code == 200
    assert client.post(f"/status/{status_list.pk}").status_code == 405


def test_a_token_status_list_is_served_as_a_statuslist_jwt(org, client,
                                                          django_capture_on_commit_callbacks):
    entry = token_entry_allocate(org.did)

    with django_capture_on_commit_callbacks(execute=True):
        token_status_set(entry, TokenStatus.SUSPENDED)
    response = fetch(client, entry.list_id)

    assert response["Content-Type"] == "application/statuslist+jwt"
    header, claims = decode_jwt_parts(response.content.decode())
    assert header["typ"] == "statuslist+jwt" and header["kid"].startswith(org.did + "#")
    assert claims["sub"] == entry.uri and claims["iss"] == org.did
    assert claims["iat"] < claims["exp"] and claims["ttl"] == TTL_SECONDS
    assert claims["status_list"]["bits"] == 2
    assert TokenStatusList.from_claim(claims["status_list"]).get(entry.index) == 2
    view, _ = read_status_list(response.content.decode(), "token", url=entry.uri,
                               keys=DidResolver(allow_remote=False))
    assert view.status(entry.index) == TokenStatus.SUSPENDED


def test_a_burst_of_changes_is_signed_once_and_an_unchanged_list_not_again(
        org, django_capture_on_commit_callbacks):
    entries = allocate(org.did, count=50)
    status_list = entries[0][0]

    with django_capture_on_commit_callbacks(execute=True):
        status_changes((status_list.pk, index, 1) for _, index in entries)
    status_list.refresh_from_db()
    signed = status_list.published

    assert (status_list.version, status_list.published_version) == (1, 1)
    assert decode_bitstring(signed)[1].count() == 50
    assert not StatusChange.objects.exists()
    assert status_list_publish(status_list.pk) is False
    status_list.refresh_from_db()
    assert status_list.published == signed


def test_a_change_is_checked_against_its_list(org):
    status_list = allocate(org.did)[0][0]

    with pytest.raises(StatusChangeRefused):
        status_change(status_list.pk, LIST_SIZE, 1)
    with pytest.raises(StatusChangeRefused):
        status_change(status_list.pk, 0, 2)  # one bit per entry
    with pytest.raises(StatusChangeRefused):
        status_change(uuid.uuid4(), 0, 1)


def test_the_sweep_publishes_what_a_lost_task_left_pending(org):
    status_list, index = allocate(org.did)[0]
    status_list_publish(status_list.pk)
    # The change commits but its publication is never scheduled (on-commit callbacks are not
    # run here, as if the broker had been down), and it is old enough for the sweep.
    status_change(status_list.pk, index, 1)
    StatusChange.objects.update(created_at=datetime.now(UTC) - timedelta(seconds=10))

    assert status_lists_publish_due() == [str(status_list.pk)]
    publish_due_status_lists()

    status_list.refresh_from_db()
    assert decode_bitstring(status_list.published)[1].get(index)
    assert status_lists_publish_due() == []


def test_the_sweep_signs_new_lists_and_re_signs_old_ones_before_they_expire(org):
    status_list = allocate(org.did)[0][0]
    assert status_lists_publish_due() == [str(status_list.pk)]  # never published
    publish_due_status_lists()
    status_list.refresh_from_db()
    first = status_list.published
    assert status_lists_publish_due() == []

    StatusList.objects.update(published_at=datetime.now(UTC) - timedelta(hours=13))
    publish_due_status_lists()

    status_list.refresh_from_db()
    assert status_list.published_at > datetime.now(UTC) - timedelta(minutes=1)
    assert status_list.published_version == status_list.version == 0
    valid_until = decode_jwt_parts(status_list.published)[1]["validUntil"]
    assert valid_until >= decode_jwt_parts(first)[1]["validUntil"]


def test_a_full_list_is_followed_by_a_new_one_without_reusing_an_index(org):
    entries = allocate(org.did, count=LIST_SIZE + 2)

    lists = StatusList.objects.filter(issuer=org.did).order_by("created_at")
    assert [(sl.allocated, sl.size) for sl in lists] == [(LIST_SIZE, LIST_SIZE),
                                                         (2, LIST_SIZE)]
    first = {index for sl, index in entries if sl.pk == lists[0].pk}
    assert first == set(range(LIST_SIZE))  # every index once, in a keyed random order
    assert [index for _, index in entries[:5]] != list(range(5))


# --- our own lists, read by the verifier --------------------------------------------------------

def sd_jwt_vc(org, entry) -> str:
    from credentials.key_store import signer_for

    return get_suite("dc+sd-jwt").secure(
        {"vct": "https://example.com/vct/business-identity", "iss": org.did,
         "legal_name": "Acme Batteries B.V."},
        signer_for(org.did), disclosable=["legal_name"], status=entry.reference())


def test_an_sd_jwt_vc_is_suspended_reinstated_and_revoked_through_its_token_status_list(
        org, client, django_capture_on_commit_callbacks):
    entry = token_entry_allocate(org.did)
    credential = sd_jwt_vc(org, entry)
    assert checks(own_verifier().verify(credential))["status"]["detail"] == "valid"

    with django_capture_on_commit_callbacks(execute=True):
        token_status_set(entry, TokenStatus.SUSPENDED)
    suspended = own_verifier().verify(credential)
    published = decode_jwt_parts(fetch(client, entry.list_id).content.decode())[1]

    assert suspended["verified"] is False
    assert checks(suspended)["status"]["detail"] == "suspended"
    assert TokenStatusList.from_claim(published["status_list"]).get(entry.index) == 2

    with django_capture_on_commit_callbacks(execute=True):
        token_status_set(entry, TokenStatus.VALID)
    assert own_verifier().verify(credential)["verified"] is True

    with django_capture_on_commit_callbacks(execute=True):
        token_status_set(entry, TokenStatus.INVALID)
    assert checks(own_verifier().verify(credential))["status"]["detail"] == "revoked"
    with pytest.raises(StatusChangeRefused) as refused:
        token_status_set(entry, TokenStatus.VALID)
    assert refused.value.code == "revoked_is_final"
    with pytest.raises(StatusChangeRefused):
        token_status_set(entry, TokenStatus.SUSPENDED)
    assert token_status_set(entry, TokenStatus.INVALID) is False  # a replay changes nothing


def test_the_verifier_reads_a_change_before_its_list_is_re_signed(org):
    entry = token_entry_allocate(org.did)
    credential = sd_jwt_vc(org, entry)

    token_status_set(entry, TokenStatus.SUSPENDED)  # committed at the end of the test only

    assert StatusChange.objects.count() == 1
    assert checks(own_verifier().verify(credential))["status"]["detail"] == "suspended"


def test_a_tampered_own_list_fails_verification(org, client,
                                                django_capture_on_commit_callbacks):
    status_list, index = allocate(org.did)[0]
    with django_capture_on_commit_callbacks(execute=True):
        status_change(status_list.pk, index, 1)
    jwt = fetch(client, status_list.pk).content.decode()
    header, payload, signature = jwt.split(".")
    _, credential = decode_jwt_parts(jwt)
    credential["credentialSubject"]["encodedList"] = Bitstring().encode()  # "nobody revoked"
    tampered = ".".join([header, b64url_encode(jose.encode_json(credential)), signature])

    with pytest.raises(CredentialError) as failure:
        read_status_list(tampered, "bitstring", url=status_list_url(status_list.pk),
                         keys=DidResolver(allow_remote=False))
    assert failure.value.code == "status_proof"
    assert "signature" in failure.value.detail


# --- foreign lists, over (mocked) HTTPS ---------------------------------------------------------

def did_key_signer() -> LocalSigner:
    key = LocalSigner.generate()
    return LocalSigner(key._key, did_key_verification_method(did_key_for(key.public_key())))


def did_of(signer) -> str:
    return signer.verification_method.split("#")[0]


@pytest.fixture
def network(monkeypatch):
    return Network(monkeypatch)


def foreign_url() -> str:
    return f"https://issuer.example/status/{uuid.uuid4()}"  # unique: caches are shared


def bitstring_list(signer, url, bits: Bitstring, *, purpose="revocation", ttl_ms=60_000,
                   valid_until="2099-01-01T00:00:00Z") -> str:
    return get_suite("vc+jwt").secure({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did_of(signer), "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": valid_until,
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                              "statusPurpose": purpose, "encodedList": bits.encode(),
                              "ttl": ttl_ms}}, signer)


def foreign_credential(signer, url, index=42, purpose="revocation") -> str:
    return get_suite("vc+jwt").secure({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"], "issuer": did_of(signer),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://example.com/01/09506000134352"},
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose,
                             "statusListIndex": str(index), "statusListCredential": url}},
        signer)


def revoked(*indexes) -> Bitstring:
    bits = Bitstring()
    for index in indexes:
        bits.set(index)
    return bits


def foreign_status(credential) -> dict:
    verifier = Verifier(keys=DidResolver(allow_remote=False), status=StatusFetcher())
    return checks(verifier.verify(credential))["status"]


def test_a_foreign_bitstring_list_is_fetched_verified_and_cached_for_its_ttl(db, network):
    issuer, url = did_key_signer(), foreign_url()
    network.bodies[url] = bitstring_list(issuer, url, revoked(42))

    first = foreign_status(foreign_credential(issuer, url, 42))
    second = foreign_status(foreign_credential(issuer, url, 43))

    assert first == {"check": "status", "purpose": "revocation", "ok": False,
                     "detail": "revoked"}
    assert second["ok"] is True
    assert network.fetches == [url]  # the second verification used the cached list


def test_a_foreign_list_with_no_ttl_to_keep_is_fetched_again(db, network):
    issuer, url = did_key_signer(), foreign_url()
    network.bodies[url] = bitstring_list(issuer, url, revoked(), ttl_ms=0)

    foreign_status(foreign_credential(issuer, url))
    foreign_status(foreign_credential(issuer, url))

    assert network.fetches == [url, url]


def test_a_tampered_foreign_list_fails_the_status_check(db, network):
    issuer, url = did_key_signer(), foreign_url()
    header, _, signature = bitstring_list(issuer, url, revoked(42)).split(".")
    _, genuine = decode_jwt_parts(bitstring_list(issuer, url, revoked(42)))
    genuine["credentialSubject"]["encodedList"] = revoked().encode()
    network.bodies[url] = ".".join([header, b64url_encode(jose.encode_json(genuine)), signature])

    status = foreign_status(foreign_credential(issuer, url, 42))

    assert status["ok"] is False
    assert status["detail"].startswith("status list unavailable: status list proof")


@pytest.mark.parametrize("case, expected", [
    ("other issuer", "not by the credential's issuer"),
    ("other purpose", "status list purpose is suspension"),
    ("expired", "status list unavailable: status list: expired"),
    ("not a list", "status list unavailable: status list: not a BitstringStatusListCredential"),
])
def test_a_foreign_list_must_be_the_issuers_valid_list_of_that_purpose(db, network, case,
                                                                       expected):
    issuer, url = did_key_signer(), foreign_url()
    body = {
        "other issuer": lambda: bitstring_list(did_key_signer(), url, revoked()),
        "other purpose": lambda: bitstring_list(issuer, url, revoked(), purpose="suspension"),
        "expired": lambda: bitstring_list(issuer, url, revoked(),
                                          valid_until="2026-01-02T00:00:00Z"),
        "not a list": lambda: foreign_credential(issuer, url),
    }[case]
    network.bodies[url] = body()

    status = foreign_status(foreign_credential(issuer, url))

    assert status["ok"] is False
    assert expected in status["detail"]


def test_a_status_list_2021_entry_on_a_vcdm_1_1_credential_is_read(db, network):
    issuer, url = did_key_signer(), foreign_url()
    bits = revoked(7)
    network.bodies[url] = get_suite("jwt-vc").secure({
        "@context": ["https://www.w3.org/2018/credentials/v1",
                     "https://w3id.org/vc/status-list/2021/v1"],
        "id": url, "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": did_of(issuer), "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "StatusList2021",
                              "statusPurpose": "revocation",
                              "encodedList": bits.encode()[1:]}}, issuer)  # no multibase 'u'

    def credential(index):
        return get_suite("jwt-vc").secure({
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"], "issuer": did_of(issuer),
            "issuanceDate": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "https://example.com/01/09506000134352"},
            "credentialStatus": {"id": f"{url}#{index}", "type": "StatusList2021Entry",
                                 "statusPurpose": "revocation",
                                 "statusListIndex": str(index),
                                 "statusListCredential": url}}, issuer)

    assert foreign_status(credential(7))["detail"] == "revoked"
    assert foreign_status(credential(8))["ok"] is True


def test_a_foreign_token_status_list_suspends_an_sd_jwt_vc(db, network):
    issuer, uri = did_key_signer(), foreign_url()
    statuses = TokenStatusList(bits=2)
    statuses.set(3, TokenStatus.SUSPENDED)
    now = int(time.time())
    network.bodies[uri] = jose.sign(
        {"iss": did_of(issuer), "sub": uri, "iat": now, "exp": now + 600, "ttl": 60,
         "status_list": statuses.to_claim()},
        issuer, {"typ": "statuslist+jwt", "kid": issuer.verification_method})
    credential = get_suite("dc+sd-jwt").secure(
        {"vct": "https://example.com/vct/mandate", "iss": did_of(issuer)}, issuer,
        status={"status_list": {"idx": 3, "uri": uri}})

    assert foreign_status(credential)["detail"] == "suspended"


def test_a_token_list_fetched_from_another_uri_is_refused(db, network):
    issuer, uri = did_key_signer(), foreign_url()
    now = int(time.time())
    network.bodies[uri] = jose.sign(
        {"iss": did_of(issuer), "sub": foreign_url(), "iat": now, "exp": now + 600,
         "status_list": TokenStatusList(bits=2).to_claim()},
        issuer, {"typ": "statuslist+jwt", "kid": issuer.verification_method})
    credential = get_suite("dc+sd-jwt").secure(
        {"vct": "https://example.com/vct/mandate", "iss": did_of(issuer)}, issuer,
        status={"status_list": {"idx": 3, "uri": uri}})

    status = foreign_status(credential)

    assert status["ok"] is False and "sub" in status["detail"]


@pytest.mark.parametrize("url", ["http://issuer.example/status/1", "https://127.0.0.1/status/1",
                                 "https://localhost/status/1", "https://10.0.0.8/status/1"])
def test_foreign_lists_are_fetched_over_https_from_public_addresses_only(url):
    with pytest.raises(CredentialError) as refused:
        fetch_text_https(url, accept="application/vc+jwt")
    assert "only https" in refused.value.detail or "non-public" in refused.value.detail


# --- races on PostgreSQL ------------------------------------------------------------------------

def _run_in_processes(code: str, count: int = 2, **environment) -> list[str]:
    """Run `code` in `count` Python processes at once against the test database, with tasks
    in-process (each change publishes at once: as many publishers as processes)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("CELERY_BROKER_URL", "CACHE_URL")}
    env.update(DATABASE_URL=_database_url_for_worker(), DJANGO_SETTINGS_MODULE="config.settings",
               LOG_LEVEL="WARNING", **environment)
    start_at = str(time.time() + 3)  # both start together, after Django is set up
    prelude = ("import django, time, sys; django.setup(); "
               f"time.sleep(max(0, {start_at} - time.time()));\n")
    processes = [subprocess.Popen([sys.executable, "-c", prelude + code, str(n)], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for n in range(count)]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        outputs.append(out)
    return outputs


RACE_PUBLISH = """
from django.db import transaction
from credentials.status_registry import status_change
import json, os
job = json.loads(os.environ["RACE_JOB"])
for index in job["indexes"][int(sys.argv[1])::2]:
    with transaction.atomic():
        status_change(job["list"], index, 1)  # after commit: publish now, in this process
"""


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_publishing_one_list_at_the_same_moment_lose_no_change(org):
    entries = allocate(org.did, count=120)
    status_list = entries[0][0]
    indexes = [index for _, index in entries]
    job = {"list": str(status_list.pk), "indexes": indexes}

    _run_in_processes(RACE_PUBLISH, RACE_JOB=json.dumps(job))

    status_list.refresh_from_db()
    stored = Bitstring.from_bytes(bytes(status_list.statuses))
    assert not StatusChange.objects.exists()
    assert stored.count() == len(indexes) and all(stored.get(i) for i in indexes)
    assert status_list.version == status_list.published_version > 1
    published = decode_bitstring(status_list.published)[1]
    assert published == stored


RACE_ALLOCATE = """
import json, os
from credentials.status_registry import allocate
got = []
for _ in range(100):
    got += [(str(sl.pk), index) for sl, index in allocate(os.environ["ISSUER"], count=3)]
print(json.dumps(got))
"""


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_allocation_from_two_processes_never_shares_an_index(org):
    outputs = _run_in_processes(RACE_ALLOCATE, ISSUER=org.did)

    entries = [tuple(entry) for out in outputs for entry in json.loads(out)]
    assert len(entries) == 600 and len(set(entries)) == 600
    assert sum(StatusList.objects.filter(issuer=org.did).values_list("allocated", flat=True)) \
        == 600


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_first_allocations_at_the_same_moment_open_one_list(org, monkeypatch):
    # Given two transactions that both find no list of the issuer's: each would open one
    # (the barrier holds the first opening until the second could open one too, or 3 s) ...
    import threading

    from django.db import connection as db

    from credentials import status_registry

    barrier = threading.Barrier(2, timeout=3)
    opened = status_registry._new_list

    def new_list_at_once(*args):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other transaction waits for this one instead: the fix
        return opened(*args)

    monkeypatch.setattr(status_registry, "_new_list", new_list_at_once)
    got, errors = [], []

    def allocate_one():
        try:
            got.extend(allocate(org.did, count=5))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=allocate_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # ... then one list holds both transactions' entries.
    assert not errors
    assert StatusList.objects.filter(issuer=org.did).count() == 1
    assert len({(entry.pk, index) for entry, index in got}) == 10


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_through_the_worker_is_coalesced_and_published(org, client):
    entries = allocate(org.did, count=100)
    status_list = entries[0][0]
    status_list_publish(status_list.pk)
    for _, index in entries:  # 100 separate transactions, one publication each scheduled
        with transaction.atomic():
            status_change(status_list.pk, index, 1)

    # Bounded so a lost publication fails instead of hanging; its speed is bench/'s to measure.
    deadline = time.monotonic() + 60
    bits = Bitstring()
    while time.monotonic() < deadline:
        bits = decode_bitstring(fetch(client, status_list.pk).content.decode())[1]
        if bits.count() == 100:
            break
        time.sleep(0.1)
    assert bits.count() == 100, f"{bits.count()} of 100 visible after 60 s"
    status_list.refresh_from_db()
    assert status_list.published_version < 10  # a handful of signatures, not one per change


RACE_READ_WHILE_FOLDING = """
import json, os
from django.db import transaction
from credentials.status_registry import current_codec, status_change
job = json.loads(os.environ["RACE_JOB"])
if sys.argv[1] == "0":  # the revoker: each commit is folded at once by the real publisher
    def record(index):
        with open(job["ledger"], "a") as ledger:
            ledger.write(f"{index}\\n")

    for index in job["indexes"]:
        with transaction.atomic():
            # Runs right after the commit, before the publication status_change schedules.
            transaction.on_commit(lambda index=index: record(index))
            status_change(job["list"], index, 1)
    open(job["done"], "w").close()
else:  # a reader: every revocation committed before its read must read as revoked
    reads = false_valid = 0
    while not os.path.exists(job["done"]):
        with open(job["ledger"]) as ledger:
            committed = [int(line) for line in ledger.read().split("\\n")[:-1]]
        _, codec = current_codec(job["list"], "bitstring")
        reads += 1
        false_valid += any(not codec.get(index) for index in committed)
    print(json.dumps({"reads": reads, "false_valid": false_valid}))
"""


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_reads_while_the_publisher_folds_changes_never_show_a_revocation_as_valid(org, tmp_path):
    entries = allocate(org.did, count=300)
    status_list = entries[0][0]
    status_list_publish(status_list.pk)
    job = {"list": str(status_list.pk), "indexes": [index for _, index in entries],
           "ledger": str(tmp_path / "committed"), "done": str(tmp_path / "done")}
    (tmp_path / "committed").write_text("")

    outputs = _run_in_processes(RACE_READ_WHILE_FOLDING, count=3, RACE_JOB=json.dumps(job))

    results = [json.loads(out) for out in outputs[1:]]
    assert sum(result["reads"] for result in results) > 100  # the reads overlapped the folds
    assert [result["false_valid"] for result in results] == [0, 0]
    status_list.refresh_from_db()
    assert status_list.version > 100  # the publisher folded while they read
@pytest.mark.parametrize("accept", ["application/ld+json", "application/json"])
def test_json_ld_clients_get_the_list_with_an_embedded_proof(org, client, accept):
    status_list = allocate(org.did)[0][0]
    url = status_list_url(status_list.pk)

    jwt = fetch(client, status_list.pk)
    embedded = fetch(client, status_list.pk, accept=accept)

    assert embedded["Content-Type"] == accept
    credential = json.loads(embedded.content)
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["credentialSubject"]["type"] == "BitstringStatusList"
    assert embedded["ETag"] != jwt["ETag"]
    view, _ = read_status_list(embedded.content.decode(), "bitstring", url=url,
                               keys=DidResolver(allow_remote=False))
    assert view.issuer == org.did
