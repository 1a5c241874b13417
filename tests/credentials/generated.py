"""Generated passport credentials for differential tests: `count` unsigned UNTP passports of a
category, built by the service's own credential builder from random (valid) attribute values,
seeded so every run sees the same documents; and `mutated`, a passport with one value broken
the way a schema should notice (wrong type, bad date-time or URI, missing member)."""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, date, datetime, timedelta

from passports import categories
from passports.credential import characteristics_by_group, passport_credential
from passports.models import Passport, Product
from wallet.tenancy.models import Organisation
from wallet.tenancy.services import organisation_create

TEXT = ["Pack", "Zelle", "élément", "电池", "ß-variant", "O'Brien & Co", "a\"quote", "tab\tin",
        "line\nbreak", "😀 emoji", "  spaced  ", "x" * 80]


def _value(attribute, rng: random.Random):
    kind = attribute.type
    if kind == "enum":
        return rng.choice(attribute.choices)
    if kind in ("integer", "decimal"):
        low = attribute.min if attribute.min is not None else 0
        high = attribute.max if attribute.max is not None else low + 10_000
        number = rng.uniform(low, high)
        return int(number) if kind == "integer" else round(number, rng.choice([0, 1, 2, 3]))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "date":
        return (date(2020, 1, 1) + timedelta(days=rng.randrange(3000))).isoformat()
    if kind == "month":
        return f"{rng.randrange(2015, 2030)}-{rng.randrange(1, 13):02d}"
    if kind == "url":
        return f"https://example.com/{rng.choice(['docs', 'a/b', 'c%20d'])}/{attribute.key}.pdf"
    if attribute.pattern == "^[A-Z]{2}$":
        return rng.choice(["DE", "NL", "FR", "CN", "US"])
    return f"{rng.choice(TEXT)} {rng.randrange(10**6)}"


def passports(category_name: str, count: int, *, seed: int = 20) -> list[dict]:
    """`count` unsigned passport credentials of the category (its latest version), of the
    organisation `acme` (made when missing: needs the database)."""
    rng = random.Random(f"{category_name}-{seed}")
    category = categories.get(category_name)
    organisation = (Organisation.objects.filter(slug="acme").first()
                    or organisation_create(slug="acme", legal_name="Acme Batteries B.V."))
    made = []
    while len(made) < count:
        values = {item.key: _value(item, rng) for item in category.attributes
                  if item.required or rng.random() < 0.7}
        try:
            attributes = categories.clean_attributes(category, values)
        except categories.InvalidAttributes:
            continue
        product = Product(organisation=organisation, gtin="09506000134352",
                          serial=f"SN-{rng.randrange(10**9)}", name=rng.choice(TEXT).strip(),
                          category=category_name, category_version=category.version,
                          country_of_production=rng.choice(["NL", "DE", ""]),
                          facility_name=rng.choice(["", "Plant Eindhoven"]),
                          description=rng.choice(["", "A product."]),
                          attributes=attributes)
        passport = Passport(id=uuid.UUID(int=rng.getrandbits(128)), product=product, version=1)
        issued = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**8))
        with_status = rng.random() < 0.8
        made.append(passport_credential(
            passport, issued_at=issued,
            status_list_url=f"https://dpp.example/status/{uuid.UUID(int=rng.getrandbits(128))}"
            if with_status else None,
            status_index=rng.randrange(131_072) if with_status else None,
            groups=characteristics_by_group(product)))
    return made


BROKEN = [lambda rng: rng.randrange(100), lambda rng: "yesterday", lambda rng: "not a uri",
          lambda rng: None, lambda rng: [], lambda rng: {"x": 1}, lambda rng: True,
          lambda rng: "2024-13-45T99:00:00Z", lambda rng: "http://[::1"]


def mutated(document: dict, rng: random.Random) -> dict:
    """A copy with one member somewhere replaced by a broken value, or removed."""
    broken = copy.deepcopy(document)
    node, paths = broken, []
    while isinstance(node, dict | list) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = rng.choice(keys)
        paths.append((node, key))
        if rng.random() < 0.35:
            break
        node = node[key]
    parent, key = paths[-1]
    if isinstance(parent, dict) and rng.random() < 0.2:
        del parent[key]
    else:
        parent[key] = rng.choice(BROKEN)(rng)
    return broken


def all_categories() -> list[str]:
    return sorted(categories.categories())
