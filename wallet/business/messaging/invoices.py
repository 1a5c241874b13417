"""E-invoices: the EN 16931-1:2017 core as Python values, its business rules, and UBL 2.1.

Pure: no database. The services (messaging/services.py) build the parties from the organisations'
legal details and store `to_data(invoice)`.

- `invoice_from_data(data, seller=, buyer=)`: JSON-like input → Invoice. What the input leaves
  out (line net amounts, the VAT breakdown, the document totals) is computed; what it gives is
  checked, never silently replaced.
- `check(invoice)`: the business rules this core uses, as a ValidationError keyed by the field
  (`number`, `lines[2].net_amount`, `vat_breakdown[0].tax_amount`, `tax_total`), each message
  citing its rule (BR-CO-10 ...). Arithmetic is Decimal, rounded half up to 2 decimals, and
  exact (the official Schematron allows ±1 on BR-CO-17; we do not).
- `to_ubl(invoice) -> bytes` and `from_ubl(xml) -> Invoice`: UBL 2.1 Invoice or CreditNote,
  round trip exact; a received document is checked with the rules of the profile it claims.
- Code lists (ISO 4217, ISO 3166-1, UN/ECE Rec 20/21, UNCL, VATEX, EAS, ICD) are
  wallet.codelists, derived from the official Schematron; profiles (EN 16931 core, Peppol BIS
  Billing 3.0, NLCIUS) and their rules are wallet.business.messaging.einvoice_rules.

Scope: the commercial invoice (380) and the credit note (381); document and line allowances and
charges (amounts, no base amount × percentage); payment means (credit transfer, direct debit
with its mandate) and terms; buyer, order, order line and preceding invoice references; the
delivery date; VAT categories S, Z, E, AE and G (K, O, L and M need business terms not modelled
here: delivery addresses, invoicing periods, other taxes); prices per unit (base quantity 1)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.parsers import expat

from django.core.exceptions import ValidationError

from wallet.business.messaging import einvoice_rules as rules
from wallet.business.messaging.codelists import codes

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"  # BT-24: the core, no CIUS
COMMERCIAL_INVOICE = "380"  # BT-3, UNTDID 1001
CREDIT_NOTE = "381"
DOCUMENT_TYPES = {COMMERCIAL_INVOICE: "commercial invoice", CREDIT_NOTE: "credit note"}
CREDIT_TRANSFER = ("30", "58")  # UNCL 4461: credit transfer, SEPA credit transfer (BR-61)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# VAT category codes (BT-151, BT-118; UNTDID 5305) supported here, and the prefix of their rules.
VAT_CATEGORIES = {
    "S": ("Standard rated", "BR-S"),
    "Z": ("Zero rated goods", "BR-Z"),
    "E": ("Exempt from VAT", "BR-E"),
    "AE": ("VAT reverse charge", "BR-AE"),
    "G": ("Export outside the EU", "BR-G"),
}
# The exemption reason text (BT-120) given when the input has none (-10 rules).
DEFAULT_EXEMPTION_REASONS = {"E": "Exempt from VAT", "AE": "Reverse charge",
                             "G": "Export outside the EU"}

# The code lists themselves (ISO 4217, ISO 3166-1, UN/ECE Rec 20/21, ...) are wallet.codelists,
# derived from the official Schematron; these only say what a value looks like.
VAT_ID = re.compile(r"^[A-Z0-9]{2}.")  # BR-CO-09: a country prefix (the list: vat-prefixes)
# PEPPOL-EN16931-R120 on a received document: the official tolerance of the line net amount.
RECEIVED_LINE_SLACK = Decimal("0.02")
NUMBER_MAX = 50
TOTALS = {  # field: (business term, presence rule, decimals rule)
    "line_net_total": ("BT-106", "BR-12", "BR-DEC-09"),
    "allowance_total": ("BT-107", None, "BR-DEC-10"),
    "charge_total": ("BT-108", None, "BR-DEC-11"),
    "tax_exclusive_amount": ("BT-109", "BR-13", "BR-DEC-12"),
    "tax_total": ("BT-110", None, "BR-DEC-13"),
    "tax_inclusive_amount": ("BT-112", "BR-14", "BR-DEC-14"),
    "prepaid_amount": ("BT-113", None, "BR-DEC-16"),
    "payable_amount": ("BT-115", "BR-15", "BR-DEC-18"),
}


# --- the model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Party:
    """Seller (BG-4) or buyer (BG-7), with its postal address (BG-5 / BG-8)."""

    legal_name: str  # BT-27 / BT-44
    vat_id: str = ""  # BT-31 / BT-48
    registry_id: str = ""  # BT-30 / BT-47, legal registration identifier
    street: str = ""  # BT-35 / BT-50
    city: str = ""  # BT-37 / BT-52
    postal_code: str = ""  # BT-38 / BT-53
    country: str = ""  # BT-40 / BT-55
    registry_scheme: str = ""  # BT-30-1 / BT-47-1, ISO 6523 ICD (0106: KVK number)
    endpoint: str = ""  # BT-34 / BT-49, electronic address as scheme:identifier (EAS)


@dataclass(frozen=True)
class AllowanceCharge:
    """A document level allowance (BG-20) or charge (BG-21), with its VAT category; on a line
    (BG-27 / BG-28) without one (the line's applies)."""

    charge: bool  # ChargeIndicator
    amount: Decimal  # BT-92 / BT-99 / BT-136 / BT-141
    reason: str = ""  # BT-97 / BT-104 / BT-139 / BT-144
    reason_code: str = ""  # BT-98 / BT-105 / BT-140 / BT-145: UNCL 5189 / UNCL 7161
    vat_category: str = ""  # BT-95 / BT-102 (document level only)
    vat_rate: Decimal | None = None  # BT-96 / BT-103

    @property
    def signed(self) -> Decimal | None:
        """What it adds to the amounts it applies to."""
        if self.amount is None:
            return None
        return self.amount if self.charge else -self.amount


@dataclass(frozen=True)
class PaymentMeans:
    """Payment instructions (BG-16): how and where to pay."""

    code: str  # BT-81, UNCL 4461 (30, 58: credit transfer)
    account_id: str = ""  # BT-84, e.g. an IBAN
    account_name: str = ""  # BT-85
    bic: str = ""  # BT-86
    payment_id: str = ""  # BT-83, remittance information
    mandate_id: str = ""  # BT-89, direct debit mandate reference


@dataclass(frozen=True)
class Line:
    """An invoice line (BG-25)."""

    id: str  # BT-126
    description: str  # BT-153, item name
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130
    unit_price: Decimal  # BT-146, item net price
    vat_category: str  # BT-151
    vat_rate: Decimal  # BT-152
    net_amount: Decimal  # BT-131
    allowances_charges: tuple[AllowanceCharge, ...] = ()  # BG-27 / BG-28
    order_line_reference: str = ""  # BT-132


@dataclass(frozen=True)
class VatSubtotal:
    """One VAT breakdown (BG-23): a category and rate with its amounts."""

    category: str  # BT-118
    rate: Decimal  # BT-119
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str = ""  # BT-120
    exemption_reason_code: str = ""  # BT-121, VATEX


@dataclass(frozen=True)
class Invoice:
    number: str  # BT-1
    issue_date: date  # BT-2
    due_date: date | None  # BT-9
    currency: str  # BT-5
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat_breakdown: tuple[VatSubtotal, ...]
    line_net_total: Decimal  # BT-106
    tax_exclusive_amount: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive_amount: Decimal  # BT-112
    payable_amount: Decimal  # BT-115
    prepaid_amount: Decimal = ZERO  # BT-113
    type_code: str = field(default=COMMERCIAL_INVOICE)  # BT-3
    profile: str = rules.EN16931  # BT-24 / BT-23: wallet.business.messaging.einvoice_rules.PROFILES
    buyer_reference: str = ""  # BT-10
    order_reference: str = ""  # BT-13
    preceding_invoice: str = ""  # BT-25, the invoice a credit note credits
    delivery_date: date | None = None  # BT-72
    allowances_charges: tuple[AllowanceCharge, ...] = ()  # BG-20 / BG-21
    payment_means: tuple[PaymentMeans, ...] = ()  # BG-16
    payment_terms: str = ""  # BT-20
    allowance_total: Decimal = ZERO  # BT-107
    charge_total: Decimal = ZERO  # BT-108

    @property
    def is_credit_note(self) -> bool:
        return rules.is_credit_note(self.type_code)


# --- arithmetic ----------------------------------------------------------------------------------

def money(value: Decimal) -> Decimal:
    """An amount at 2 decimals, rounded half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return money(quantity * unit_price)


def vat_amount(taxable: Decimal, rate: Decimal) -> Decimal:
    return money(taxable * rate / 100)


def text(value: Decimal) -> str:
    """A decimal as XML and JSON carry it: plain notation, never an exponent."""
    return format(value, "f")


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- building from input -------------------------------------------------------------------------

class _Errors:
    """Field errors collected while building or checking, raised at once."""

    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError({name: [ValidationError(message, code="invalid_invoice")
                                          for message in messages]
                                   for name, messages in self.errors.items()})


def _parse_decimal(value, name: str, errors: _Errors) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        errors.add(name, "A decimal number (e.g. \"12.50\").")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(name, f"Not a decimal number: {value!r}.")
        return None
    if not number.is_finite():
        errors.add(name, "A finite decimal number.")
        return None
    return Decimal(text(number))


def _parse_date(value, name: str, errors: _Errors) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add(name, f"A date as YYYY-MM-DD, not {value!r}.")
        return None


def _text(value, name: str, errors: _Errors, *, upper: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(name, "A text.")
        return ""
    value = value.strip()
    return value.upper() if upper else value


def _list(value, name: str, errors: _Errors) -> list:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        errors.add(name, "A list.")
        return []
    return list(value)


def _mapping(value, name: str, errors: _Errors) -> Mapping:
    if not isinstance(value, Mapping):
        errors.add(name, "An object.")
        return {}
    return value


def _allowances_charges(value, name: str, errors: _Errors, *,
                        document_level: bool) -> tuple[AllowanceCharge, ...]:
    found = []
    for index, raw in enumerate(_list(value, name, errors)):
        item = f"{name}[{index}]"
        raw = _mapping(raw, item, errors)
        charge = raw.get("charge", False)
        if not isinstance(charge, bool):
            errors.add(f"{item}.charge", "true for a charge, false for an allowance.")
            charge = False
        rate = (_parse_decimal(raw.get("vat_rate"), f"{item}.vat_rate", errors)
                if document_level else None)
        found.append(AllowanceCharge(
            charge=charge, amount=_parse_decimal(raw.get("amount"), f"{item}.amount", errors),
            reason=_text(raw.get("reason"), f"{item}.reason", errors),
            reason_code=_text(raw.get("reason_code"), f"{item}.reason_code", errors,
                              upper=True),
            vat_category=(_text(raw.get("vat_category"), f"{item}.vat_category", errors,
                                upper=True) if document_level else ""),
            vat_rate=rate))
    return tuple(found)


def _payment_means(value, errors: _Errors) -> tuple[PaymentMeans, ...]:
    found = []
    for index, raw in enumerate(_list(value, "payment_means", errors)):
        name = f"payment_means[{index}]"
        raw = _mapping(raw, name, errors)
        found.append(PaymentMeans(**{
            term: _text(raw.get(term), f"{name}.{term}", errors)
            for term in ("code", "account_id", "account_name", "bic", "payment_id",
                         "mandate_id")}))
    return tuple(found)


def _total_of(items: tuple[AllowanceCharge, ...], charge: bool) -> Decimal | None:
    """The sum of the charges (or allowances) among `items`; None if one has no amount."""
    amounts = [item.amount for item in items if item.charge == charge]
    return None if None in amounts else sum(amounts, ZERO)


def invoice_from_data(data: Mapping, *, seller: Party, buyer: Party,
                      compute: bool = True, received: bool = False) -> Invoice:
    """Build and check an invoice from JSON-like `data` (see `to_data` for the shape; the
    parties come from the wallet, not from `data`). With `compute`, omitted line net amounts,
    VAT breakdown and totals are computed; given ones must add up either way. Raises
    ValidationError keyed by field."""
    errors = _Errors()
    data = _mapping(data, "invoice", errors)
    errors.raise_any()

    lines = []
    for index, raw in enumerate(_list(data.get("lines"), "lines", errors)):
        name = f"lines[{index}]"
        raw = _mapping(raw, name, errors)
        quantity = _parse_decimal(raw.get("quantity"), f"{name}.quantity", errors)
        price = _parse_decimal(raw.get("unit_price"), f"{name}.unit_price", errors)
        rate = _parse_decimal(raw.get("vat_rate"), f"{name}.vat_rate", errors)
        net = _parse_decimal(raw.get("net_amount"), f"{name}.net_amount", errors)
        line_allowances = _allowances_charges(raw.get("allowances_charges"),
                                              f"{name}.allowances_charges", errors,
                                              document_level=False)
        adjustments = [item.signed for item in line_allowances]
        if net is None and compute and quantity is not None and price is not None \
                and None not in adjustments:
            net = line_net(quantity, price) + sum(adjustments, ZERO)
        lines.append(Line(
            id=_text(raw.get("id"), f"{name}.id", errors) or str(index + 1),
            description=_text(raw.get("description"), f"{name}.description", errors),
            quantity=quantity, unit_code=_text(raw.get("unit_code"), f"{name}.unit_code",
                                               errors, upper=True),
            unit_price=price,
            vat_category=_text(raw.get("vat_category"), f"{name}.vat_category", errors,
                               upper=True),
            vat_rate=rate, net_amount=net, allowances_charges=line_allowances,
            order_line_reference=_text(raw.get("order_line_reference"),
                                       f"{name}.order_line_reference", errors)))

    breakdown = []
    for index, raw in enumerate(_list(data.get("vat_breakdown"), "vat_breakdown", errors)):
        name = f"vat_breakdown[{index}]"
        raw = _mapping(raw, name, errors)
        breakdown.append(VatSubtotal(
            category=_text(raw.get("category"), f"{name}.category", errors, upper=True),
            rate=_parse_decimal(raw.get("rate"), f"{name}.rate", errors),
            taxable_amount=_parse_decimal(raw.get("taxable_amount"),
                                          f"{name}.taxable_amount", errors),
            tax_amount=_parse_decimal(raw.get("tax_amount"), f"{name}.tax_amount", errors),
            exemption_reason=_text(raw.get("exemption_reason"), f"{name}.exemption_reason",
                                   errors),
            exemption_reason_code=_text(raw.get("exemption_reason_code"),
                                        f"{name}.exemption_reason_code", errors, upper=True)))

    totals = {name: _parse_decimal(data.get(name), name, errors) for name in TOTALS}
    if totals["prepaid_amount"] is None:
        totals["prepaid_amount"] = ZERO
    allowances_charges = _allowances_charges(data.get("allowances_charges"),
                                             "allowances_charges", errors, document_level=True)
    # BT-107 and BT-108 are optional in a document: what is not given is the sum.
    for name, charge in (("allowance_total", False), ("charge_total", True)):
        if totals[name] is None:
            totals[name] = _total_of(allowances_charges, charge)
    profile = _text(data.get("profile"), "profile", errors) or rules.EN16931
    invoice = Invoice(
        number=_text(data.get("number"), "number", errors),
        issue_date=_parse_date(data.get("issue_date"), "issue_date", errors),
        due_date=_parse_date(data.get("due_date"), "due_date", errors),
        currency=_text(data.get("currency"), "currency", errors, upper=True),
        seller=seller, buyer=buyer, lines=tuple(lines), vat_breakdown=tuple(breakdown),
        type_code=_text(data.get("type_code"), "type_code", errors) or COMMERCIAL_INVOICE,
        profile=rules.profile_for(profile, seller.country),
        buyer_reference=_text(data.get("buyer_reference"), "buyer_reference", errors),
        order_reference=_text(data.get("order_reference"), "order_reference", errors),
        preceding_invoice=_text(data.get("preceding_invoice"), "preceding_invoice", errors),
        delivery_date=_parse_date(data.get("delivery_date"), "delivery_date", errors),
        allowances_charges=allowances_charges,
        payment_means=_payment_means(data.get("payment_means"), errors),
        payment_terms=_text(data.get("payment_terms"), "payment_terms", errors),
        **totals)
    errors.raise_any()
    if compute:
        invoice = complete(invoice)
    check(invoice, received=received)
    return invoice


def complete(invoice: Invoice) -> Invoice:
    """Fill in what is missing (None): the VAT breakdown from the lines, grouped by category
    and rate in the order they first appear, then the document totals. Given values stay."""
    if not invoice.vat_breakdown and all(amount is not None and rate is not None
                                         for _, rate, amount in _taxed_amounts(invoice)):
        groups: dict[tuple[str, Decimal], Decimal] = {}
        for category, rate, amount in _taxed_amounts(invoice):
            key = (category, rate)
            groups[key] = groups.get(key, ZERO) + amount
        invoice = replace(invoice, vat_breakdown=tuple(
            VatSubtotal(category=category, rate=rate, taxable_amount=taxable,
                        tax_amount=vat_amount(taxable, rate),
                        exemption_reason=DEFAULT_EXEMPTION_REASONS.get(category, ""))
            for (category, rate), taxable in groups.items()))
    nets = [line.net_amount for line in invoice.lines]
    taxes = [subtotal.tax_amount for subtotal in invoice.vat_breakdown]
    if None in nets or None in taxes or None in (invoice.allowance_total,
                                                 invoice.charge_total):
        return invoice  # check() names what is missing

    def given_or(name: str, amount: Decimal) -> Decimal:
        value = getattr(invoice, name)
        return amount if value is None else value

    line_net_total = given_or("line_net_total", sum(nets, ZERO))
    tax_exclusive = given_or("tax_exclusive_amount", sum(nets, ZERO) - invoice.allowance_total
                             + invoice.charge_total)
    tax_total = given_or("tax_total", sum(taxes, ZERO))
    tax_inclusive = given_or("tax_inclusive_amount", tax_exclusive + tax_total)
    payable = given_or("payable_amount", tax_inclusive - invoice.prepaid_amount)
    return replace(invoice, line_net_total=line_net_total, tax_exclusive_amount=tax_exclusive,
                   tax_total=tax_total, tax_inclusive_amount=tax_inclusive,
                   payable_amount=payable)


def _taxed_amounts(invoice: Invoice) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """(VAT category, rate, amount) of what the VAT breakdown sums: the line net amounts, then
    the document level charges (+) and allowances (-)."""
    return ([(line.vat_category, line.vat_rate, line.net_amount) for line in invoice.lines]
            + [(item.vat_category, item.vat_rate, item.signed)
               for item in invoice.allowances_charges])


# --- the business rules --------------------------------------------------------------------------

def check(invoice: Invoice, *, received: bool = False) -> None:
    """Raise ValidationError keyed by field unless `invoice` keeps the EN 16931 rules of this
    core: mandatory terms (BR-01..BR-27), VAT categories (BR-S/Z/E/AE/G), the arithmetic of
    lines, breakdown and totals (BR-CO-10..17, PEPPOL-EN16931-R120) and decimals (BR-DEC), and
    the rules of its profile (wallet.business.messaging.einvoice_rules).

    Our own invoices keep PEPPOL-EN16931-R120 exactly whatever their profile. A `received`
    one is held to the rule as its profile has it: Peppol's ±0.02, none in the core (the CEN
    example's returned goods line is -109.98 at quantity 6 × 18.33); nor to BR-CO-25, which the
    official Schematron leaves out."""
    errors = _Errors()
    _check_document(invoice, errors)
    _check_party(invoice.seller, "seller", "BR-06", "BR-08", "BR-09", errors)
    _check_party(invoice.buyer, "buyer", "BR-07", "BR-10", "BR-11", errors)
    if not (invoice.seller.registry_id or invoice.seller.vat_id):
        errors.add("seller", "BR-CO-26: the seller needs a legal registration identifier "
                             "(BT-30) or a VAT identifier (BT-31).")
    if not invoice.lines:
        errors.add("lines", "BR-16: an invoice has at least one line (BG-25).")
    for index, line in enumerate(invoice.lines):
        _check_line(line, f"lines[{index}]", errors, slack=_line_slack(invoice, received))
    _check_allowances_charges(invoice, errors)
    _check_payment(invoice, errors)
    _check_vat_parties(invoice, errors)
    _check_breakdown(invoice, errors)
    _check_totals(invoice, errors, received=received)
    rules.check_profile(invoice, errors.add)
    errors.raise_any()


def _check_document(invoice: Invoice, errors: _Errors) -> None:
    if not invoice.number:
        errors.add("number", "BR-02: an invoice has an invoice number (BT-1).")
    elif len(invoice.number) > NUMBER_MAX:
        errors.add("number", f"At most {NUMBER_MAX} characters.")
    if invoice.issue_date is None:
        errors.add("issue_date", "BR-03: an invoice has an issue date (BT-2).")
    if invoice.type_code not in (codes("untdid1001-invoice") | codes("untdid1001-credit-note")):
        errors.add("type_code", f"BR-CL-01: the document type code (BT-3) {invoice.type_code!r} "
                                f"is not in UNTDID 1001.")
    elif invoice.type_code not in DOCUMENT_TYPES:
        errors.add("type_code", f"BR-04: only the commercial invoice ({COMMERCIAL_INVOICE}) "
                                f"and the credit note ({CREDIT_NOTE}) are supported here, not "
                                f"{invoice.type_code!r}.")
    if invoice.is_credit_note and invoice.due_date and not invoice.payment_means:
        errors.add("due_date", "A credit note carries its payment due date (BT-9) with its "
                               "payment means (BG-16): give them.")
    if invoice.preceding_invoice and len(invoice.preceding_invoice) > NUMBER_MAX:
        errors.add("preceding_invoice", f"At most {NUMBER_MAX} characters.")
    if not invoice.currency:
        errors.add("currency", "BR-05: an invoice has a currency code (BT-5), ISO 4217 "
                               "alpha-3, e.g. EUR.")
    elif invoice.currency not in codes("iso4217"):
        errors.add("currency", f"BR-CL-04: the invoice currency code (BT-5) {invoice.currency!r} "
                               f"is not in ISO 4217 alpha-3.")
    if invoice.due_date and invoice.issue_date and invoice.due_date < invoice.issue_date:
        errors.add("due_date", "The payment due date (BT-9) is before the issue date (BT-2).")


def _check_party(party: Party, name: str, name_rule: str, address_rule: str,
                 country_rule: str, errors: _Errors) -> None:
    role = name.capitalize()
    if not party.legal_name:
        errors.add(f"{name}.legal_name", f"{name_rule}: the invoice contains the {name}'s "
                                         f"name.")
    if not (party.street or party.city or party.postal_code or party.country):
        errors.add(f"{name}.address", f"{address_rule}: the invoice contains the {name}'s "
                                      f"postal address.")
    if not party.country:
        errors.add(f"{name}.country", f"{country_rule}: the {role} postal address contains a "
                                      f"country code (ISO 3166-1 alpha-2).")
    elif party.country not in codes("iso3166"):
        errors.add(f"{name}.country", f"BR-CL-14: the country code {party.country!r} is not in "
                                      f"ISO 3166-1 alpha-2.")
    if party.registry_scheme and party.registry_scheme not in codes("icd"):
        errors.add(f"{name}.registry_scheme", f"BR-CL-11: the identifier scheme "
                                              f"{party.registry_scheme!r} is not in ISO 6523 "
                                              f"ICD.")
    if party.endpoint:
        rules.check_endpoint(party.endpoint, f"{name}.endpoint", errors.add)
    if party.vat_id and not (VAT_ID.match(party.vat_id)
                             and party.vat_id[:2] in codes("vat-prefixes")):
        errors.add(f"{name}.vat_id", f"BR-CO-09: a VAT identifier starts with the ISO 3166-1 "
                                     f"alpha-2 code of its country (Greece: EL), not "
                                     f"{party.vat_id!r}.")


def _line_slack(invoice: Invoice, received: bool) -> Decimal | None:
    """How far a line net amount may be from quantity × price ± adjustments; None: unchecked."""
    if not received:
        return ZERO
    return None if invoice.profile == rules.EN16931 else RECEIVED_LINE_SLACK


def _check_line(line: Line, name: str, errors: _Errors, *,
                slack: Decimal | None = ZERO) -> None:
    if not line.id:
        errors.add(f"{name}.id", "BR-21: each line has an identifier (BT-126).")
    if not line.description:
        errors.add(f"{name}.description", "BR-25: each line has an item name (BT-153).")
    if line.quantity is None:
        errors.add(f"{name}.quantity", "BR-22: each line has an invoiced quantity (BT-129).")
    if not line.unit_code:
        errors.add(f"{name}.unit_code", "BR-23: each line has a unit of measure code (BT-130) "
                                        "of UN/ECE Recommendation 20, e.g. C62, HUR, KGM.")
    elif line.unit_code not in codes("rec20-21"):
        errors.add(f"{name}.unit_code", f"BR-CL-23: the unit code {line.unit_code!r} (BT-130) is "
                                        f"not in UN/ECE Recommendation 20 or 21 (e.g. C62, HUR, "
                                        f"KGM).")
    if line.unit_price is None:
        errors.add(f"{name}.unit_price", "BR-26: each line has an item net price (BT-146).")
    elif line.unit_price < 0:
        errors.add(f"{name}.unit_price", "BR-27: the item net price (BT-146) is not negative.")
    _check_line_vat(line, name, errors)
    for index, item in enumerate(line.allowances_charges):
        _check_allowance_charge(item, f"{name}.allowances_charges[{index}]", errors,
                                line_level=True)
    adjustments = [item.signed for item in line.allowances_charges]
    if line.net_amount is None:
        errors.add(f"{name}.net_amount", "BR-24: each line has a net amount (BT-131).")
        return
    if _decimals(line.net_amount) > 2:
        errors.add(f"{name}.net_amount", "BR-DEC-23: the line net amount (BT-131) has at most "
                                         "2 decimals.")
    elif line.quantity is not None and line.unit_price is not None \
            and None not in adjustments and slack is not None:
        expected = line_net(line.quantity, line.unit_price) + sum(adjustments, ZERO)
        if abs(line.net_amount - expected) > slack:
            terms, values = "", ""
            if adjustments:
                terms = " + line charges - line allowances"
                values = f" + {text(sum(adjustments, ZERO))}"
            errors.add(f"{name}.net_amount", (
                f"PEPPOL-EN16931-R120: the line net amount (BT-131) must be quantity × price "
                f"(BT-129 × BT-146){terms} = {text(line.quantity)} × "
                f"{text(line.unit_price)}{values} = "
                f"{text(expected)} (rounded half up to 2 decimals), not "
                f"{text(line.net_amount)}."))


def _check_allowance_charge(item: AllowanceCharge, name: str, errors: _Errors, *,
                            line_level: bool) -> None:
    """BR-31..33 and BR-36..38 (document), BR-41..44 (line), their code lists and decimals."""
    kind = "charge" if item.charge else "allowance"
    amount_rule, reason_rule = {(False, False): ("BR-31", "BR-33"),
                                (True, False): ("BR-36", "BR-38"),
                                (False, True): ("BR-41", "BR-42"),
                                (True, True): ("BR-43", "BR-44")}[(item.charge, line_level)]
    decimals_rule = {(False, False): "BR-DEC-01", (True, False): "BR-DEC-05",
                     (False, True): "BR-DEC-24", (True, True): "BR-DEC-27"}[
        (item.charge, line_level)]
    if item.amount is None:
        errors.add(f"{name}.amount", f"{amount_rule}: each {kind} has an amount.")
    elif _decimals(item.amount) > 2:
        errors.add(f"{name}.amount", f"{decimals_rule}: the {kind} amount has at most 2 "
                                     f"decimals.")
    if not (item.reason or item.reason_code):
        errors.add(f"{name}.reason", f"{reason_rule}: each {kind} has a reason or a reason "
                                     f"code.")
    code_list, code_rule = ("uncl7161", "BR-CL-20") if item.charge else ("uncl5189", "BR-CL-19")
    if item.reason_code and item.reason_code not in codes(code_list):
        errors.add(f"{name}.reason_code", f"{code_rule}: the {kind} reason code "
                                          f"{item.reason_code!r} is not in "
                                          f"UNCL {code_list[4:]}.")


def _check_allowances_charges(invoice: Invoice, errors: _Errors) -> None:
    for index, item in enumerate(invoice.allowances_charges):
        name = f"allowances_charges[{index}]"
        _check_allowance_charge(item, name, errors, line_level=False)
        if not item.vat_category:
            rule = "BR-37" if item.charge else "BR-32"
            errors.add(f"{name}.vat_category", f"{rule}: each document level "
                                               f"{'charge' if item.charge else 'allowance'} "
                                               f"has a VAT category code.")
        else:
            suffix = "07" if item.charge else "06"
            _check_line_vat(item, name, errors, rule_suffix=suffix)


def _check_payment(invoice: Invoice, errors: _Errors) -> None:
    """BR-49, BR-CL-16, BR-61: payment means; payment terms at most one text."""
    for index, means in enumerate(invoice.payment_means):
        name = f"payment_means[{index}]"
        if not means.code:
            errors.add(f"{name}.code", "BR-49: payment instructions have a payment means type "
                                       "code (BT-81).")
        elif means.code not in codes("uncl4461"):
            errors.add(f"{name}.code", f"BR-CL-16: the payment means code {means.code!r} is "
                                       f"not in UNCL 4461.")
        elif means.code in CREDIT_TRANSFER and not means.account_id:
            errors.add(f"{name}.account_id", "BR-61: a credit transfer names the payment "
                                             "account identifier (BT-84), e.g. an IBAN.")
        if (means.account_name or means.bic) and not means.account_id:
            errors.add(f"{name}.account_id", "BR-50: a payment account (BG-17) has its "
                                             "identifier (BT-84).")


def _check_line_vat(line: Line, name: str, errors: _Errors, *, rule_suffix: str = "05") -> None:
    if not line.vat_category:
        errors.add(f"{name}.vat_category", "BR-CO-04: each line has a VAT category code "
                                           "(BT-151).")
        return
    if line.vat_category not in VAT_CATEGORIES:
        errors.add(f"{name}.vat_category", f"VAT category {line.vat_category!r} is not "
                                           f"supported here (only {', '.join(VAT_CATEGORIES)}).")
        return
    _, prefix = VAT_CATEGORIES[line.vat_category]
    if line.vat_rate is None:
        errors.add(f"{name}.vat_rate", f"{prefix}-{rule_suffix}: a line of VAT category "
                                       f"{line.vat_category} has a VAT rate (BT-152).")
    elif line.vat_category == "S" and line.vat_rate <= 0:
        errors.add(f"{name}.vat_rate", f"BR-S-{rule_suffix}: the VAT rate (BT-152) of a "
                                       f"standard rated line is greater than zero.")
    elif line.vat_category != "S" and line.vat_rate != 0:
        errors.add(f"{name}.vat_rate", f"{prefix}-{rule_suffix}: the VAT rate (BT-152) of a "
                                       f"line of VAT category {line.vat_category} is 0.")


def _check_vat_parties(invoice: Invoice, errors: _Errors) -> None:
    """BR-S-02, BR-Z-02, BR-E-02, BR-G-02: the seller's VAT identifier; BR-AE-02 also the
    buyer's VAT identifier or legal registration identifier."""
    categories = {category for category, _, _ in _taxed_amounts(invoice)} & set(VAT_CATEGORIES)
    for category in sorted(categories):
        _, prefix = VAT_CATEGORIES[category]
        if not invoice.seller.vat_id:
            errors.add("seller.vat_id", f"{prefix}-02: an invoice with lines of VAT category "
                                        f"{category} contains the seller's VAT identifier "
                                        f"(BT-31).")
    if "AE" in categories and not (invoice.buyer.vat_id or invoice.buyer.registry_id):
        errors.add("buyer.vat_id", "BR-AE-02: a reverse charge invoice contains the buyer's "
                                   "VAT identifier (BT-48) or legal registration identifier "
                                   "(BT-47).")


def _check_breakdown(invoice: Invoice, errors: _Errors) -> None:
    if not invoice.vat_breakdown:
        errors.add("vat_breakdown", "BR-CO-18: an invoice has at least one VAT breakdown "
                                    "(BG-23).")
    lines_by_key: dict[tuple[str, Decimal], list[Decimal | None]] = {}
    for category, rate, amount in _taxed_amounts(invoice):
        if category in VAT_CATEGORIES and rate is not None:
            lines_by_key.setdefault((category, rate), []).append(amount)
    seen: set[tuple[str, Decimal]] = set()
    for index, subtotal in enumerate(invoice.vat_breakdown):
        name = f"vat_breakdown[{index}]"
        if subtotal.category not in VAT_CATEGORIES:
            errors.add(f"{name}.category", "BR-47: each VAT breakdown has a VAT category code "
                                           f"(BT-118), one of {', '.join(VAT_CATEGORIES)}.")
            continue
        if subtotal.rate is None:
            errors.add(f"{name}.rate", "BR-48: each VAT breakdown has a VAT category rate "
                                       "(BT-119).")
            continue
        key = (subtotal.category, subtotal.rate)
        if key in seen:
            errors.add(name, f"VAT category {subtotal.category} at {text(subtotal.rate)}% is "
                             f"broken down twice.")
            continue
        seen.add(key)
        _check_subtotal(subtotal, name, lines_by_key.get(key, []), errors)
    for category, rate in lines_by_key.keys() - seen:
        _, prefix = VAT_CATEGORIES[category]
        errors.add("vat_breakdown", f"{prefix}-01: lines of VAT category {category} at "
                                    f"{text(rate)}% need a VAT breakdown (BG-23) for them.")


def _check_subtotal(subtotal: VatSubtotal, name: str, lines: list[Decimal | None],
                    errors: _Errors) -> None:
    """`lines`: the amounts of this category and rate (line net amounts, document level
    charges and, negative, allowances)."""
    category, prefix = subtotal.category, VAT_CATEGORIES[subtotal.category][1]
    if not lines:
        errors.add(name, f"No line has VAT category {category} at {text(subtotal.rate)}%.")
    if category != "S" and subtotal.rate != 0:
        errors.add(f"{name}.rate", f"The VAT category rate (BT-119) of category {category} "
                                   f"is 0.")
    if subtotal.exemption_reason_code and subtotal.exemption_reason_code not in codes("vatex"):
        errors.add(f"{name}.exemption_reason_code", f"BR-CL-22: the exemption reason code "
                                                    f"{subtotal.exemption_reason_code!r} is "
                                                    f"not in the VATEX list.")
    if (subtotal.exemption_reason or subtotal.exemption_reason_code) and category in ("S", "Z"):
        errors.add(f"{name}.exemption_reason", f"{prefix}-10: a VAT breakdown of category "
                                               f"{category} has no exemption reason (BT-120).")
    if not (subtotal.exemption_reason or subtotal.exemption_reason_code) \
            and category not in ("S", "Z"):
        errors.add(f"{name}.exemption_reason", f"{prefix}-10: a VAT breakdown of category "
                                               f"{category} has an exemption reason "
                                               f"(BT-120).")
    if subtotal.taxable_amount is None:
        errors.add(f"{name}.taxable_amount", "BR-45: each VAT breakdown has a taxable amount "
                                             "(BT-116).")
    elif _decimals(subtotal.taxable_amount) > 2:
        errors.add(f"{name}.taxable_amount", "BR-DEC-19: the VAT category taxable amount "
                                             "(BT-116) has at most 2 decimals.")
    else:
        nets = [amount for amount in lines if amount is not None]
        expected = sum(nets, ZERO)
        if len(nets) == len(lines) and subtotal.taxable_amount != expected:
            rule = f"{prefix}-08: the VAT category taxable amount (BT-116)"
            per_rate = " and rate" if category == "S" else ""
            errors.add(f"{name}.taxable_amount", (
                f"{rule} must equal the sum of the line net amounts (BT-131) of that "
                f"category{per_rate}, plus its document level charges, minus its allowances: "
                f"{text(expected)}, not {text(subtotal.taxable_amount)}."))
    if subtotal.tax_amount is None:
        errors.add(f"{name}.tax_amount", "BR-46: each VAT breakdown has a tax amount (BT-117).")
    elif _decimals(subtotal.tax_amount) > 2:
        errors.add(f"{name}.tax_amount", "BR-DEC-20: the VAT category tax amount (BT-117) has "
                                         "at most 2 decimals.")
    elif subtotal.taxable_amount is not None:
        expected = vat_amount(subtotal.taxable_amount, subtotal.rate)
        if subtotal.tax_amount != expected:
            rule = "BR-CO-17/BR-S-09" if category == "S" else f"BR-CO-17/{prefix}-09"
            errors.add(f"{name}.tax_amount", (
                f"{rule}: the VAT category tax amount (BT-117) must be taxable amount × rate "
                f"(BT-116 × BT-119 / 100) = {text(subtotal.taxable_amount)} × "
                f"{text(subtotal.rate)}% = {text(expected)}, not {text(subtotal.tax_amount)}."))


def _check_totals(invoice: Invoice, errors: _Errors, *, received: bool = False) -> None:
    usable = {}
    for name, (term, presence, decimals) in TOTALS.items():
        value = getattr(invoice, name)
        if value is None:
            rule = f"{presence}: the invoice has" if presence else "The invoice needs"
            errors.add(name, f"{rule} this total ({term}).")
        elif _decimals(value) > 2:
            errors.add(name, f"{decimals}: {term} has at most 2 decimals.")
        else:
            usable[name] = value
    nets = [line.net_amount for line in invoice.lines]
    taxes = [subtotal.tax_amount for subtotal in invoice.vat_breakdown]

    def equal(name: str, expected: Decimal, rule: str) -> None:
        if name in usable and usable[name] != expected:
            errors.add(name, f"{rule}: {text(expected)}, not {text(usable[name])}.")

    allowances = _total_of(invoice.allowances_charges, False)
    charges = _total_of(invoice.allowances_charges, True)
    if allowances is not None:
        equal("allowance_total", allowances, "BR-CO-11: the sum of allowances on document "
              "level (BT-107) must equal the sum of the document level allowance amounts")
    if charges is not None:
        equal("charge_total", charges, "BR-CO-12: the sum of charges on document level "
              "(BT-108) must equal the sum of the document level charge amounts")
    if None not in nets:
        equal("line_net_total", sum(nets, ZERO), "BR-CO-10: the sum of line net amounts "
              "(BT-106) must equal the sum of the lines' net amounts (BT-131)")
    if {"line_net_total", "allowance_total", "charge_total"} <= usable.keys():
        equal("tax_exclusive_amount", usable["line_net_total"] - usable["allowance_total"]
              + usable["charge_total"], "BR-CO-13: the total without VAT (BT-109) must equal "
              "the sum of line net amounts (BT-106) - allowances (BT-107) + charges (BT-108)")
    if None not in taxes:
        equal("tax_total", sum(taxes, ZERO), "BR-CO-14: the invoice total VAT amount (BT-110) "
              "must equal the sum of the VAT breakdown's tax amounts (BT-117)")
    if {"tax_exclusive_amount", "tax_total"} <= usable.keys():
        equal("tax_inclusive_amount", usable["tax_exclusive_amount"] + usable["tax_total"],
              "BR-CO-15: the total with VAT (BT-112) must equal the total without VAT (BT-109) "
              "+ the total VAT amount (BT-110)")
    if {"tax_inclusive_amount", "prepaid_amount"} <= usable.keys():
        equal("payable_amount", usable["tax_inclusive_amount"] - usable["prepaid_amount"],
              "BR-CO-16: the amount due for payment (BT-115) must equal the total with VAT "
              "(BT-112) - the paid amount (BT-113)")
    # BR-CO-25 is in EN 16931-1 but not in the official UBL Schematron (1.3.16) nor Peppol's:
    # our own invoices keep it, a received one is not refused for it.
    if usable.get("payable_amount", ZERO) > 0 and invoice.due_date is None \
            and not invoice.payment_terms and not received:
        errors.add("due_date", "BR-CO-25: an invoice with a positive amount due (BT-115) has a "
                               "payment due date (BT-9) or payment terms (BT-20).")


# --- JSON ----------------------------------------------------------------------------------------

def to_data(invoice: Invoice) -> dict:
    """The invoice as JSON: dates ISO 8601, decimals as strings (`invoice_from_data` reads it
    back to the same invoice)."""
    def party(p: Party) -> dict:
        return {"legal_name": p.legal_name, "vat_id": p.vat_id, "registry_id": p.registry_id,
                "street": p.street, "city": p.city, "postal_code": p.postal_code,
                "country": p.country, "registry_scheme": p.registry_scheme,
                "endpoint": p.endpoint}

    def allowance_charge(item: AllowanceCharge) -> dict:
        data = {"charge": item.charge, "amount": text(item.amount), "reason": item.reason,
                "reason_code": item.reason_code}
        if item.vat_category:
            data.update(vat_category=item.vat_category, vat_rate=text(item.vat_rate))
        return data

    return {
        "number": invoice.number, "type_code": invoice.type_code,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "currency": invoice.currency,
        "seller": party(invoice.seller), "buyer": party(invoice.buyer),
        "lines": [{"id": line.id, "description": line.description,
                   "quantity": text(line.quantity), "unit_code": line.unit_code,
                   "unit_price": text(line.unit_price), "vat_category": line.vat_category,
                   "vat_rate": text(line.vat_rate), "net_amount": text(line.net_amount),
                   "allowances_charges": [allowance_charge(item)
                                          for item in line.allowances_charges],
                   "order_line_reference": line.order_line_reference}
                  for line in invoice.lines],
        "vat_breakdown": [{"category": s.category, "rate": text(s.rate),
                           "taxable_amount": text(s.taxable_amount),
                           "tax_amount": text(s.tax_amount),
                           "exemption_reason": s.exemption_reason,
                           "exemption_reason_code": s.exemption_reason_code}
                          for s in invoice.vat_breakdown],
        "profile": invoice.profile, "buyer_reference": invoice.buyer_reference,
        "order_reference": invoice.order_reference,
        "preceding_invoice": invoice.preceding_invoice,
        "delivery_date": invoice.delivery_date.isoformat() if invoice.delivery_date else None,
        "allowances_charges": [allowance_charge(item) for item in invoice.allowances_charges],
        "payment_means": [{"code": m.code, "account_id": m.account_id,
                           "account_name": m.account_name, "bic": m.bic,
                           "payment_id": m.payment_id, "mandate_id": m.mandate_id}
                          for m in invoice.payment_means],
        "payment_terms": invoice.payment_terms,
        **{name: text(getattr(invoice, name)) for name in TOTALS},
    }


def from_data(data: Mapping) -> Invoice:
    """An invoice stored with `to_data`, parties included."""
    return invoice_from_data(data, seller=Party(**data["seller"]),
                             buyer=Party(**data["buyer"]), compute=False)


# --- UBL 2.1 -------------------------------------------------------------------------------------

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
# The prefixes ElementTree writes (a process-wide map): UBL's usual ones, Invoice as default.
ET.register_namespace("", INVOICE_NS)
ET.register_namespace("cac", CAC)
ET.register_namespace("cbc", CBC)
UBL_MEDIA_TYPE = "application/xml"
UBL_MAX_BYTES = 2 * 1024 * 1024


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{CAC}}}{name}")


def _cbc(parent: ET.Element, name: str, value: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CBC}}}{name}", attributes)
    element.text = value
    return element


def to_ubl(invoice: Invoice) -> bytes:
    """The invoice as a UBL 2.1 Invoice document, a credit note as a UBL 2.1 CreditNote (UTF-8),
    elements in the order the UBL schema prescribes, following the EN 16931 UBL syntax binding
    and the identifiers of the invoice's profile."""
    currency = {"currencyID": invoice.currency}
    credit = invoice.is_credit_note
    document = "CreditNote" if credit else "Invoice"
    profile = rules.PROFILES.get(invoice.profile, rules.PROFILES[rules.EN16931])
    # The Invoice namespace is the registered default; a CreditNote declares its own (the one
    # element in it is the root), so neither gets an ns0: prefix.
    root = (ET.Element(document, xmlns=CREDIT_NOTE_NS) if credit
            else ET.Element(f"{{{INVOICE_NS}}}{document}"))
    _cbc(root, "CustomizationID", profile.customization_id)
    if profile.process_id:
        _cbc(root, "ProfileID", profile.process_id)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    if invoice.due_date and not credit:  # a credit note's is in its payment means
        _cbc(root, "DueDate", invoice.due_date.isoformat())
    _cbc(root, f"{document}TypeCode", invoice.type_code)
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    if invoice.buyer_reference:
        _cbc(root, "BuyerReference", invoice.buyer_reference)
    if invoice.order_reference:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.order_reference)
    if invoice.preceding_invoice:
        _cbc(_cac(_cac(root, "BillingReference"), "InvoiceDocumentReference"), "ID",
             invoice.preceding_invoice)
    _ubl_party(_cac(root, "AccountingSupplierParty"), invoice.seller)
    _ubl_party(_cac(root, "AccountingCustomerParty"), invoice.buyer)
    if invoice.delivery_date:
        _cbc(_cac(root, "Delivery"), "ActualDeliveryDate", invoice.delivery_date.isoformat())
    for means in invoice.payment_means:
        element = _cac(root, "PaymentMeans")
        _cbc(element, "PaymentMeansCode", means.code)
        if credit and invoice.due_date:
            _cbc(element, "PaymentDueDate", invoice.due_date.isoformat())
        if means.payment_id:
            _cbc(element, "PaymentID", means.payment_id)
        if means.account_id:
            account = _cac(element, "PayeeFinancialAccount")
            _cbc(account, "ID", means.account_id)
            if means.account_name:
                _cbc(account, "Name", means.account_name)
            if means.bic:
                _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", means.bic)
        if means.mandate_id:
            _cbc(_cac(element, "PaymentMandate"), "ID", means.mandate_id)
    if invoice.payment_terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", invoice.payment_terms)
    for item in invoice.allowances_charges:
        _ubl_allowance_charge(root, item, currency)

    tax_total = _cac(root, "TaxTotal")
    _cbc(tax_total, "TaxAmount", text(invoice.tax_total), **currency)
    for subtotal in invoice.vat_breakdown:
        element = _cac(tax_total, "TaxSubtotal")
        _cbc(element, "TaxableAmount", text(subtotal.taxable_amount), **currency)
        _cbc(element, "TaxAmount", text(subtotal.tax_amount), **currency)
        category = _cac(element, "TaxCategory")
        _cbc(category, "ID", subtotal.category)
        _cbc(category, "Percent", text(subtotal.rate))
        if subtotal.exemption_reason_code:
            _cbc(category, "TaxExemptionReasonCode", subtotal.exemption_reason_code)
        if subtotal.exemption_reason:
            _cbc(category, "TaxExemptionReason", subtotal.exemption_reason)
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")

    totals = _cac(root, "LegalMonetaryTotal")
    _cbc(totals, "LineExtensionAmount", text(invoice.line_net_total), **currency)
    _cbc(totals, "TaxExclusiveAmount", text(invoice.tax_exclusive_amount), **currency)
    _cbc(totals, "TaxInclusiveAmount", text(invoice.tax_inclusive_amount), **currency)
    if any(not item.charge for item in invoice.allowances_charges):
        _cbc(totals, "AllowanceTotalAmount", text(invoice.allowance_total), **currency)
    if any(item.charge for item in invoice.allowances_charges):
        _cbc(totals, "ChargeTotalAmount", text(invoice.charge_total), **currency)
    if invoice.prepaid_amount:
        _cbc(totals, "PrepaidAmount", text(invoice.prepaid_amount), **currency)
    _cbc(totals, "PayableAmount", text(invoice.payable_amount), **currency)

    for line in invoice.lines:
        element = _cac(root, f"{document}Line")
        _cbc(element, "ID", line.id)
        _cbc(element, "CreditedQuantity" if credit else "InvoicedQuantity", text(line.quantity),
             unitCode=line.unit_code)
        _cbc(element, "LineExtensionAmount", text(line.net_amount), **currency)
        if line.order_line_reference:
            _cbc(_cac(element, "OrderLineReference"), "LineID", line.order_line_reference)
        for item in line.allowances_charges:
            _ubl_allowance_charge(element, item, currency)
        item = _cac(element, "Item")
        _cbc(item, "Name", line.description)
        category = _cac(item, "ClassifiedTaxCategory")
        _cbc(category, "ID", line.vat_category)
        _cbc(category, "Percent", text(line.vat_rate))
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")
        _cbc(_cac(element, "Price"), "PriceAmount", text(line.unit_price), **currency)

    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _ubl_allowance_charge(parent: ET.Element, item: AllowanceCharge, currency: dict) -> None:
    element = _cac(parent, "AllowanceCharge")
    _cbc(element, "ChargeIndicator", "true" if item.charge else "false")
    if item.reason_code:
        _cbc(element, "AllowanceChargeReasonCode", item.reason_code)
    if item.reason:
        _cbc(element, "AllowanceChargeReason", item.reason)
    _cbc(element, "Amount", text(item.amount), **currency)
    if item.vat_category:
        category = _cac(element, "TaxCategory")
        _cbc(category, "ID", item.vat_category)
        _cbc(category, "Percent", text(item.vat_rate))
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _ubl_party(parent: ET.Element, party: Party) -> None:
    element = _cac(parent, "Party")
    if party.endpoint:
        scheme, _, identifier = party.endpoint.partition(":")
        _cbc(element, "EndpointID", identifier, schemeID=scheme)
    address = _cac(element, "PostalAddress")
    if party.street:
        _cbc(address, "StreetName", party.street)
    if party.city:
        _cbc(address, "CityName", party.city)
    if party.postal_code:
        _cbc(address, "PostalZone", party.postal_code)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country)
    if party.vat_id:
        tax_scheme = _cac(element, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", party.vat_id)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.legal_name)
    if party.registry_id:
        scheme = {"schemeID": party.registry_scheme} if party.registry_scheme else {}
        _cbc(legal, "CompanyID", party.registry_id, **scheme)


class _Reader:
    """Paths into a UBL document: `cac:A/cbc:B` style, the prefixes of the UBL namespaces."""

    NAMESPACES = {"cac": CAC, "cbc": CBC}

    def __init__(self, element: ET.Element):
        self.element = element

    def text(self, path: str) -> str:
        found = self.element.find(path, self.NAMESPACES)
        return (found.text or "").strip() if found is not None else ""

    def node(self, path: str) -> _Reader:
        found = self.element.find(path, self.NAMESPACES)
        return _Reader(found if found is not None else ET.Element("missing"))

    def nodes(self, path: str) -> list[_Reader]:
        return [_Reader(found) for found in self.element.findall(path, self.NAMESPACES)]

    def attribute(self, path: str, name: str) -> str:
        found = self.element.find(path, self.NAMESPACES)
        return found.get(name, "") if found is not None else ""


class _DtdRefused(Exception):
    pass


def _refuse_dtd(xml: bytes) -> None:
    """A first pass with expat that stops at a document type or entity declaration, whatever
    the document's encoding."""
    def refuse(*args):
        raise _DtdRefused

    scanner = expat.ParserCreate()
    scanner.StartDoctypeDeclHandler = refuse
    scanner.EntityDeclHandler = refuse
    try:
        scanner.Parse(xml, True)
    except _DtdRefused:
        raise ValidationError({"xml": "A UBL document has no DTD or entity declarations."},
                              code="invalid_ubl") from None


def parse_ubl_tree(xml: bytes) -> ET.Element:
    """The root element of a UBL Invoice or CreditNote, refusing anything else. No DTDs at all
    (UBL has none): that rules out entity expansion and external entities before expat sees
    them."""
    if not isinstance(xml, bytes):
        raise ValidationError({"xml": "The UBL document is bytes."}, code="invalid_ubl")
    if len(xml) > UBL_MAX_BYTES:
        raise ValidationError({"xml": f"The UBL document is larger than {UBL_MAX_BYTES} "
                                      f"bytes."}, code="invalid_ubl")
    try:
        _refuse_dtd(xml)
        root = ET.fromstring(xml)  # noqa: S314 - no DTD, so no entities (checked just above)
    except (ET.ParseError, expat.ExpatError) as exc:
        raise ValidationError({"xml": f"Not well-formed XML: {exc}."},
                              code="invalid_ubl") from None
    if root.tag not in (f"{{{INVOICE_NS}}}Invoice", f"{{{CREDIT_NOTE_NS}}}CreditNote"):
        raise ValidationError({"xml": f"Not a UBL 2.1 Invoice or CreditNote (root element "
                                      f"{root.tag})."}, code="invalid_ubl")
    return root


def from_ubl(xml: bytes) -> Invoice:
    """Read a UBL 2.1 invoice or credit note (written by `to_ubl`, or any within this core) and
    check it with the rules of the profile its specification identifier (BT-24) names
    (`Invoice.profile` says which it met). Raises ValidationError keyed by field (`xml` for
    the document itself)."""
    root = parse_ubl_tree(xml)
    document = _Reader(root)
    credit = root.tag == f"{{{CREDIT_NOTE_NS}}}CreditNote"
    kind = "CreditNote" if credit else "Invoice"
    seller = _party(document.node("cac:AccountingSupplierParty"))
    customization = document.text("cbc:CustomizationID")
    profile = rules.profile_of_document(customization, seller.country)
    if profile is None:
        raise ValidationError({"xml": f"BR-01: the specification identifier (BT-24) is "
                                      f"{CUSTOMIZATION_ID} or one of its CIUS, not "
                                      f"{customization!r}."}, code="invalid_ubl")
    if profile != rules.EN16931 and document.text("cbc:ProfileID") != rules.PEPPOL_PROCESS:
        raise ValidationError({"xml": f"PEPPOL-EN16931-R001/R007: a Peppol document names "
                                      f"its business process {rules.PEPPOL_PROCESS}, not "
                                      f"{document.text('cbc:ProfileID')!r}."},
                              code="invalid_ubl")
    currency = document.text("cbc:DocumentCurrencyCode")
    unknown = {element.get("currencyID") for element in document.element.iter()
               if element.get("currencyID") is not None} - codes("iso4217")
    if unknown:
        raise ValidationError({"currency": f"BR-CL-03: currencyID {', '.join(sorted(unknown))} "
                                           f"is not in ISO 4217 alpha-3."}, code="invalid_ubl")
    others = {element.get("currencyID") for element in document.element.iter()
              if element.get("currencyID") is not None} - {currency}
    if others:
        raise ValidationError({"currency": f"Amounts in {', '.join(sorted(others))}, but the "
                                           f"invoice currency (BT-5) is {currency}."},
                              code="invalid_ubl")
    type_code = document.text(f"cbc:{kind}TypeCode")
    known_types = codes("untdid1001-credit-note" if credit else "untdid1001-invoice")
    if type_code not in known_types:
        raise ValidationError({"type_code": f"BR-CL-01: the document type code (BT-3) "
                                            f"{type_code!r} is not in UNTDID 1001 for a "
                                            f"{kind}."}, code="invalid_ubl")
    if type_code not in DOCUMENT_TYPES or rules.is_credit_note(type_code) != credit:
        raise ValidationError({"type_code": f"BR-04: only the commercial invoice "
                                            f"({COMMERCIAL_INVOICE}) and the credit note "
                                            f"({CREDIT_NOTE}) are supported here, not "
                                            f"{type_code!r}."}, code="invalid_ubl")
    subtotals = document.nodes("cac:TaxTotal/cac:TaxSubtotal")
    totals = document.node("cac:LegalMonetaryTotal")
    due_date = (document.text("cac:PaymentMeans/cbc:PaymentDueDate") if credit
                else document.text("cbc:DueDate"))
    data = {
        "number": document.text("cbc:ID"),
        "type_code": type_code,
        "profile": profile,
        "issue_date": document.text("cbc:IssueDate"),
        "due_date": due_date or None,
        "currency": currency,
        "buyer_reference": document.text("cbc:BuyerReference"),
        "order_reference": document.text("cac:OrderReference/cbc:ID"),
        "preceding_invoice": document.text(
            "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
        "delivery_date": document.text("cac:Delivery/cbc:ActualDeliveryDate") or None,
        "payment_means": [{
            "code": means.text("cbc:PaymentMeansCode"),
            "account_id": means.text("cac:PayeeFinancialAccount/cbc:ID"),
            "account_name": means.text("cac:PayeeFinancialAccount/cbc:Name"),
            "bic": means.text("cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"),
            "payment_id": means.text("cbc:PaymentID"),
            "mandate_id": means.text("cac:PaymentMandate/cbc:ID"),
        } for means in document.nodes("cac:PaymentMeans")],
        "payment_terms": document.text("cac:PaymentTerms/cbc:Note"),
        "allowances_charges": [_allowance_charge_data(item)
                               for item in document.nodes("cac:AllowanceCharge")],
        "lines": [{
            "id": line.text("cbc:ID"),
            "description": line.text("cac:Item/cbc:Name"),
            "quantity": line.text("cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"),
            "unit_code": line.attribute("cbc:CreditedQuantity" if credit
                                        else "cbc:InvoicedQuantity", "unitCode"),
            "unit_price": _unit_price(line),
            "vat_category": line.text("cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
            "vat_rate": line.text("cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
            "net_amount": line.text("cbc:LineExtensionAmount"),
            "order_line_reference": line.text("cac:OrderLineReference/cbc:LineID"),
            "allowances_charges": [_allowance_charge_data(item)
                                   for item in line.nodes("cac:AllowanceCharge")],
        } for line in document.nodes(f"cac:{kind}Line")],
        "vat_breakdown": [{
            "category": subtotal.text("cac:TaxCategory/cbc:ID"),
            "rate": subtotal.text("cac:TaxCategory/cbc:Percent"),
            "taxable_amount": subtotal.text("cbc:TaxableAmount"),
            "tax_amount": subtotal.text("cbc:TaxAmount"),
            "exemption_reason": subtotal.text("cac:TaxCategory/cbc:TaxExemptionReason"),
            "exemption_reason_code": subtotal.text(
                "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
        } for subtotal in subtotals],
        "line_net_total": totals.text("cbc:LineExtensionAmount"),
        "allowance_total": totals.text("cbc:AllowanceTotalAmount") or None,
        "charge_total": totals.text("cbc:ChargeTotalAmount") or None,
        "tax_exclusive_amount": totals.text("cbc:TaxExclusiveAmount"),
        "tax_total": document.text("cac:TaxTotal/cbc:TaxAmount"),
        "tax_inclusive_amount": totals.text("cbc:TaxInclusiveAmount"),
        "prepaid_amount": totals.text("cbc:PrepaidAmount") or None,
        "payable_amount": totals.text("cbc:PayableAmount"),
    }
    # Nothing is computed for a received document: what it lacks is reported missing.
    return invoice_from_data(data, seller=seller,
                             buyer=_party(document.node("cac:AccountingCustomerParty")),
                             compute=False, received=True)


def _unit_price(line: _Reader) -> str:
    """The item net price (BT-146); a price base quantity other than 1 (BT-149) is refused
    since lines here are priced per unit."""
    base = line.text("cac:Price/cbc:BaseQuantity")
    try:
        per_unit = not base or Decimal(base) == 1
    except InvalidOperation:
        per_unit = False
    if not per_unit:
        raise ValidationError({"xml": f"Line {line.text('cbc:ID')}: a price per {base} units "
                                      f"(base quantity, BT-149) is not supported here; prices "
                                      f"are per unit."}, code="invalid_ubl")
    return line.text("cac:Price/cbc:PriceAmount")


def _allowance_charge_data(item: _Reader) -> dict:
    indicator = item.text("cbc:ChargeIndicator")
    return {"charge": {"true": True, "false": False}.get(indicator, indicator),
            "amount": item.text("cbc:Amount"),
            "reason": item.text("cbc:AllowanceChargeReason"),
            "reason_code": item.text("cbc:AllowanceChargeReasonCode"),
            "vat_category": item.text("cac:TaxCategory/cbc:ID"),
            "vat_rate": item.text("cac:TaxCategory/cbc:Percent")}


def _party(parent: _Reader) -> Party:
    party = parent.node("cac:Party")
    endpoint = party.text("cbc:EndpointID")
    scheme = party.attribute("cbc:EndpointID", "schemeID")
    return Party(legal_name=party.text("cac:PartyLegalEntity/cbc:RegistrationName"),
                 vat_id=party.text("cac:PartyTaxScheme/cbc:CompanyID"),
                 registry_id=party.text("cac:PartyLegalEntity/cbc:CompanyID"),
                 street=party.text("cac:PostalAddress/cbc:StreetName"),
                 city=party.text("cac:PostalAddress/cbc:CityName"),
                 postal_code=party.text("cac:PostalAddress/cbc:PostalZone"),
                 country=party.text("cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
                 registry_scheme=party.attribute("cac:PartyLegalEntity/cbc:CompanyID",
                                                 "schemeID"),
                 endpoint=f"{scheme}:{endpoint}" if endpoint else "")
