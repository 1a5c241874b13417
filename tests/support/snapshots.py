"""The outside contract as recorded, two JSON files next to this one (first taken before the
layering step of issue #17, which had to leave them unchanged):
the OpenAPI document and every URL name with its pattern. tests/test_layers.py compares the
current project with them; regenerate them on a branch whose API is meant to change with

    .venv/bin/python -m tests.support.snapshots
"""

from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPENAPI_FILE = HERE / "openapi-snapshot.json"
URLS_FILE = HERE / "urls-snapshot.json"


def openapi_document() -> dict:
    """The document `manage.py spectacular` writes, as data."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # Round trip through JSON: the same types (lists, str keys) as the stored file.
    return json.loads(json.dumps(schema, sort_keys=True, default=str))


def url_table() -> list[dict]:
    """Every route: its full regex pattern, its name (with namespace) and the view's module path
    is deliberately left out (the layering step moves views, the URLs must not move)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    rows = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            pattern = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}{entry.namespace}:"
                walk(entry.url_patterns, pattern, inner)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}{entry.name}" if entry.name else None
                rows.append({"pattern": pattern, "name": name})

    walk(get_resolver().url_patterns, "", "")
    return rows


def write() -> None:
    OPENAPI_FILE.write_text(json.dumps(openapi_document(), indent=1, sort_keys=True) + "\n")
    URLS_FILE.write_text(json.dumps(url_table(), indent=1) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    write()
    print(f"wrote {OPENAPI_FILE} and {URLS_FILE}")
