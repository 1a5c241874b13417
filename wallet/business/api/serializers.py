"""Inputs and outputs of the message box and e-invoice operations. Inputs check shape only: the
services check meaning (limits, EN 16931 rules) and name the field, e.g. `lines[2].net_amount`."""

from __future__ import annotations

import base64
import binascii

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictInput
from wallet.business.messaging import einvoice_rules
from wallet.business.messaging import services as messaging
from wallet.business.messaging.models import Invoice, Message

AMOUNT_HELP = "A decimal as a string (or a JSON number), e.g. \"12.50\"."


def absolute(context: dict, route: str, *args) -> str:
    return context["request"].build_absolute_uri(reverse(route, args=args))


# Messages -------------------------------------------------------------------------------------

class AttachmentInput(StrictInput):
    filename = serializers.CharField(max_length=messaging.FILENAME_MAX)
    media_type = serializers.CharField(max_length=128, help_text="type/subtype, e.g. "
                                                                 "application/pdf.")
    content = serializers.CharField(help_text="The file, base64 (RFC 4648 §4).",
                                    trim_whitespace=False)

    def validate_content(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not base64.", code="invalid_base64") from None


class MessageSendInput(StrictInput):
    recipient = serializers.CharField(max_length=300, help_text="The organisation's slug or "
                                                                "DID.")
    subject = serializers.CharField(max_length=messaging.SUBJECT_MAX)
    body = serializers.CharField(max_length=messaging.BODY_MAX, required=False,
                                 allow_blank=True, default="", trim_whitespace=False)
    attachments = AttachmentInput(many=True, required=False, default=list,
                                  max_length=messaging.MAX_ATTACHMENTS,
                                  help_text="Together at most MESSAGE_ATTACHMENTS_MAX_BYTES "
                                            "(5 MB by default).")
    in_reply_to = serializers.UUIDField(required=False, allow_null=True,
                                        help_text="The id of the message this answers.")


class MessageFilterInput(StrictInput):
    kind = serializers.ChoiceField(choices=Message.Kind.choices, required=False)
    unread = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="Only messages without a read receipt.")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)


class OrganisationOutput(serializers.Serializer):
    slug = serializers.CharField()
    did = serializers.CharField()
    legal_name = serializers.CharField()


class LegalPersonOutput(serializers.Serializer):
    name = serializers.CharField()
    registry_id = serializers.CharField()
    register = serializers.CharField()
    anchor = serializers.CharField(help_text="DID of the trust anchor that attested it.")
    anchor_name = serializers.CharField()
    credential = serializers.CharField(help_text="Id of the identity credential.")


class SenderIdentityOutput(serializers.Serializer):
    """Who the sender is, as the trust registry named it when the message arrived."""

    attested = serializers.BooleanField()
    legal_person = LegalPersonOutput(allow_null=True)
    reason = serializers.CharField(help_text="Why it is not attested (empty when it is).")


class AttachmentOutput(serializers.Serializer):
    position = serializers.IntegerField()
    filename = serializers.CharField()
    media_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="Hex, as signed in the message.")
    url = serializers.SerializerMethodField()

    def get_url(self, attachment) -> str:
        return absolute(self.context, "wallet-api-message-attachment", attachment.message_id,
                        attachment.position)


class MessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    jti = serializers.CharField()
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    sender = OrganisationOutput()
    recipient = OrganisationOutput()
    sender_identity = serializers.SerializerMethodField()
    subject = serializers.CharField()
    body = serializers.CharField()
    in_reply_to = serializers.UUIDField(source="in_reply_to_id", allow_null=True)
    attachments = AttachmentOutput(many=True)
    sent_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True, help_text="When the recipient "
                                                                   "signed a read receipt.")
    invoice_profile = serializers.CharField(help_text="An invoice's: the profile whose rules "
                                                      "its UBL met on arrival (en16931, "
                                                      "peppol, nlcius); empty otherwise.")
    url = serializers.SerializerMethodField()

    @extend_schema_field(SenderIdentityOutput)
    def get_sender_identity(self, message) -> dict:
        return {"attested": message.sender_identity is not None,
                "legal_person": message.sender_identity,
                "reason": message.sender_identity_reason}

    def get_url(self, message) -> str:
        return absolute(self.context, "wallet-api-message", message.pk)


class MessageCheckOutput(serializers.Serializer):
    check = serializers.CharField(help_text="signature, content, attachments or receipt")
    ok = serializers.BooleanField()
    detail = serializers.CharField(required=False)


class VerificationSenderOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The sender's DID.")
    name = serializers.CharField()
    attested = serializers.BooleanField()
    legal_person = LegalPersonOutput(allow_null=True)
    reason = serializers.CharField()


class VerificationOutput(serializers.Serializer):
    """The stored message checked again now: signature, content and attachments as signed, a
    receipt's link to its message; and the sender's legal identity now."""

    verified = serializers.BooleanField()
    checks = MessageCheckOutput(many=True)
    errors = serializers.ListField(child=serializers.CharField())
    sender = VerificationSenderOutput()


class MessageDetailOutput(MessageOutput):
    jws = serializers.CharField(help_text="The message as its sender signed it (compact JWS, "
                                          "typ dpp-message+jwt).")
    verification = serializers.SerializerMethodField()

    @extend_schema_field(VerificationOutput)
    def get_verification(self, message) -> dict:
        return messaging.message_verify(message=message)


# Invoices -------------------------------------------------------------------------------------

def amount(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=40, help_text=AMOUNT_HELP, **kwargs)


class AllowanceChargeInput(StrictInput):
    """A line's allowance (BG-27) or charge (BG-28)."""

    charge = serializers.BooleanField(required=False, default=False,
                                      help_text="true: a charge; false: an allowance.")
    amount = amount(required=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reason_code = serializers.CharField(max_length=3, required=False, allow_blank=True,
                                        help_text="UNCL 5189 (allowances), UNCL 7161 "
                                                  "(charges).")


class DocumentAllowanceChargeInput(AllowanceChargeInput):
    """A document level allowance (BG-20) or charge (BG-21), with its VAT category."""

    vat_category = serializers.CharField(max_length=2, required=False, allow_blank=True)
    vat_rate = amount(required=False)


class PaymentMeansInput(StrictInput):
    """How to pay (BG-16)."""

    code = serializers.CharField(max_length=3, required=False, allow_blank=True,
                                 help_text="UNCL 4461: 30 credit transfer, 58 SEPA credit "
                                           "transfer, 59 SEPA direct debit, ...")
    account_id = serializers.CharField(max_length=34, required=False, allow_blank=True,
                                       help_text="BT-84, the IBAN.")
    account_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bic = serializers.CharField(max_length=11, required=False, allow_blank=True)
    payment_id = serializers.CharField(max_length=140, required=False, allow_blank=True,
                                       help_text="BT-83, remittance information.")
    mandate_id = serializers.CharField(max_length=35, required=False, allow_blank=True,
                                       help_text="BT-89, for a direct debit.")


class InvoiceLineInput(StrictInput):
    """One line (BG-25); omitted net amounts are computed (quantity × price, half up)."""

    id = serializers.CharField(max_length=50, required=False, help_text="BT-126; default: the "
                                                                        "line's number.")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                        help_text="BT-153, the item name.")
    quantity = amount(required=False)
    unit_code = serializers.CharField(max_length=3, required=False, allow_blank=True,
                                      help_text="UN/ECE Recommendation 20: C62, HUR, KGM, ...")
    unit_price = amount(required=False)
    vat_category = serializers.CharField(max_length=2, required=False, allow_blank=True,
                                         help_text="S, Z, E, AE or G (UNTDID 5305).")
    vat_rate = amount(required=False)
    net_amount = amount(required=False)
    allowances_charges = AllowanceChargeInput(many=True, required=False, max_length=100)
    order_line_reference = serializers.CharField(max_length=50, required=False,
                                                 allow_blank=True, help_text="BT-132.")


class VatSubtotalInput(StrictInput):
    category = serializers.CharField(max_length=2, required=False, allow_blank=True)
    rate = amount(required=False)
    taxable_amount = amount(required=False)
    tax_amount = amount(required=False)
    exemption_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    exemption_reason_code = serializers.CharField(max_length=30, required=False,
                                                  allow_blank=True, help_text="BT-121, VATEX.")


class InvoiceCreateInput(StrictInput):
    """An EN 16931 invoice or credit note to another organisation. The seller is your
    organisation and both parties' names, VAT ids, addresses, legal identifiers and electronic
    addresses (Peppol participant ids) come from the organisations' legal details. What you
    leave out (line net amounts, VAT breakdown, totals) is computed; what you give is checked,
    with the rules of the chosen profile."""

    buyer = serializers.CharField(max_length=300, help_text="The buyer's slug or DID.")
    type_code = serializers.ChoiceField(choices=[("380", "380 commercial invoice"),
                                                 ("381", "381 credit note")], required=False)
    profile = serializers.ChoiceField(
        choices=[(profile.name, profile.label)
                 for profile in einvoice_rules.PROFILES.values()], required=False,
        help_text="The rules it keeps: en16931 (default), peppol (Peppol BIS Billing 3.0), "
                  "nlcius (Dutch receivers over Peppol; a Dutch seller's peppol invoice is "
                  "one).")
    buyer_reference = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                            help_text="BT-10 (Peppol: this or "
                                                      "order_reference).")
    order_reference = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                            help_text="BT-13, the purchase order.")
    preceding_invoice = serializers.CharField(max_length=50, required=False, allow_blank=True,
                                              help_text="BT-25: the invoice a credit note "
                                                        "credits.")
    delivery_date = serializers.DateField(required=False, allow_null=True)
    allowances_charges = DocumentAllowanceChargeInput(many=True, required=False,
                                                      max_length=100)
    payment_means = PaymentMeansInput(many=True, required=False, max_length=10)
    payment_terms = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                          help_text="BT-20.")
    number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    issue_date = serializers.DateField(required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    lines = InvoiceLineInput(many=True, max_length=1000)
    vat_breakdown = VatSubtotalInput(many=True, required=False, max_length=100)
    line_net_total = amount(required=False)
    allowance_total = amount(required=False)
    charge_total = amount(required=False)
    tax_exclusive_amount = amount(required=False)
    tax_total = amount(required=False)
    tax_inclusive_amount = amount(required=False)
    prepaid_amount = amount(required=False)
    payable_amount = amount(required=False)


class InvoiceFilterInput(StrictInput):
    role = serializers.ChoiceField(choices=[("seller", "seller"), ("buyer", "buyer")],
                                   required=False, help_text="Only invoices you issued "
                                                             "(seller) or received (buyer).")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)


class InvoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=Invoice.State.choices)
    seller = OrganisationOutput()
    buyer = OrganisationOutput()
    issue_date = serializers.DateField()
    due_date = serializers.DateField(allow_null=True)
    currency = serializers.CharField()
    payable_amount = serializers.DecimalField(max_digits=19, decimal_places=2)
    document = serializers.DictField(help_text="The EN 16931 data: parties, lines, VAT "
                                               "breakdown, totals (decimals as strings).")
    message = serializers.UUIDField(source="message_id", allow_null=True,
                                    help_text="The signed message it was sent with.")
    sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()
    xml_url = serializers.SerializerMethodField()

    def get_url(self, invoice) -> str:
        return absolute(self.context, "wallet-api-invoice", invoice.pk)

    def get_xml_url(self, invoice) -> str:
        return absolute(self.context, "wallet-api-invoice-xml", invoice.pk)
