"""Where the suite runs: the repository root, the real services it may need, rate limits."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent
REQUIRE_REAL = os.environ.get("REQUIRE_REAL_SERVICES") == "1"
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Skipped on SQLite, except under REQUIRE_REAL_SERVICES=1, where it runs (and fails there).
postgres_only = pytest.mark.skipif(not ON_POSTGRES and not REQUIRE_REAL,
                                   reason="needs PostgreSQL (set DATABASE_URL)")


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
