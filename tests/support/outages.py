"""What the outage tests read off the page and the verdict."""

from __future__ import annotations

from passports.models import Passport


def page_path(passport: Passport) -> str:
    product = passport.product
    return f"/01/{product.gtin}/21/{product.serial}"


def failing_checks(verdict: dict) -> list[dict]:
    return [check for check in verdict["checks"] if not check["ok"]]
