"""Generate battery.v1.json from the Battery Pass data model v1.2 attribute list.

Run from the repository root:

    .venv/bin/python passports/categories/generate_battery.py [--source FILE] [--check]

The output is deterministic: the same source gives the same file, byte for byte. The script
stands alone (no Django, no project imports) so that it runs from a fresh clone.
"""

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "sources" / "battery-passport-attributes-v1.2.json"
TARGET = HERE / "battery.v1.json"

ACCESS_GROUPS = {
    "Public": "public",
    "persons with a legitimate interest": "legitimate_interest",
    "persons with a legitimate interest and the Commission": "legitimate_interest_commission",
    "Notified bodies, market surveillance authorities and the Commission": "authorities",
}

# Every data format of the source is listed, so a new source version with a new format stops
# the script instead of being guessed at.
DATA_FORMATS = {
    "Decimal": "decimal",
    "Integer": "integer",
    "Date[YYYY-MM]": "month",
    "PDF": "url",
    "Link to PDF": "url",
    "URL": "url",
    "Text/URL": "url",
    "Graphic": "url",
    "Representation to document": "url",
    "String": "string",
    "ID": "string",
    "n.a.": "string",
    "See 6.1 and 6.2": "string",
}

# Source unit -> (UNECE Recommendation 20 code, human unit when Rec 20 has no code).
UNITS = {
    "n.a.": (None, None),
    "-": ("C62", None),
    "%": ("P1", None),
    "Ah": ("AMH", None),
    "kWh": ("KWH", None),
    "V": ("VLT", None),
    "W": ("WTT", None),
    "°C": ("CEL", None),
    "kg": ("KGM", None),
    "years": ("ANN", None),
    "Minutes": ("MIN", None),
    "Ohm": ("OHM", None),
    "%/month": (None, "%/month"),
    "kgCO2e/kWh": (None, "kgCO2e/kWh"),
    "[tCO2e]": (None, "tCO2e"),
    "W/Wh": (None, "W/Wh"),
    "A/Ah": (None, "A/Ah"),
}

# Keys derived from very long names, or aligned with the names UNTP's own battery sample uses
# (certifiedUsableEnergy, maximumPermittedPower, initialInternalResistance, expectedLifetime*).
# Keyed by the source's attribute number.
KEY_OVERRIDES = {
    3: "operatorIdentifier",
    4: "manufacturerIdentifier",
    7: "putIntoServiceDate",
    8: "warrantyPeriod",
    18: "testReportResults",
    19: "carbonFootprintPerFunctionalUnit",
    20: "rawMaterialCarbonFootprintShare",
    21: "productionCarbonFootprintShare",
    22: "distributionCarbonFootprintShare",
    23: "endOfLifeCarbonFootprintShare",
    25: "carbonFootprintStudy",
    27: "absoluteCarbonFootprint",
    28: "dueDiligenceReport",
    29: "thirdPartyAssurances",
    33: "cathodeAnodeElectrolyteMaterials",
    35: "impactOfSubstances",
    36: "dismantlingInformation",
    38: "sparePartsSources",
    49: "wastePreventionInformation",
    50: "separateCollectionInformation",
    51: "endOfLifeInformation",
    55: "certifiedUsableEnergy",
    56: "remainingUsableEnergy",
    65: "maximumPermittedPower",
    66: "powerToEnergyRatio",
    68: "roundTripEnergyEfficiencyAtHalfCycleLife",
    70: "roundTripEnergyEfficiencyFade",
    74: "initialInternalResistance",
    75: "internalResistanceIncrease",
    76: "expectedLifetimeYears",
    77: "expectedLifetimeCycles",
    78: "numberOfFullCycles",
    80: "cycleLifeTestCRate",
    87: "timeAboveTemperatureBoundary",
    88: "timeBelowTemperatureBoundary",
    89: "chargingTimeAboveTemperatureBoundary",
    90: "chargingTimeBelowTemperatureBoundary",
}

# The source says Integer ohm, which cannot hold a pack's resistance (tens of milliohm).
TYPE_OVERRIDES = {74: "decimal"}

KEY_FACTS = {
    "batteryChemistry",
    "ratedCapacity",
    "certifiedUsableEnergy",
    "nominalVoltage",
    "batteryMass",
    "carbonFootprintPerFunctionalUnit",
    "postConsumerRecycledCobaltShare",
    "postConsumerRecycledLithiumShare",
    "postConsumerRecycledNickelShare",
    "postConsumerRecycledLeadShare",
}

# Percentages that are changes rather than shares: they may pass 100 (internal resistance can
# double) or, for the evolution of self-discharge, go either way.
PERCENT_WITHOUT_MAXIMUM = {"internalResistanceIncrease"}
UNBOUNDED = {"evolutionOfSelfDischargeRates"}

# Required: what the Annex VI Part A label already shows, so every battery has it when its
# passport is issued. Identifiers (data format ID) are excluded: they are the product's and
# the issuer's identifiers in the credential, not characteristics.
LABEL_REFERENCE = re.compile(r"Annex VI,? Part A")


def camel_case(name: str) -> str:
    """'State of Charge (SoC)' -> 'stateOfCharge': parentheses dropped, letters and digits kept."""
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"\(.*?\)", "", name))
    return words[0].lower() + "".join(word[0].upper() + word[1:].lower() for word in words[1:])


def clean_text(text: str) -> str:
    return " ".join(text.split())


def attribute(row: dict) -> dict:
    number = row["n"]
    key = KEY_OVERRIDES.get(number) or camel_case(row["attribute"])
    value_type = TYPE_OVERRIDES.get(number) or DATA_FORMATS[row["data_format"]]
    unit, unit_text = UNITS[row["unit"]]
    numeric = value_type in ("integer", "decimal")
    if not numeric:  # e.g. "Information on accidents" has unit "-" but is a document link
        unit = unit_text = None

    result = {
        "key": key,
        "label": clean_text(row["attribute"]),
        "type": value_type,
        "unit": unit,
    }
    if unit_text:
        result["unit_text"] = unit_text
    result["access"] = ACCESS_GROUPS[row["access"]]
    result["required"] = bool(
        LABEL_REFERENCE.search(row["regulation_reference"]) and row["data_format"] != "ID"
    )
    if numeric and key not in UNBOUNDED and unit != "CEL":
        result["min"] = 0
        if "%" in row["unit"] and key not in PERCENT_WITHOUT_MAXIMUM:
            result["max"] = 100
    result["section"] = clean_text(row["category"])
    reference = clean_text(row["regulation_reference"])
    result["source"] = f"Battery Pass data model v1.2, attribute {number}; {reference}"
    if key in KEY_FACTS:
        result["key_fact"] = True
    return result


def generate(rows: list[dict]) -> dict:
    attributes = [attribute(row) for row in sorted(rows, key=lambda row: row["n"])]
    keys = [item["key"] for item in attributes]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise SystemExit(f"duplicate keys, add overrides: {', '.join(duplicates)}")
    missing_facts = KEY_FACTS - set(keys)
    if missing_facts:
        raise SystemExit(f"key facts not in the source: {', '.join(sorted(missing_facts))}")
    return {
        "category": "battery",
        "version": 1,
        "label": "Battery",
        "regulation": "Regulation (EU) 2023/1542 (Batteries Regulation), Annex XIII; "
        "Battery Pass data model v1.2 (DIN DKE SPEC 99100)",
        "attributes": attributes,
    }


def render(source: Path = SOURCE) -> str:
    rows = json.loads(source.read_text(encoding="utf-8"))
    return json.dumps(generate(rows), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if battery.v1.json is out of date"
    )
    args = parser.parse_args(argv)
    text = render(args.source)
    if args.check:
        stale = not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text
        print(f"{TARGET.name} is {'out of date' if stale else 'up to date'}")
        return 1 if stale else 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
