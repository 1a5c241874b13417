"""The official e-invoice validation artefacts run over our documents (tests only).

`tests/vectors/einvoice/` holds them unchanged (VERSIONS.txt gives each release and commit):
the CEN EN 16931 UBL Schematron compiled to XSLT 2.0 (validation 1.3.16), the Peppol BIS
Billing 3.0 Schematron with its Dutch rules (3.0.19, compiled with SchXslt) and the OASIS UBL
2.1 schemas. The XSLT runs in Saxon-HE (PyPI `saxonche`), each stylesheet compiled once per
test process; the output is SVRL, whose failed assertions are the findings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ARTEFACTS = Path(__file__).resolve().parent.parent / "vectors" / "einvoice"
EXAMPLES = ARTEFACTS / "examples"
STYLESHEETS = {
    "en16931": ARTEFACTS / "en16931" / "EN16931-UBL-validation.xslt",
    "peppol": ARTEFACTS / "peppol" / "PEPPOL-EN16931-UBL.xslt",
}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@dataclass(frozen=True)
class Finding:
    rule: str  # BR-CL-04, PEPPOL-EN16931-R003, NL-R-007
    flag: str  # fatal | warning
    location: str
    text: str


@cache
def _processor():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@cache
def _executable(rules: str):
    return _processor().new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(STYLESHEETS[rules]))


def findings(xml: bytes, rules: str) -> list[Finding]:
    """Every failed assertion of rule set `rules` ("en16931" or "peppol") over `xml`."""
    document = _processor().parse_xml(xml_text=xml.decode("utf-8"))
    svrl = ET.fromstring(  # noqa: S314 - SVRL our own Saxon run wrote
        _executable(rules).transform_to_string(xdm_node=document))
    return [Finding(rule=failed.get("id"), flag=failed.get("flag"),
                    location=failed.get("location"),
                    text=" ".join(failed.findtext(f"{SVRL}text", "").split()))
            for failed in svrl.iter(f"{SVRL}failed-assert")]


def fatal(xml: bytes, *rule_sets: str) -> list[str]:
    """The rule ids of the fatal findings of `rule_sets` (default: both) over `xml`."""
    return [finding.rule for rules in (rule_sets or tuple(STYLESHEETS))
            for finding in findings(xml, rules) if finding.flag == "fatal"]


@cache
def _schema(root: str):
    import lxml.etree

    return lxml.etree.XMLSchema(lxml.etree.parse(
        str(ARTEFACTS / "ubl21" / "xsd" / "maindoc" / f"UBL-{root}-2.1.xsd")))


def schema_errors(xml: bytes) -> list[str]:
    """What the UBL 2.1 schema of the document's root (Invoice or CreditNote) says is wrong."""
    import lxml.etree

    document = lxml.etree.fromstring(xml)
    schema = _schema(lxml.etree.QName(document).localname)
    schema.validate(document)
    return [str(error) for error in schema.error_log]
