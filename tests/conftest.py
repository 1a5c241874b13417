"""Shared fixtures. The suite runs embedded (SQLite, eager tasks) or real (PostgreSQL, Redis and a
real Celery worker process started here), chosen by DATABASE_URL and CELERY_BROKER_URL."""

import os
import subprocess
import time
import uuid

import pytest
from django.conf import settings

from config.celery import app as celery_app
from core.encryption_key import new_encryption_key_text
from tests.support import receiver
from tests.support.environment import _database_url_for_worker, _no_broker, start_worker_process

pytest_plugins = ["tests.support.proxy", "tests.support.server", "tests.support.instance"]

# Production refuses the development KEY_ENCRYPTION_KEY, and some tests start the web process as
# production runs it: so the session, and every process it starts, wraps keys under a fresh
# random one (set before the test database, and so any key, exists).
if "KEY_ENCRYPTION_KEY" not in os.environ:
    os.environ["KEY_ENCRYPTION_KEY"] = settings.KEY_ENCRYPTION_KEY = new_encryption_key_text()

# Production keeps no task results; a few tests read them (and the worker fixture waits on a
# ping's), so this process and the test worker keep them on the broker's Redis.
TEST_RESULT_BACKEND = settings.CELERY_BROKER_URL
if TEST_RESULT_BACKEND:
    celery_app.conf.result_backend = TEST_RESULT_BACKEND


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
        "CELERY_RESULT_BACKEND": TEST_RESULT_BACKEND,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **receiver.worker_env(),  # webhooks reach the local test receiver (tests/support)
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
def _fresh_key_cache():
    """Every test makes its organisations anew, with new keys under the same key ids: the API
    verifier's keys (kept KEY_TTL per process) of an earlier test must not verify this one's.
    (In tests/api alone before: a test elsewhere run within 30 s of one there failed.)"""
    from passports.api import verifying

    verifying._keys.clear()


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
