"""Checking a protocol message against its JSON Schema and the rules a schema cannot express."""

from __future__ import annotations

from collections.abc import Callable

from jsonschema import Draft202012Validator


def conformance_errors(validator: Draft202012Validator, document,
                       spec_rule_errors: Callable[[object], list[str]]) -> list[str]:
    """Schema violations of `document` (path: message), or, when it meets the schema, what
    `spec_rule_errors` finds; [] when it conforms."""
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
             for e in validator.iter_errors(document)]
    return found or spec_rule_errors(document)
