"""Stopping a process at start on a setting it cannot work with: one line, no traceback.

Here (not in config/) because the entry points catch it before any app or setting is imported."""

import sys
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured


class ConfigError(ImproperlyConfigured):
    """A setting the service cannot start with; its message is one line for the operator that
    names the variable and says how to make a good value (never the value itself)."""


@contextmanager
def stop_on_config_error(exit_code: int = 2):
    """Print the one line of a ConfigError (or of any ImproperlyConfigured: the settings' other
    checks say what is wrong in one line too) and exit: for manage.py, gunicorn and Celery."""
    try:
        yield
    except ImproperlyConfigured as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(exit_code) from None
