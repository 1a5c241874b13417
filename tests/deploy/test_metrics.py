"""/metrics: Prometheus' text format for the holder of METRICS_TOKEN, with request latency,
passports by state, the oldest pending passport's age, the status-list publication lag, Celery
task failures and the queue's depth. Figures are read through the endpoint, as Prometheus does.

Across processes (gunicorn's workers, a Celery worker process): tests/deploy/test_serve.py."""

import json
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from passports.models import Passport
from passports.services.issuance import passport_request, passports_sign
from passports.services.status import passport_revoke
from passports.tasks import change_passports_status
from tests.support.environment import ROOT
from tests.support.factories import organisation
from tests.support.public import issue, make_product
from wallet.tenancy.authority import operator

TOKEN = "metrics-token-for-the-tests-0123456789abcdef"


def scrape(client) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


@pytest.mark.django_db
def test_issuing_revoking_and_a_failing_task_show_in_the_counters(
        metrics_on, client, django_capture_on_commit_callbacks, monkeypatch):
    org = organisation("acme", "Acme Batteries B.V.")
    kept, revoked = issue(make_product(org, serial="SN-1")), issue(make_product(org, serial="SN-2"))
    # its signing not run yet
    waiting = passport_request(actor=operator(), product=make_product(org, serial="SN-3"))
    before = scrape(client)
    failures_before = value(before, "dpp_celery_task_failures_total",
                            task="passports.change_status")

    # Revoked; the status list that says so is published by a task after commit (not yet).
    passport_revoke(actor=operator(), passport=revoked, reason="counterfeit")
    # A task that fails, handled as a worker handles it (in this process: not propagated).
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    assert change_passports_status.delay([str(kept.pk)], "explode").failed()
    during = scrape(client)

    assert value(during, "dpp_passports", state="issued") == 1
    assert value(during, "dpp_passports", state="revoked") == 1
    assert value(during, "dpp_passports", state="pending") == 1
    assert value(during, "dpp_passports", state="failed") == 0
    assert value(during, "dpp_passports_pending_oldest_age_seconds") > 0
    assert value(during, "dpp_status_list_publication_lag_seconds") > 0
    assert value(during, "dpp_celery_task_failures_total",
                 task="passports.change_status") == failures_before + 1
    assert value(during, "dpp_celery_task_failures_total", task="passports.sign") == \
        value(before, "dpp_celery_task_failures_total", task="passports.sign")

    with django_capture_on_commit_callbacks(execute=True):
        passports_sign([waiting.pk])  # and the revocation's list is published
        passport_revoke(actor=operator(), passport=kept, reason="recall")
    after = scrape(client)

    assert value(after, "dpp_passports", state="issued") == 1
    assert value(after, "dpp_passports", state="revoked") == 2
    assert value(after, "dpp_passports", state="pending") == 0
    assert value(after, "dpp_passports_pending_oldest_age_seconds") == 0
    assert value(after, "dpp_status_list_publication_lag_seconds") == 0
    assert Passport.objects.filter(state=Passport.State.ISSUED).get().pk == waiting.pk


@pytest.mark.django_db
def test_request_latency_is_counted_per_route(metrics_on, client):
    def health_requests():
        return value(scrape(client), "dpp_http_request_duration_seconds_count",
                     method="GET", route="health", status="200")

    before = health_requests()
    for _ in range(3):
        assert client.get("/health/").status_code == 200
    client.get("/01/09506000134352/21/NOPE")  # an unknown product: 404 under its URL name

    samples = scrape(client)
    assert health_requests() == before + 3
    assert value(samples, "dpp_http_request_duration_seconds_count", method="GET",
                 route="digital-link", status="404") >= 1
    assert not any("NOPE" in str(labels) for _, labels in samples)  # no paths, no ids


@pytest.mark.django_db
def test_only_the_token_holder_reads_the_metrics(client, settings):
    settings.METRICS_TOKEN = None
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404

    settings.METRICS_TOKEN = TOKEN
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@pytest.mark.django_db
def test_probes_answer_whatever_host_and_scheme_the_prober_uses(metrics_on, client, settings):
    # Production: one public host, HTTPS only. The compose health check asks 127.0.0.1:8000 over
    # plain HTTP; Prometheus asks web:8000.
    settings.ALLOWED_HOSTS = ["dpp.acme-batteries.eu"]
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health/", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/metrics", HTTP_HOST="web:8000",
                      HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/admin/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/admin/login/", HTTP_HOST="dpp.acme-batteries.eu").status_code == 301


@pytest.mark.django_db
def test_the_grafana_dashboard_asks_only_for_metrics_the_endpoint_has(metrics_on, client,
                                                                       settings):
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dpp.json").read_text())
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\bdpp_\w+", target["expr"])}
    client.get("/health/")  # at least one request observed
    exposed = {name for name, _ in scrape(client)}
    if not settings.CELERY_BROKER_URL:
        asked.discard("dpp_celery_queue_length")  # embedded mode: no broker, no queue

    assert asked and asked <= exposed, asked - exposed
