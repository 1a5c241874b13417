"""Reading settings from the environment: the only place that calls os.environ for config.

Values the service cannot work with stop the start with a ConfigError: one line that names the
variable and says how to make a good value (manage.py, gunicorn and Celery print just that)."""

import os
from urllib.parse import urlsplit

from core.startup import ConfigError

MAKE_SECRETS = "python manage.py make_secrets"
# What example files and tutorials put where a secret goes.
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "replace-me", "replace_me",
                        "placeholder", "your-secret", "django-insecure")
# Host names reserved for documentation (RFC 2606, RFC 6761): never a real service's address.
_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org", "example", "invalid", "test")


def is_placeholder(value: str) -> bool:
    return any(marker in value.lower() for marker in _PLACEHOLDER_MARKERS)


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number (seconds, e.g. 0.5), got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, *, debug: bool, dev_default: str, check=None) -> str:
    """A secret: a development default only when DEBUG is on. Missing in production, a
    placeholder, the development default in production, or refused by `check` (a function that
    raises ValueError naming what is wrong): the start stops, naming the variable (never its
    value) and the command that makes a good one."""
    value = os.environ.get(name)
    if not value:
        if debug:
            return dev_default
        raise ConfigError(f"{name} is not set (required when DJANGO_DEBUG=0); "
                          f"make one with: {MAKE_SECRETS}")
    if is_placeholder(value) or (value == dev_default and not debug):
        raise ConfigError(f"{name} is a placeholder; make one with: {MAKE_SECRETS}")
    if check is not None:
        try:
            check(value)
        except ValueError as exc:
            raise ConfigError(f"{exc}; make one with: {MAKE_SECRETS}") from None
    return value


def env_optional_secret(name: str, *, min_length: int) -> str | None:
    """A secret that turns a feature on: unset is fine; a placeholder or a short one is not."""
    value = env_str(name)
    if value is not None and (is_placeholder(value) or len(value) < min_length):
        raise ConfigError(f"{name} must be a random value of at least {min_length} characters; "
                          f"make one with: {MAKE_SECRETS}")
    return value


def check_secret_key(value: str) -> None:
    """Django's own deploy check (security.W009), at start rather than as a warning."""
    if len(value) < 50 or len(set(value)) < 5:
        raise ValueError("DJANGO_SECRET_KEY must be at least 50 characters with at least 5 "
                         "different ones")


def check_production_environment(*, debug: bool, public_base_url: str,
                                 database_password: str | None) -> None:
    """What production (DJANGO_DEBUG=0) needs besides its secrets: a real public origin (it is
    inside every DID), PostgreSQL and a broker, and no example password."""
    if debug:
        return
    required = {
        "PUBLIC_BASE_URL": "https://dpp.your-company.eu (chosen once: it is inside every DID)",
        "DATABASE_URL": "postgres://dpp:<password>@db-host:5432/dpp",
        "CELERY_BROKER_URL": "redis://redis-host:6379/0",
    }
    for name, example in required.items():
        if env_str(name) is None:
            raise ConfigError(f"{name} is not set (required when DJANGO_DEBUG=0), e.g. {example}")
    host = (urlsplit(public_base_url).hostname or "").rstrip(".")
    if any(host == domain or host.endswith("." + domain) for domain in _EXAMPLE_DOMAINS):
        raise ConfigError(f"PUBLIC_BASE_URL names the example host {host}: set the service's "
                          f"own public origin (it is inside every DID)")
    if database_password and is_placeholder(database_password):
        raise ConfigError(f"DATABASE_URL has a placeholder password (with docker compose: "
                          f"POSTGRES_PASSWORD); make one with: {MAKE_SECRETS}")
