"""Time stamps as credentials and APIs carry them: ISO 8601 / XML Schema dateTimeStamp in UTC,
whole seconds, with "Z"."""

from __future__ import annotations

from datetime import UTC, datetime


def iso8601(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
