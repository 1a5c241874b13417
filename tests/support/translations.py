"""Reading gettext catalogs (.po) in tests."""

from __future__ import annotations

import re
from pathlib import Path


def catalog(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file (plural entries by their singular, with the first form)."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
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
