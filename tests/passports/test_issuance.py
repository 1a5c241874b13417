"""Issuing passports: pending → issued in a worker, idempotent, recovered after a broker outage,
versioned, and every credential a valid UNTP DPP 0.7.0 credential."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from credentials import schemas
from credentials.did_web import DidResolver
from credentials.signing import decode_jwt_parts
from credentials.verifier import Verifier
from passports.models import Passport, PassportEvent, Product
from passports.services.issuance import (
    passport_request,
    passports_request,
    passports_requeue_stale,
    passports_sign,
)
from passports.tasks import sign_passports
from tests.support.environment import ROOT
from tests.support.waiting import wait_for_state
from wallet.tenancy.authority import operator
from wallet.tenancy.services import organisation_create


@pytest.fixture
def product(db):
    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    return Product.objects.create(
        organisation=organisation, gtin="09506000134352", serial="SN-0001",
        name="Generic widget", category="generic", country_of_production="NL",
        facility_name="Acme Plant Eindhoven", attributes={})


def test_issuing_signs_after_commit_and_the_credential_is_untp_valid(product,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        passport = passport_request(actor=operator(), product=product)
        assert passport.state == Passport.State.PENDING

    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED
    header, credential = decode_jwt_parts(passport.jwt)
    assert header["typ"] == "vc+jwt" and header["alg"] == "EdDSA"
    assert header["kid"].startswith(product.organisation.did + "#")
    assert schemas.schema_errors("untp-dpp-0.7.0", credential) == []
    assert schemas.vcdm2_errors(credential) == []
    assert credential["credentialSubject"]["id"] == \
        "http://localhost:8000/01/09506000134352/21/SN-0001"
    assert credential["credentialSubject"]["idGranularity"] == "item"
    status = credential["credentialStatus"]
    assert status["statusPurpose"] == "revocation"
    assert isinstance(status["statusListIndex"], int)
    verdict = Verifier(keys=DidResolver(allow_remote=False)).verify(passport.jwt)
    assert verdict["format"] == "vc+jwt"
    assert {c["check"]: c["ok"] for c in verdict["checks"]}["proof"] is True


def test_signing_twice_issues_once(product, django_capture_on_commit_callbacks):
    passport = passport_request(product=product,
                                actor=operator())  # callbacks not run: still pending

    assert passports_sign([passport.pk]) == 1
    jwt = Passport.objects.get(pk=passport.pk).jwt
    assert passports_sign([passport.pk]) == 0

    assert Passport.objects.get(pk=passport.pk).jwt == jwt
    assert PassportEvent.objects.filter(passport=passport, action="issued").count() == 1


def test_a_new_version_supersedes_the_previous_one(product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = passport_request(actor=operator(), product=product)
    with django_capture_on_commit_callbacks(execute=True):
        second = passport_request(actor=operator(), product=product, reason="capacity corrected")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert first.state == Passport.State.SUPERSEDED
    assert first.superseded_by == second
    assert second.state == Passport.State.ISSUED
    assert PassportEvent.objects.filter(passport=first, action="superseded").exists()


def more_products(product, count: int) -> list[Product]:
    return [Product.objects.create(organisation=product.organisation, gtin=product.gtin,
                                   serial=f"SN-{n:04d}", name=product.name,
                                   category="generic", attributes={})
            for n in range(2, count + 2)]


def test_status_indexes_are_unique_and_not_sequential(product):
    passports = passports_request(products=more_products(product, 20), actor=operator())

    passports_sign([p.pk for p in passports])

    indexes = list(Passport.objects.filter(pk__in=[p.pk for p in passports])
                   .values_list("status_index", flat=True))
    assert len(set(indexes)) == 20
    assert sorted(indexes) != list(range(min(indexes), min(indexes) + 20))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_issues_the_passport(product):
    passport = passport_request(actor=operator(), product=product)

    passport = wait_for_state(passport, Passport.State.ISSUED)

    _, credential = decode_jwt_parts(passport.jwt)
    assert schemas.schema_errors("untp-dpp-0.7.0", credential) == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_task_through_the_worker_issues_once(product):
    passport = passport_request(actor=operator(), product=product)
    wait_for_state(passport, Passport.State.ISSUED)

    sign_passports.delay([str(passport.pk)]).get(timeout=30)

    assert PassportEvent.objects.filter(passport=passport, action="issued").count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_passports_created_while_the_broker_is_down_are_issued_after_the_sweep(product, settings):
    # A separate web process whose broker is unreachable creates the passport.
    db = settings.DATABASES["default"]
    env = {**os.environ,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');"
            "django.setup();"
            "from passports.models import Product;"
            "from passports.services.issuance import passport_request;"
            "from wallet.tenancy.authority import operator;"
            f"print(passport_request(product=Product.objects.get(pk={product.pk}),"
            f" actor=operator()).pk)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "could not enqueue passports.sign" in result.stderr
    passport = Passport.objects.get(pk=result.stdout.strip().splitlines()[-1])
    time.sleep(1)
    assert Passport.objects.get(pk=passport.pk).state == Passport.State.PENDING

    assert passports_requeue_stale(older_than=timedelta(0), claim_grace=timedelta(0)) == 1

    wait_for_state(passport, Passport.State.ISSUED)


def test_a_permanent_error_fails_only_that_passport_with_a_readable_reason(product):
    broken = Product.objects.create(
        organisation=product.organisation, gtin="04006381333931", name="Broken",
        category="generic", attributes={"noSuchAttribute": 1})  # bypasses validation
    good = passport_request(product=product, actor=operator())
    bad = passport_request(product=broken, actor=operator())

    sign_passports.apply(args=([str(good.pk), str(bad.pk)],))

    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.state == Passport.State.ISSUED
    assert bad.state == Passport.State.FAILED
    assert "noSuchAttribute" in bad.state_reason
    assert PassportEvent.objects.filter(passport=bad, action="failed").exists()
