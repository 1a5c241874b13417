"""GS1 keys and Digital Link URIs (GS1 General Specifications §3.3.2, §7.9; Digital Link 1.2)."""

import re
from functools import lru_cache

from django.core.exceptions import ValidationError

# GS1 AI encodable character set 82 (General Specifications Figure 7.11-1).
_GS1_TEXT = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")


def check_digit(digits: str) -> int:
    """Weights 3,1,3,1... from the right, over the digits without the check digit."""
    # Every other digit from the last one counts three times, the others once.
    total = 3 * sum(map(int, digits[::-2])) + sum(map(int, digits[-2::-2]))
    return (10 - total % 10) % 10


def normalise_gtin(value: str) -> str:
    """GTIN-8/12/13/14 → 14 digits; raises ValidationError naming what is wrong."""
    return _normalised_gtin((value or "").strip())


@lru_cache(maxsize=4096)  # a product's GTIN is checked on input and again as a model field
def _normalised_gtin(value: str) -> str:
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise ValidationError("A GTIN has 8, 12, 13 or 14 digits.", code="gtin_format")
    value = value.zfill(14)
    if check_digit(value[:-1]) != int(value[-1]):
        raise ValidationError(
            f"Invalid GTIN check digit: expected {check_digit(value[:-1])}, got {value[-1]}.",
            code="gtin_check_digit")
    return value


def validate_gtin14(value: str) -> None:
    if len(value or "") != 14:
        raise ValidationError("GTIN must be stored as 14 digits.", code="gtin_format")
    normalise_gtin(value)


def validate_gs1_text(value: str) -> None:
    if value and not _GS1_TEXT.match(value):
        raise ValidationError("Use at most 20 characters of the GS1 character set "
                              "(letters, digits and !\"%&'()*+,-./:;<=>?_).", code="gs1_text")


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def digital_link(base_url: str, gtin: str, *, lot: str = "", serial: str = "") -> str:
    uri = f"{base_url.rstrip('/')}/01/{gtin}"
    if lot:
        uri += f"/10/{_quote(lot)}"
    if serial:
        uri += f"/21/{_quote(serial)}"
    return uri
