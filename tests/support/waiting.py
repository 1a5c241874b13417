"""Waiting for what a real worker does, with a generous anti-hang bound (never a timing)."""

from __future__ import annotations

import time

from passports.models import Passport


def wait_for_state(passport: Passport, state: str, seconds: float = 30) -> Passport:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        passport.refresh_from_db()
        if passport.state == state:
            return passport
        time.sleep(0.1)
    raise AssertionError(f"passport stayed {passport.state}, expected {state}")
