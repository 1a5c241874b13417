"""Fixtures of the passports tests: Acme, and a logged-in staff member of it for the admin's
pages (modules that need them otherwise define their own)."""

from __future__ import annotations

import pytest

from tests.support.factories import organisation, staff_member


@pytest.fixture
def acme(db):
    return organisation("acme", "Acme Batteries B.V.")


@pytest.fixture
def staff(client, acme):
    user = staff_member(acme, "acme-staff")
    client.force_login(user)
    return user
