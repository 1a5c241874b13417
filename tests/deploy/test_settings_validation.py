"""Every secret and setting is checked at start: a placeholder, a malformed key or a missing
value stops `check --deploy`, `migrate` and the server with one line that names the variable and
says how to make a good value; nothing else (no traceback, never the value)."""

import subprocess
import sys

import pytest

from tests.support.deploy import manage, production_env
from tests.support.environment import ROOT


def test_check_deploy_passes_with_fresh_secrets():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("command", [("check", "--deploy"), ("migrate", "--noinput")])
def test_a_placeholder_key_encryption_key_stops_the_start_naming_it(command):
    # .env.example's value, copied without editing.
    result = manage(*command, env=production_env(KEY_ENCRYPTION_KEY="change-me"))

    assert result.returncode == 2
    assert result.stderr == ("configuration error: KEY_ENCRYPTION_KEY is a placeholder; make "
                             "one with: python manage.py make_secrets\n")


@pytest.mark.parametrize("overrides, message", [
    ({"KEY_ENCRYPTION_KEY": "not/base64url!"}, "KEY_ENCRYPTION_KEY must be base64url"),
    ({"KEY_ENCRYPTION_KEY": "c2hvcnQ"}, "KEY_ENCRYPTION_KEY must decode to exactly 32 bytes"),
    ({"KEY_ENCRYPTION_KEY": "A" * 43}, "KEY_ENCRYPTION_KEY is not random"),
    ({"DJANGO_SECRET_KEY": "change-me-to-a-long-random-string-of-at-least-fifty-characters"},
     "DJANGO_SECRET_KEY is a placeholder"),
    ({"DJANGO_SECRET_KEY": "s3cr3t"}, "DJANGO_SECRET_KEY must be at least 50 characters"),
    ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY is not set"),
    ({"DATABASE_URL": None}, "DATABASE_URL is not set"),
    ({"DATABASE_URL": "postgres://dpp:change-me@postgres:5432/dpp"},
     "DATABASE_URL has a placeholder password"),
    ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL is not set"),
    ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL is not set"),
    ({"PUBLIC_BASE_URL": "https://dpp.example.com"}, "PUBLIC_BASE_URL names the example host"),
    ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be a boolean"),
    ({"CELERY_PUBLISH_TIMEOUT": "fast"}, "CELERY_PUBLISH_TIMEOUT must be a number"),
    ({"CACHE_TIMEOUT": "0"}, "CACHE_TIMEOUT must be a positive number of seconds"),
])
def test_each_bad_value_stops_migrate_with_one_line_naming_it(overrides, message):
    result = manage("migrate", "--noinput", env=production_env(**overrides))

    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: " + message)
    assert result.stderr.count("\n") == 1  # one line, no traceback
    for value in overrides.values():
        if value and len(value) > 8:
            assert value not in result.stderr  # a secret is named, never shown


def test_make_secrets_works_before_any_setting_and_its_values_pass():
    result = manage("make_secrets", env=production_env(KEY_ENCRYPTION_KEY="change-me"))
    made = dict(line.split("=", 1) for line in result.stdout.splitlines()
                if not line.startswith("#"))

    assert result.returncode == 0
    assert set(made) == {"DJANGO_SECRET_KEY", "KEY_ENCRYPTION_KEY", "POSTGRES_PASSWORD",
                         "METRICS_TOKEN", "BACKUP_ARCHIVE_KEY"}
    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(
        DJANGO_SECRET_KEY=made["DJANGO_SECRET_KEY"],
        KEY_ENCRYPTION_KEY=made["KEY_ENCRYPTION_KEY"]))
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("server", [
    ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi"],
    ["celery", "-A", "config", "worker"],
    ["celery", "-A", "config", "beat"],
])
def test_the_servers_stop_on_a_placeholder_with_the_same_line(server):
    env = production_env(KEY_ENCRYPTION_KEY="change-me", WEB_BIND="127.0.0.1:0")
    result = subprocess.run([sys.executable, "-m", *server], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 2
    assert ("configuration error: KEY_ENCRYPTION_KEY is a placeholder; make one with: python "
            "manage.py make_secrets\n") in result.stderr
    assert "Traceback" not in result.stderr


def test_the_other_settings_checks_stop_with_one_line_too():
    result = manage("migrate", env=production_env(PUBLIC_BASE_URL="dpp.acme-batteries.eu"))

    assert result.returncode == 2
    assert result.stderr == ("configuration error: PUBLIC_BASE_URL must be an http(s) origin: "
                             "'dpp.acme-batteries.eu'\n")
