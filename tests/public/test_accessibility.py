"""WCAG AA contrast of the verdict colours in the page's stylesheet: text at least 4.5:1 on its
background, the badge's icon and border at least 3:1 (WCAG 2.2 SC 1.4.3 and 1.4.11). The
meaning never rests on colour: every badge has its word and its own icon shape (see
test_page.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

KINDS = ["verified", "revoked", "suspended", "superseded", "unknown"]


def css() -> str:
    return Path(finders.find("passports/public.css")).read_text()


def rule(selector: str) -> dict[str, str]:
    body = re.search(r"(?m)^" + re.escape(selector) + r"\s*\{([^}]*)\}", css())[1]
    return dict((name.strip(), value.strip()) for name, value in
                (item.split(":", 1) for item in body.split(";") if ":" in item))


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("kind", KINDS)
def test_verdict_colours_meet_wcag_aa(kind):
    box, badge = rule(f".verdict-{kind}"), rule(f".verdict-{kind} .badge")
    background = box["background"]
    assert contrast(box["color"], background) >= 4.5
    assert contrast(badge["color"], background) >= 4.5  # the badge's word
    assert contrast(box["border-color"], background) >= 3  # the box and the icon's shape


def test_check_marks_and_links_meet_wcag_aa():
    for kind in KINDS:
        background = rule(f".verdict-{kind}")["background"]
        assert contrast(rule(".check-ok .icon")["color"], background) >= 3
        assert contrast(rule(".check-failed .icon")["color"], background) >= 3
    assert contrast(rule("a")["color"], "#ffffff") >= 4.5
    assert contrast("#ffffff", rule(".top")["background"]) >= 4.5
