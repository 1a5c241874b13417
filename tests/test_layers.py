"""Issue #17 (one-way layers) moved code, not behaviour: the OpenAPI document (operation ids,
components, paths) and the URL table are the ones generated before the step
(tests/support/snapshots.py writes them)."""

import ast
import json
from pathlib import Path

from tests.support.snapshots import OPENAPI_FILE, URLS_FILE, openapi_document, url_table


def _without_example_values(node):
    """Examples carry freshly salted SD-JWTs: compare their names and summaries, not values."""
    if isinstance(node, dict):
        return {key: ("<example value>" if key == "value" and "summary" in node
                      else _without_example_values(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_example_values(value) for value in node]
    return node


def test_the_openapi_document_is_the_one_before_the_layering():
    """Everything documented before is still there, unchanged; later issues may add operations
    (e.g. issue #24's exports and webhooks), never change or drop one."""
    before = _without_example_values(json.loads(OPENAPI_FILE.read_text()))
    now = _without_example_values(openapi_document())

    assert {path: now["paths"].get(path) for path in before["paths"]} == before["paths"]
    schemas = now["components"]["schemas"]
    assert {name: schemas.get(name) for name in before["components"]["schemas"]} \
        == before["components"]["schemas"]
    rest = lambda doc: {k: v for k, v in doc.items() if k not in ("paths", "components")}  # noqa: E731
    assert rest(now) == rest(before)


def test_the_url_names_and_patterns_are_the_ones_before_the_layering():
    """The routes of before, in the same order (the first match wins); new ones may be added
    between them."""
    def comparable(row):  # the admin's app index lists every app with an admin: more apps
        return {"name": row["name"]} if row["name"] == "admin:app_list" else row

    now = iter([comparable(row) for row in url_table()])
    missing = [row for row in json.loads(URLS_FILE.read_text()) if comparable(row) not in now]
    assert missing == []


def test_no_test_imports_another_test_module_or_a_conftest():
    """Shared factories and helpers live in tests/support/; a test module or conftest.py is
    never imported (pytest loads conftest files itself)."""
    tests = Path(__file__).resolve().parent
    wrong = []
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):  # the module, and what may be a module in it
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if name.startswith("tests") and (last.startswith("test_") or last == "conftest"):
                    wrong.append(f"{path.relative_to(tests)}: {name}")
    assert wrong == []
