"""E-invoice profiles: the EN 16931 core, Peppol BIS Billing 3.0 and NLCIUS, and the rules each
adds to the core (wallet.business.messaging.invoices checks the core).

- `en16931`: the core (CustomizationID `urn:cen.eu:en16931:2017`).
- `peppol`: Peppol BIS Billing 3.0 (its CustomizationID and the billing process 01 ProfileID):
  a buyer or order reference, electronic addresses (EAS), its code list restrictions; for a
  seller in the Netherlands also the Dutch rules (NL-R-001..009), as Peppol applies them.
- `nlcius`: what Dutch receivers accept over Peppol: the Peppol document of a seller in the
  Netherlands with its Dutch rules (NLCIUS as Peppol BIS carries it; the rules NL-R-001..009
  are NLCIUS's BR-NL rules). A received document with another CIUS of EN 16931 (XRechnung,
  SI-UBL ...) is checked with the core rules and reported as `en16931`.

Rules are the official ones (PEPPOL-EN16931-R003, NL-R-007 ...), each refusal naming its rule
and value. Not modelled (so never written; a received document carrying them is not checked
for them): the Peppol identifier checks other than GLN (PEPPOL-COMMON-R041..R050), German and
Greek national rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wallet.business.messaging.codelists import codes

EN16931 = "en16931"
PEPPOL = "peppol"
NLCIUS = "nlcius"
EN16931_ID = "urn:cen.eu:en16931:2017"
PEPPOL_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
# ICD schemes of a Dutch legal identifier (NL-R-003/005): KVK number, OIN.
DUTCH_LEGAL_SCHEMES = ("0106", "0190")
KVK = "0106"
LEI = "0199"
GLN = "0088"
DUTCH_PAYMENT_MEANS = ("30", "48", "49", "57", "58", "59")  # NL-R-008
DIRECT_DEBIT = ("49", "59")  # PEPPOL-EN16931-R061
CREDIT_NOTE_TYPES = ("381",)


@dataclass(frozen=True)
class Profile:
    name: str
    label: str
    customization_id: str  # BT-24
    process_id: str  # BT-23, "" for none


PROFILES = {
    EN16931: Profile(EN16931, "EN 16931 core", EN16931_ID, ""),
    PEPPOL: Profile(PEPPOL, "Peppol BIS Billing 3.0", PEPPOL_ID, PEPPOL_PROCESS),
    NLCIUS: Profile(NLCIUS, "NLCIUS over Peppol BIS Billing 3.0", PEPPOL_ID, PEPPOL_PROCESS),
}


def profile_for(profile: str, seller_country: str) -> str:
    """The profile an invoice is written and checked for: a Peppol invoice of a Dutch seller
    keeps the Dutch rules (Peppol applies them), so it is the NLCIUS profile."""
    return NLCIUS if profile == PEPPOL and seller_country == "NL" else profile


def profile_of_document(customization_id: str, seller_country: str) -> str | None:
    """The profile whose rules a received document is checked with, by its specification
    identifier (BT-24); None for one that is not EN 16931."""
    if customization_id.startswith(PEPPOL_ID):
        return profile_for(PEPPOL, seller_country)
    if customization_id.startswith(EN16931_ID):
        return EN16931
    return None


def is_credit_note(type_code: str) -> bool:
    return type_code in CREDIT_NOTE_TYPES


def gln_valid(number: str) -> bool:
    """GS1 check digit (PEPPOL-COMMON-R040): weights 3 and 1 from the right, before the
    check digit."""
    if not number.isdigit() or len(number) < 2:
        return False
    body, check = number[:-1], int(number[-1])
    total = sum(int(digit) * (3 if position % 2 == 0 else 1)
                for position, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def check_endpoint(endpoint: str, name: str, add: Callable[[str, str], None]) -> None:
    """An electronic address (BT-34 / BT-49) as `scheme:identifier`, the scheme from the EAS
    list (BR-CL-25)."""
    scheme, _, identifier = endpoint.partition(":")
    if not identifier:
        add(name, f"An electronic address is written scheme:identifier (e.g. 0106:12345678 "
                  f"for a KVK number), not {endpoint!r}.")
    elif scheme not in codes("eas"):
        add(name, f"BR-CL-25: the electronic address scheme {scheme!r} is not in the EAS "
                  f"code list.")
    elif scheme == GLN and not gln_valid(identifier):
        add(name, f"PEPPOL-COMMON-R040: {identifier!r} is not a GLN (GS1 check digit).")


def check_profile(invoice, add: Callable[[str, str], None]) -> None:
    """The rules `invoice.profile` adds to the core, each refusal through `add(field,
    message)`."""
    if invoice.profile not in PROFILES:
        add("profile", f"Unknown profile {invoice.profile!r} (one of {', '.join(PROFILES)}).")
        return
    if invoice.profile == EN16931:
        return
    _check_peppol(invoice, add)
    if invoice.profile == NLCIUS:
        if invoice.seller.country != "NL":
            add("profile", f"NLCIUS is for sellers in the Netherlands, not "
                           f"{invoice.seller.country!r} (choose peppol).")
        else:
            _check_dutch(invoice, add)


def _check_peppol(invoice, add) -> None:
    if not (invoice.buyer_reference or invoice.order_reference):
        add("buyer_reference", "PEPPOL-EN16931-R003: a buyer reference (BT-10) or purchase "
                               "order reference (BT-13) must be provided.")
    for role, rule in (("seller", "PEPPOL-EN16931-R020"), ("buyer", "PEPPOL-EN16931-R010")):
        endpoint = getattr(invoice, role).endpoint
        if not endpoint:
            add(f"{role}.endpoint", f"{rule}: the {role}'s electronic address (Peppol "
                                    f"participant id, e.g. 0106:<KVK number>) must be "
                                    f"provided.")
        elif endpoint.partition(":")[0] not in codes("peppol-eas"):
            add(f"{role}.endpoint", f"PEPPOL-EN16931-CL008: the electronic address scheme "
                                    f"{endpoint.partition(':')[0]!r} is not in Peppol's EAS "
                                    f"list.")
    if invoice.currency and invoice.currency not in codes("peppol-iso4217"):
        add("currency", f"PEPPOL-EN16931-CL007: currency {invoice.currency!r} is not in "
                        f"Peppol's ISO 4217 list.")
    types = "peppol-credit-note-types" if is_credit_note(invoice.type_code) \
        else "peppol-invoice-types"
    if invoice.type_code not in codes(types):
        add("type_code", f"PEPPOL-EN16931-P0100/P0101: type code {invoice.type_code!r} is not "
                         f"one of billing process 01.")
    for index, means in enumerate(invoice.payment_means):
        if means.code in DIRECT_DEBIT and not means.mandate_id:
            add(f"payment_means[{index}].mandate_id", "PEPPOL-EN16931-R061: a direct debit "
                                                      "has a mandate reference (BT-89).")


def _check_dutch(invoice, add) -> None:
    seller, buyer = invoice.seller, invoice.buyer
    if is_credit_note(invoice.type_code) and not invoice.preceding_invoice:
        add("preceding_invoice", "NL-R-001: a credit note of a Dutch seller names the invoice "
                                 "it credits (BT-25).")
    for role, party, address_rule, legal_rule in (
            ("seller", seller, "NL-R-002", "NL-R-003"), ("buyer", buyer, "NL-R-004",
                                                         "NL-R-005")):
        if role == "buyer" and buyer.country != "NL":
            continue
        missing = [term for term in ("street", "city", "postal_code")
                   if not getattr(party, term)]
        if missing:
            add(f"{role}.address", f"{address_rule}: the {role}'s address has a street name, "
                                   f"city and post code (missing: {', '.join(missing)}).")
        if party.registry_id and party.registry_scheme not in DUTCH_LEGAL_SCHEMES:
            add(f"{role}.registry_scheme", f"{legal_rule}: the {role}'s legal registration "
                                           f"identifier is a KVK or OIN number (scheme 0106 "
                                           f"or 0190), not scheme "
                                           f"{party.registry_scheme or 'none'!r}.")
    payable = invoice.payable_amount
    credit = is_credit_note(invoice.type_code)
    if payable is not None and (payable < 0 if credit else payable > 0) \
            and not invoice.payment_means:
        add("payment_means", "NL-R-007: a Dutch seller gives the payment means (BG-16) when "
                             "the buyer has to pay.")
    if buyer.country == "NL":
        for index, means in enumerate(invoice.payment_means):
            if means.code not in DUTCH_PAYMENT_MEANS:
                add(f"payment_means[{index}].code", f"NL-R-008: between Dutch parties the "
                                                    f"payment means code is one of "
                                                    f"{', '.join(DUTCH_PAYMENT_MEANS)}, not "
                                                    f"{means.code!r}.")
    if any(line.order_line_reference for line in invoice.lines) and not invoice.order_reference:
        add("order_reference", "NL-R-009: an order line reference (BT-132) needs the order "
                               "reference (BT-13).")
