"""The foundation a newcomer and an operator rely on: health, settings, logging, demo data."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from config.celery import worker_ping
from passports.models import Entitlement, Passport
from passports.services.verification import verify_passport_uncached
from tests.support.environment import ROOT
from wallet.business.messaging.models import Message
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Member, Organisation


@pytest.mark.django_db
def test_health_reports_database_and_broker(client, settings):
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == ("eager" if settings.CELERY_BROKER_URL is None else "ok")


@pytest.mark.django_db
def test_health_is_503_when_the_broker_is_down(client, settings):
    # A real connection attempt to a port nobody listens on.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["broker"].startswith("down")
    assert response.json()["status"] == "unavailable"


def test_admin_login_page_is_served(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert b"Django administration" in response.content


def _run_python(code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DJANGO_SECRET_KEY", "KEY_ENCRYPTION_KEY", "DJANGO_DEBUG")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_start_without_secret_stops_with_a_clear_message():
    result = _run_python("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
                         "'config.settings'); django.setup()", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_start_without_key_encryption_key_is_refused():
    result = _run_python("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
                         "'config.settings'); django.setup()",
                         DJANGO_DEBUG="0", DJANGO_SECRET_KEY="s3cr3t-" * 10)

    assert result.returncode != 0
    assert "KEY_ENCRYPTION_KEY is not set" in result.stderr


# `check --deploy` with production settings: tests/deploy/test_settings_validation.py


@pytest.mark.django_db
def test_every_request_is_logged_once_with_its_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="dpp.request"):
        response = client.get("/health/", HTTP_X_REQUEST_ID="abc123")

    assert response["X-Request-ID"] == "abc123"
    lines = [r for r in caplog.records if r.name == "dpp.request"]
    assert len(lines) == 1
    assert lines[0].request_id == "abc123"
    assert "GET /health/ 200" in lines[0].getMessage()


def test_json_log_format_is_one_json_object_per_line():
    from config.observability import JsonFormatter

    record = logging.LogRecord("dpp.request", logging.INFO, __file__, 1, "GET / 200", (), None)
    record.request_id = "r1"
    record.status = 200

    entry = json.loads(JsonFormatter().format(record))

    assert entry["id"] == "r1"
    assert entry["status"] == 200
    assert entry["message"] == "GET / 200"


@pytest.mark.django_db
def test_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("demo")
    counts = (Organisation.objects.count(), get_user_model().objects.count(),
              Member.objects.count())

    call_command("demo")

    assert (Organisation.objects.count(), get_user_model().objects.count(),
            Member.objects.count()) == counts
    assert Organisation.objects.get(slug="register").is_trust_anchor
    assert Member.objects.get(user__username="acme").organisation.slug == "acme"
    assert get_user_model().objects.get(username="admin").is_superuser
    passports = Passport.objects.select_related("product")
    assert sorted(p.product.category for p in passports) == ["battery", "electronics", "textile"]
    assert sorted(p.state for p in passports) == ["issued", "issued", "revoked"]
    battery = next(p for p in passports if p.product.category == "battery")
    verdict = verify_passport_uncached(battery)
    assert verdict["verified"] and verdict["issuer"]["trusted"]  # acme attested by register
    assert verdict["issuer"]["legal_person"]["anchor"] == \
        Organisation.objects.get(slug="register").did
    acme_user = get_user_model().objects.get(username="acme")
    assert Mandate.objects.filter(grantee_user=acme_user, state="active").count() == 4
    assert Entitlement.objects.filter(partner__slug="recycle").exists()
    assert Message.objects.filter(kind="invoice").exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_answers_through_the_broker_on_the_same_database(settings):
    result = worker_ping.delay().get(timeout=30)

    assert result["database"] == "postgresql"
    assert result["name"] == settings.DATABASES["default"]["NAME"]


@pytest.mark.django_db
def test_demo_refuses_known_passwords_outside_development(settings):
    settings.DEBUG = False

    with pytest.raises(RuntimeError, match="development only"):
        call_command("demo")

    assert not get_user_model().objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_machine_documents_do_not_vary_by_language(client):
    did = client.get("/.well-known/did.json", HTTP_ACCEPT_LANGUAGE="nl")
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="nl")

    assert "Accept-Language" not in did.get("Vary", "")
    assert "Accept-Language" in page.get("Vary", "")


@pytest.mark.django_db
def test_the_demo_staff_user_can_use_the_admin(client, settings):
    settings.DEBUG = True
    call_command("demo")
    client.force_login(get_user_model().objects.get(username="acme"))

    passports = client.get("/admin/passports/passport/")
    products = client.get("/admin/passports/product/")

    assert passports.status_code == 200 and products.status_code == 200
    assert b"ACME-BAT-0001" in products.content
    for page in ("/admin/openid4vci/credentialoffer/", "/admin/openid4vci/credentialoffer/add/",
                 "/admin/openid4vp/presentationrequest/",
                 "/admin/openid4vp/presentationrequest/add/"):
        assert client.get(page).status_code == 200, page
