"""The outside contract changes only on purpose: the OpenAPI document (operation ids, components,
paths) and the URL table are the recorded ones (tests/support/snapshots.py writes them; a change
that means to alter the API regenerates them in the same commit). Issue #17's layering step moved
code and left both unchanged."""

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


def test_the_openapi_document_is_the_recorded_one():
    before = json.loads(OPENAPI_FILE.read_text())
    now = openapi_document()

    assert sorted(now["paths"]) == sorted(before["paths"])
    assert sorted(now["components"]["schemas"]) == sorted(before["components"]["schemas"])
    operation_ids = lambda doc: sorted(  # noqa: E731
        operation["operationId"] for item in doc["paths"].values()
        for operation in item.values() if isinstance(operation, dict))
    assert operation_ids(now) == operation_ids(before)
    assert _without_example_values(now) == _without_example_values(before)


def test_the_url_names_and_patterns_are_the_recorded_ones():
    assert url_table() == json.loads(URLS_FILE.read_text())


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
