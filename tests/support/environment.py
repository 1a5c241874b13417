"""Where the suite runs: the repository root, the real services it may need, rate limits."""

import os
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent
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
