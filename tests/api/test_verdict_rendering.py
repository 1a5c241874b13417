"""The verdict's compact JSON (passports/api/verifying.render_json, orjson) is the bytes DRF's
JSONRenderer writes, which the API gave before: for real verdicts and for what JSON has no
literal for or DRF escapes."""

import datetime
import decimal
import uuid

import pytest
from rest_framework.renderers import JSONRenderer

from passports.api.verifying import render_json, verify
from passports.services.status import passport_revoke
from wallet.tenancy.authority import operator


def test_real_verdicts_render_as_drf_renders_them(passport):
    verdicts = [verify(passport.jwt), verify("garbage"), verify({"@context": []})]
    passport_revoke(actor=operator(), passport=passport, reason="stolen \u2028 line")
    verdicts.append(verify(passport.jwt))

    for verdict in verdicts:
        assert render_json(verdict) == JSONRenderer().render(verdict)
    assert b"\\u2028" in render_json(verdicts[-1])


@pytest.mark.parametrize("value", [
    "a\u2028b\u2029c", "caf\u00e9 \U0001F50B", 2 ** 70, -(2 ** 64), 12.5, 0.1, 1e15, -0.0,
    datetime.datetime(2026, 12, 7, 18, 0, 0, 123456, tzinfo=datetime.UTC),
    datetime.date(2026, 12, 7), decimal.Decimal("1.50"), uuid.UUID(int=7), [], {},
    None, True])
def test_values_render_as_drf_renders_them(value):
    verdict = {"verified": True, "credential": {"value": value, "list": [value]}}

    assert render_json(verdict) == JSONRenderer().render(verdict)
