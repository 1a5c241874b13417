"""Reading gettext catalogs (.po) in tests."""

from __future__ import annotations

import re
from pathlib import Path


def _blocks(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n\n")


def fuzzy_entries(path: Path) -> list[str]:
    """The entries of a .po file marked fuzzy (gettext leaves them out when compiling), the
    header's mark aside."""
    return [block for block in _blocks(path)
            if "#, fuzzy" in block and 'msgid ""\nmsgstr ""' not in block]


def catalog(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file (plural entries by their singular, with the first form);
    the header is the entry of msgid ""."""
    entries = {}
    for block in _blocks(path):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?|msgstr\[\d\]) "(.*)"$', line)
            if match:
                key = match[1]
                fields[key] = fields.get(key, "") + match[2]
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if "msgid" in fields:
            entries[_unescape(fields["msgid"])] = _unescape(
                fields.get("msgstr", fields.get("msgstr[0]", "")))
    return entries


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
