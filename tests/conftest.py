"""Shared fixtures. The suite runs embedded (SQLite, eager tasks) or real (PostgreSQL, Redis and a
real Celery worker process started here), chosen by DATABASE_URL and CELERY_BROKER_URL."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_REAL = os.environ.get("REQUIRE_REAL_SERVICES") == "1"


def generous_rate_limits(settings, *scopes: str) -> None:
    """The named endpoints stay rate limited (the code path runs), far above what a test
    sends."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        **{scope: "100000/minute" for scope in scopes}}}


def _no_broker(reason: str):
    if REQUIRE_REAL:
        pytest.fail(f"REQUIRE_REAL_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(f"needs a real broker: {reason} (set DATABASE_URL and CELERY_BROKER_URL)")


def _database_url_for_worker() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        _no_broker("the worker needs a shared PostgreSQL database, not SQLite")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker_process(queue: str, env: dict, **popen):
    """A `celery worker` process consuming `queue`, logging to var/worker-<queue>.log."""
    log_path = ROOT / "var" / f"worker-{queue}.log"
    log_path.parent.mkdir(exist_ok=True)
    log_file = open(log_path, "w")  # noqa: SIM115 - closed by the caller
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
         "--concurrency", "2", "--pool", "prefork", "--hostname", f"{queue}@%h",
         "--queues", queue, "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, **popen,
    )
    return process, log_path, log_file


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real `celery worker` process on the real broker, using the test database."""
    if not settings.CELERY_BROKER_URL:
        _no_broker("CELERY_BROKER_URL is not set")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_worker(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    celery_app.conf.task_default_queue = queue
    process, log_path, log_file = start_worker_process(queue, env)
    try:
        from config.celery import worker_ping

        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"celery worker exited early, see {log_path}", pytrace=False)
            try:
                worker_ping.apply_async(queue=queue).get(timeout=5)
                break
            except Exception:
                if time.monotonic() > deadline:
                    pytest.fail(f"celery worker did not answer in 60 s, see {log_path}")
        yield {"process": process, "queue": queue, "log": log_path, "env": env}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log_file.close()
        celery_app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Tests marked `worker` go through the real worker; all others run tasks in-process, so a
    test never leaves work on the shared broker."""
    uses_worker = request.node.get_closest_marker("worker") is not None
    celery_app.conf.task_always_eager = not uses_worker
    if uses_worker:
        request.getfixturevalue("celery_worker")
    yield
    celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
