"""Derive the bundled code lists from the official validation artefacts (run once per release).

    python -m wallet.codelists.derive /work/shared/conformance/einvoice

Each list is read from the rule that enumerates it: the compiled CEN EN 16931 UBL Schematron
(the `contains(' A B C ', ...)` list of a BR-CL-/BR-CO- assertion) and the Peppol BIS Billing
3.0 Schematron (its `<let name=... value="tokenize('A B C', ...)">` lists and the profile
restrictions of P0100/P0101). Nothing is typed by hand: a new release of the artefacts is a new
run of this script; MANIFEST.md names the source files, their versions and sha256."""

from __future__ import annotations

import hashlib
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
XSL = "{http://www.w3.org/1999/XSL/Transform}"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
SCH = "{http://purl.oclc.org/dsdl/schematron}"
EN16931 = "en16931/EN16931-UBL-validation.xslt"
PEPPOL = "peppol/PEPPOL-EN16931-UBL.sch"

# file: (source, rule, which list of the rule's test, what it is)
FROM_EN16931 = {
    "untdid1001-invoice.txt": ("BR-CL-01", 0, "UNTDID 1001 invoice type codes"),
    "untdid1001-credit-note.txt": ("BR-CL-01", 1, "UNTDID 1001 credit note type codes"),
    "iso4217.txt": ("BR-CL-04", 0, "ISO 4217 alpha-3 currency codes"),
    "iso3166.txt": ("BR-CL-14", 0, "ISO 3166-1 alpha-2 country codes"),
    "vat-prefixes.txt": ("BR-CO-09", 0, "VAT identifier prefixes (ISO 3166-1 + EL, XI)"),
    "uncl4461.txt": ("BR-CL-16", 0, "UNCL 4461 payment means codes"),
    "uncl5305.txt": ("BR-CL-17", 0, "UNCL 5305 VAT category codes"),
    "uncl5189.txt": ("BR-CL-19", 0, "UNCL 5189 allowance reason codes"),
    "uncl7161.txt": ("BR-CL-20", 0, "UNCL 7161 charge reason codes"),
    "vatex.txt": ("BR-CL-22", 0, "CEF VATEX exemption reason codes"),
    "rec20-21.txt": ("BR-CL-23", 0, "UN/ECE Recommendation 20 and 21 unit codes"),
    "eas.txt": ("BR-CL-25", 0, "CEF EAS electronic address schemes"),
    "icd.txt": ("BR-CL-11", 0, "ISO 6523 ICD identifier schemes"),
}
FROM_PEPPOL_LETS = {
    "peppol-iso4217.txt": ("ISO4217", "PEPPOL-EN16931-CL007", "ISO 4217 as Peppol restricts it"),
    "peppol-eas.txt": ("eaid", "PEPPOL-EN16931-CL008", "Peppol electronic address schemes"),
}
FROM_PEPPOL_ASSERTS = {
    "peppol-invoice-types.txt": ("PEPPOL-EN16931-P0100", "invoice type codes of process 01"),
    "peppol-credit-note-types.txt": ("PEPPOL-EN16931-P0101",
                                     "credit note type codes of process 01"),
}
CONTAINS = re.compile(r"contains\(\s*'\s([^']*?)\s'\s*,")
TOKENIZE = re.compile(r"tokenize\('([^']*)'")


def en16931_lists(path: Path) -> dict[str, list[list[str]]]:
    lists: dict[str, list[list[str]]] = {}
    for failed in ET.parse(path).getroot().iter(f"{SVRL}failed-assert"):  # noqa: S314 - official
        ids = [a.text for a in failed.findall(f"{XSL}attribute") if a.get("name") == "id"]
        if ids:
            lists[ids[0]] = [found.split() for found in CONTAINS.findall(failed.get("test"))]
    return lists


def peppol_lists(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    root = ET.parse(path).getroot()  # noqa: S314 - the official artefact
    lets = {let.get("name"): TOKENIZE.search(let.get("value")).group(1).split()
            for let in root.iter(f"{SCH}let") if TOKENIZE.search(let.get("value") or "")}
    asserts = {a.get("id"): TOKENIZE.search(a.get("test")).group(1).split()
               for a in root.iter(f"{SCH}assert") if TOKENIZE.search(a.get("test") or "")}
    return lets, asserts


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(artefacts: Path) -> None:
    versions = (artefacts / "VERSIONS.txt").read_text()
    rows = []
    en = en16931_lists(artefacts / EN16931)
    for name, (rule, index, what) in FROM_EN16931.items():
        codes = en[rule][index]
        (HERE / name).write_text("\n".join(codes) + "\n")
        rows.append((name, what, len(codes), EN16931, f"assertion {rule}, list {index + 1}"))
    lets, asserts = peppol_lists(artefacts / PEPPOL)
    for name, (let, rule, what) in FROM_PEPPOL_LETS.items():
        (HERE / name).write_text("\n".join(lets[let]) + "\n")
        rows.append((name, what, len(lets[let]), PEPPOL, f"`{let}` (used by {rule})"))
    for name, (rule, what) in FROM_PEPPOL_ASSERTS.items():
        (HERE / name).write_text("\n".join(asserts[rule]) + "\n")
        rows.append((name, what, len(asserts[rule]), PEPPOL, f"assertion {rule}"))
    table = "\n".join(f"| `{name}` | {what} | {count} | `{source}` | {where} |"
                      for name, what, count, source, where in rows)
    (HERE / "MANIFEST.md").write_text(f"""# Code lists (derived, not hand-typed)

Written by `python -m wallet.codelists.derive <artefacts>` from the official validation
artefacts; one code a line, in the order of the source. Rerun it for a new release.

| file | list | codes | source file | taken from |
|---|---|---|---|---|
{table}

Source files (sha256):
- `{EN16931}` {sha256(artefacts / EN16931)}
- `{PEPPOL}` {sha256(artefacts / PEPPOL)}

The artefacts' VERSIONS.txt:
```
{versions.strip()}
```
""")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
