"""`make serve` (deploy/serve.py): the production stack without Docker, with production settings,
on the real PostgreSQL and Redis: gunicorn answers, beat ticks, the worker works; a task that
fails in the worker process is counted at the web's /metrics, and request latency adds up over
gunicorn's worker processes (multiprocess mode). The commands are docker compose's."""

import signal
import subprocess
import sys
import time
import uuid

import pytest
import yaml
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from deploy.serve import PREPARE, PROCESSES
from passports.tasks import change_passports_status
from tests.deploy.http import free_port, get
from tests.support.deploy import production_env
from tests.support.environment import ROOT, _database_url_for_worker, _no_broker

TOKEN = "serve-test-metrics-token-0123456789abcdef"


def test_serve_runs_the_processes_of_docker_compose():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    for name, command in PROCESSES.items():
        assert services[name]["command"] == command, name
    assert services["migrate"]["command"] == PREPARE[-1]  # collectstatic: in the image
    long_running = [name for name, service in services.items() if service.get("restart") != "no"]
    assert long_running == ["postgres", "redis", "web", "worker", "beat", "proxy"]
    assert all("healthcheck" in services[name] for name in long_running)


def _metric(port: int, name: str, **labels) -> float:
    status, _, body = get(port, "/metrics", host="prometheus:9090",
                          Authorization=f"Bearer {TOKEN}")
    assert status == 200
    wanted = {k: str(v) for k, v in labels.items()}
    return sum(sample.value for family in text_string_to_metric_families(body.decode())
               for sample in family.samples if sample.name == name and sample.labels == wanted)


def _wait_for(condition, what: str, process, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"serve exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} in {seconds} s")
        time.sleep(0.5)


@pytest.fixture
def serving(transactional_db, tmp_path):
    if not settings.CELERY_BROKER_URL:
        _no_broker("CELERY_BROKER_URL is not set")
    port, queue = free_port(), f"test-serve-{uuid.uuid4().hex[:8]}"
    env = production_env(
        DATABASE_URL=_database_url_for_worker(), CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_DEFAULT_QUEUE=queue, VAR_DIR=str(tmp_path), METRICS_TOKEN=TOKEN,
        STATIC_ROOT=str(tmp_path / "static"), WEB_BIND=f"127.0.0.1:{port}")
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "deploy/serve.py"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        yield {"port": port, "queue": queue, "env": env, "process": process}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _health(port: int) -> bool:
    try:
        return get(port, "/health/", host="127.0.0.1:8000")[0] == 200
    except OSError:
        return False


def test_the_stack_serves_ticks_works_and_counts_across_processes(serving, monkeypatch):
    port, process = serving["port"], serving["process"]
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)  # to serve's worker
    _wait_for(lambda: _health(port), "answer from /health/", process)
    beat_alive = [sys.executable, "-m", "config.beat"]
    _wait_for(lambda: subprocess.run(beat_alive, cwd=ROOT, env=serving["env"]).returncode == 0,
              "beat heartbeat", process)

    # A task fails in the Celery worker process; the web process counts it at scrape time.
    failed_before = _metric(port, "dpp_celery_task_failures_total", task="passports.change_status")
    change_passports_status.apply_async(([], "explode"), queue=serving["queue"])
    _wait_for(lambda: _metric(port, "dpp_celery_task_failures_total",
                              task="passports.change_status") == failed_before + 1,
              "task failure counted", process)
    assert _metric(port, "dpp_celery_queue_length", queue=serving["queue"]) >= 0

    # Requests served by either of gunicorn's worker processes add up in one histogram.
    served_before = _metric(port, "dpp_http_request_duration_seconds_count",
                            method="GET", route="health", status="200")
    for _ in range(10):
        assert _health(port)
    assert _metric(port, "dpp_http_request_duration_seconds_count", method="GET",
                   route="health", status="200") == served_before + 10

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
