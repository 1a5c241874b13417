"""POST /api/v1/verify/ with credentials of every supported format, in every state a partner
meets: valid, tampered, revoked, suspended, expired, unknown issuer, unknown context, garbage.
A request it can parse always gets 200; the verdict names the failing check."""

import json

import pytest

from credentials.status_list import TokenStatus
from credentials.status_registry import token_status_set
from passports.models import Passport
from passports.services.status import passport_revoke, passport_suspend
from tests.support.formats import CASES, FORMATS, GARBAGE, world_for
from wallet.tenancy.authority import operator

# docs/architecture.md, Credentials: a credential whose context the service does not know is
# refused, whatever secures it (the verifier checks every context, also for JOSE formats and
# contexts appended after an eddsa-jcs-2022 proof was made).
NO_CONTEXT = {"dc+sd-jwt"}  # SD-JWT VCs carry no JSON-LD context: nothing to test


def failing(verdict: dict) -> list[dict]:
    """Every failing check, including those of the credentials inside a presentation."""
    found = [c for c in verdict["checks"] if not c["ok"]]
    for inner in verdict.get("credentials", []):
        found += failing(inner)
    return found


def details(verdict: dict) -> str:
    return " | ".join(f"{c['check']}: {c.get('detail', '')}" for c in failing(verdict))


def expect(verdict: dict, case: str, fmt) -> None:
    if case == "valid":
        assert verdict["verified"] is True, details(verdict)
        assert verdict["format"] == fmt.name.split(" ")[0]
        return
    assert verdict["verified"] is False
    assert verdict["errors"], "a failed verdict names its errors"
    checks = failing(verdict)
    if case == "tampered":
        assert any(c["check"] == "proof" for c in checks), details(verdict)
    elif case in ("revoked", "suspended"):
        assert any(c["check"] == "status" and c.get("detail") == case for c in checks), \
            details(verdict)
    elif case == "expired":
        assert any("expired" in c.get("detail", "") for c in checks), details(verdict)
    elif case == "unknown_issuer":
        assert any(c["check"] == "proof" and "nobody" in c.get("detail", "")
                   for c in checks), details(verdict)
    elif case == "unknown_context":
        assert any("context" in c.get("detail", "") for c in checks), details(verdict)


def prepare(fmt, case, passport: Passport):
    world = world_for(passport)
    if case == "garbage":
        return GARBAGE[fmt.name]
    secured = fmt.make(world, case)
    if case == "revoked":
        passport_revoke(actor=operator(), passport=passport, reason="counterfeit cells")
        if world.token_entry:
            token_status_set(world.token_entry, TokenStatus.INVALID)
    elif case == "suspended":
        passport_suspend(actor=operator(), passport=passport, reason="under investigation")
        if world.token_entry:
            token_status_set(world.token_entry, TokenStatus.SUSPENDED)
    return secured


def params() -> list:
    found = []
    for fmt in FORMATS:
        for case in CASES:
            marks = []
            if case == "unknown_context" and fmt.name in NO_CONTEXT:
                continue
            found.append(pytest.param(fmt, case, id=f"{fmt.name}-{case}", marks=marks))
    return found


@pytest.mark.parametrize(("fmt", "case"), params())
def test_verify_every_format_in_every_state(anonymous, passport, fmt, case):
    secured = prepare(fmt, case, passport)
    body = {fmt.field: secured}
    if fmt.field == "presentation":
        body.update(challenge="c-1", domain="verifier.example")

    response = anonymous.post("/api/v1/verify/", body, format="json")

    assert response.status_code == 200, response.content
    expect(response.json(), case, fmt)
    if fmt.media_type and fmt.field == "credential":  # the same, as a raw body of its type
        data = secured if isinstance(secured, str) else json.dumps(secured)
        response = anonymous.generic("POST", "/api/v1/verify/", data,
                                     content_type=fmt.media_type)
        assert response.status_code == 200, response.content
        expect(response.json(), case, fmt)


def test_a_gtin_of_serialised_products_without_its_serial_asks_for_it(anonymous, passport):
    no_serial = anonymous.post("/api/v1/verify/", {"gtin": passport.product.gtin}, format="json")
    unknown = anonymous.post("/api/v1/verify/", {"gtin": "04006381333931"}, format="json")
    found = anonymous.post("/api/v1/verify/", {"gtin": passport.product.gtin,
                                               "serial": passport.product.serial}, format="json")

    assert no_serial.status_code == 400, no_serial.content
    assert no_serial["Content-Type"] == "application/problem+json"
    assert "serial" in json.dumps(no_serial.json())
    assert unknown.status_code == 404  # no product with that GTIN at all: still not found
    assert found.status_code == 200
