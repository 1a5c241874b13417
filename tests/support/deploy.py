"""A production environment (DJANGO_DEBUG=0) with fresh secrets, and manage.py run in it."""

from __future__ import annotations

import os
import subprocess
import sys

from core.make_secrets import fresh_secrets
from tests.support.environment import ROOT

SETTINGS_VARIABLES = ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_SECRET_KEY",
                      "KEY_ENCRYPTION_KEY", "PUBLIC_BASE_URL", "DATABASE_URL",
                      "CELERY_BROKER_URL", "METRICS_TOKEN")


def production_env(**overrides) -> dict[str, str]:
    """A complete production environment with fresh secrets, as `.env` would give it."""
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    secrets = fresh_secrets()
    env = {**base, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets["DJANGO_SECRET_KEY"],
           "KEY_ENCRYPTION_KEY": secrets["KEY_ENCRYPTION_KEY"],
           "PUBLIC_BASE_URL": "https://dpp.acme-batteries.eu",
           "DATABASE_URL": f"postgres://dpp:{secrets['POSTGRES_PASSWORD']}@127.0.0.1:1/dpp",
           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
