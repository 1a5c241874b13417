"""A back-up provider, end to end (issue #26, docs/backup.md): two live instances of the
service, each with its own database and gunicorn; in the real mode each also with its own Redis
database, Celery worker and beat (in the embedded mode tasks run in the process that made the
change, and the catch-up is `backup_provider push`, what beat's sweep runs). The backup serves
over TLS with a test CA's certificate, which the primary trusts through the test allowance
(WEBHOOK_TEST_*), as webhooks' tests do; production allows neither."""

from __future__ import annotations

import json
import re
import time

from django.conf import settings

from tests.support.instance import Instance

REAL = bool(settings.CELERY_BROKER_URL)

PASSPORTS = """
import json
from passports.models import Passport
print(json.dumps({str(p.pk): [p.state, p.jwt, p.product.digital_link]
                  for p in Passport.objects.exclude(jwt="").select_related("product")}))
"""
ISSUE_MORE = """
from passports.models import Product
from passports.services.issuance import passport_request
from wallet.tenancy.authority import operator
from wallet.tenancy.models import Organisation
acme = Organisation.objects.get(slug="acme")
for serial in ("BK-1", "BK-2", "BK-3"):
    product = Product.objects.create(organisation=acme, gtin="09506000134352", serial=serial,
                                     name=f"Backup test cell {serial}", category="generic")
    passport_request(product=product, actor=operator(), reason="while the backup is down")
"""
REVOKE = """
from passports.models import Passport
from passports.services.status import passport_revoke
from wallet.tenancy.authority import operator
passport = Passport.objects.get(pk="{id}")
passport_revoke(passport=passport, actor=operator(), reason="cell recalled")
"""
EVIDENCE = """
import json
from passports.models import EvidenceCredential
from passports.services.evidence import evidence_request, evidence_revoke, evidence_sign
from wallet.tenancy.authority import operator
from wallet.tenancy.models import Organisation
acme = Organisation.objects.get(slug="acme")
made = {}
for name in ("Acme Plant Eindhoven", "Acme Plant Venlo"):
    pending = evidence_request(organisation=acme, kind="facility", actor=operator(), subject={
        "name": name, "id": "https://acme.example/facilities/" + name.split()[-1],
        "country": "NL", "process": {"code": "2720", "name": "Manufacture of batteries"}})
    evidence_sign([pending.pk])  # here, or already by the worker
    made[name] = EvidenceCredential.objects.get(pk=pending.pk)
evidence_revoke(credential=made["Acme Plant Venlo"], actor=operator(), reason="closed")
print(json.dumps({str(c.pk): c.jwt for c in made.values()}))
"""
WRITES = """
import json
from replication.models import Replica
print(json.dumps({r.path: r.writes for r in Replica.objects.all()}))
"""


def _passports(instance: Instance) -> dict:
    return json.loads(instance.python(PASSPORTS).strip().splitlines()[-1])


def _verdict(instance: Instance, jwt: str) -> dict:
    return instance.request("POST", "/api/v1/verify/", body=jwt.encode(),
                            headers={"Content-Type": "application/vc+jwt"}).json()


def _status_detail(verdict: dict) -> str | None:
    return next((c.get("detail") for c in verdict["checks"] if c["check"] == "status"), None)


def _until(what, seconds: float = 90, describe=lambda: ""):
    """Wait for a real worker's work (an anti-hang bound, not a timing)."""
    deadline = time.monotonic() + seconds
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {seconds} s; {describe()}")
        time.sleep(0.3)


def _served(backup: Instance, passports: dict):
    def check():
        return all(backup.request("GET", f"/passports/{pid}", headers={
            "Accept": "application/vc+jwt"}).text == jwt for pid, (_, jwt, _) in
            passports.items())
    return check


def test_a_backup_provider_serves_and_verifies_every_passport_also_after_the_primary_stops(
        instances):
    backup = instances.make("backup", tls=True,
                            env={"REPLICATION_PRIMARY_SILENT_SECONDS": "4"}).start()
    primary = instances.make("primary", env={
        "WEBHOOK_TEST_ALLOWED_ADDRESSES": "127.0.0.1", "WEBHOOK_TEST_CA_FILE": backup.tls[0],
        "REPLICATION_SYNC_SECONDS": "1", "REPLICATION_RETRY_SCHEDULE": "1",
        "REPLICATION_COALESCE_SECONDS": "0.2"})
    assert primary.real == backup.real == REAL
    credential = backup.manage("replication_source", "add", primary.base_url,
                               "--name", "Acme's own service").stdout.strip().splitlines()[-1]
    primary.manage("backup_provider", "add", backup.base_url, "--name", "Backup Co",
                   env={"BACKUP_PROVIDER_CREDENTIAL": credential})
    primary.start()
    primary.manage("demo", env={"DJANGO_DEBUG": "1"})  # its demo users need DEBUG
    issued = _passports(primary)
    assert {state for state, _, _ in issued.values()} == {"issued", "revoked"}

    # Served at the same paths under the backup's host, byte for byte, and verified there
    # (the DID document and the status list from the backup's copies).
    _until(_served(backup, issued), describe=primary.logs)
    # (the status list follows its first publication, which may come after the passports)
    _until(lambda: all(_verdict(backup, jwt)["verified"] == (state == "issued")
                       for state, jwt, _ in issued.values()), describe=primary.logs)
    for passport_id, (state, jwt, _) in issued.items():
        verdict = _verdict(backup, jwt)
        assert verdict["verified"] == (state == "issued"), verdict
        if state == "revoked":
            assert _status_detail(verdict) == "revoked"
        answer = backup.request("GET", f"/passports/{passport_id}",
                                headers={"Accept": "application/vc+jwt"})
        assert answer.headers["backup-of"] == primary.base_url
        assert answer.headers["link"] == f'<{primary.base_url}/passports/{passport_id}>; ' \
                                         f'rel="canonical"'

    # The primary's linkset names the backup's copy as an alternate.
    battery = next(pid for pid, (state, _, _) in issued.items() if state == "issued")
    link = issued[battery][2].removeprefix(primary.base_url)
    linkset = primary.request("GET", link + "?linkType=linkset").json()["linkset"][0]
    assert {"href": f"{backup.base_url}/passports/{battery}", "type": "application/vc+jwt"} \
        .items() <= linkset["alternate"][0].items()
    assert linkset["alternate"][1]["href"] == f"{backup.base_url}/orgs/acme/did.json"

    # A revocation on the primary appears on the backup.
    primary.python(REVOKE.format(id=battery))
    _until(lambda: _status_detail(_verdict(backup, issued[battery][1])) == "revoked",
           describe=primary.logs)

    # Evidence credentials (issue #25) too: at /evidence/<id>, byte for byte; a revoked one
    # verifies as revoked there.
    evidence = json.loads(primary.python(EVIDENCE).strip().splitlines()[-1])
    facility, closed = evidence
    _until(lambda: all(backup.request("GET", f"/evidence/{eid}", headers={
        "Accept": "application/vc+jwt"}).text == jwt for eid, jwt in evidence.items()),
        describe=primary.logs)
    _until(lambda: _status_detail(_verdict(backup, evidence[closed])) == "revoked",
           describe=primary.logs)
    assert _verdict(backup, evidence[facility])["verified"] is True

    # The backup is down while passports are issued: it catches up when it returns, nothing
    # missing and nothing twice.
    backup.stop()
    primary.python(ISSUE_MORE)
    _until(lambda: len(_passports(primary)) == len(issued) + 3)
    _until(lambda: "failing" in primary.manage("backup_provider", "list").stdout)
    backup.start()
    everything = _passports(primary)
    catch_up = _served(backup, everything)
    # Real: beat's sweep pushes once the retry is due. Embedded: what the sweep runs.
    _until(catch_up if REAL else lambda: primary.manage("backup_provider", "push") and
           catch_up(), describe=primary.logs)
    writes = json.loads(backup.python(WRITES).strip().splitlines()[-1])
    assert {path for path in writes if path.startswith("/passports/")} == {
        f"/passports/{pid}" for pid in everything}
    new = set(everything) - set(issued)
    assert all(writes[f"/passports/{pid}"] == 1 for pid in new)  # once, however often sent
    _until(lambda: all(_verdict(backup, everything[pid][1])["verified"] for pid in new))

    # The primary stops: the backup still serves every passport and its last status, and says
    # since when the primary is unreachable.
    primary.stop()
    for passport_id, (_, jwt, _) in everything.items():
        state = "revoked" if passport_id == battery else everything[passport_id][0]
        verdict = _verdict(backup, jwt)
        assert verdict["verified"] == (state == "issued")
        assert (_status_detail(verdict) == "revoked") == (state == "revoked")
    for evidence_id, jwt in evidence.items():
        answer = backup.request("GET", f"/evidence/{evidence_id}",
                                headers={"Accept": "application/vc+jwt"})
        assert answer.status == 200 and answer.text == jwt
        assert answer.headers["backup-of"] == primary.base_url
    assert _status_detail(_verdict(backup, evidence[closed])) == "revoked"
    assert _verdict(backup, evidence[facility])["verified"] is True
    status_url = json.loads(
        backup.request("GET", f"/passports/{battery}", headers={"Accept": "application/vc"})
        .text)["id"]
    assert status_url.startswith("data:application/vc+jwt,")
    page = _until(lambda: (answer := backup.request(
        "GET", f"/passports/{battery}?lang=en", headers={"Accept": "text/html"})).headers.get(
        "primary-unreachable-since") and answer)
    assert page.status == 200 and "<span>Revoked</span>" in page.text
    assert re.search(r"unreachable since .+ UTC", page.text) and "Status last updated at" \
        in page.text
    lists = [path for path in writes if path.startswith("/status/")]
    status = backup.request("GET", lists[0])
    assert status.status == 200 and status.headers["primary-unreachable-since"]
    assert status.headers["last-modified"] and status.headers["cache-control"] == \
        "public, max-age=5"
