"""The message box and e-invoices (docs/architecture.md, Business wallet): validated messages
between organisations on the service, each a JWS signed by the sender's wallet and verified on
receipt, and EN 16931 invoices sent as such messages. Imported by wallet.models; written only by
wallet.business.messaging.services."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    """A signed message as the recipient received and verified it. Read receipts are messages
    too (kind `receipt`, `in_reply_to` the message they acknowledge), so they travel and verify
    the same way. The id is the JWS's `jti` (`urn:uuid:<id>`)."""

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        INVOICE = "invoice", "E-invoice"
        RECEIPT = "receipt", "Read receipt"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MESSAGE)
    sender = models.ForeignKey("wallet.Organisation", on_delete=models.PROTECT,
                               related_name="messages_sent")
    recipient = models.ForeignKey("wallet.Organisation", on_delete=models.PROTECT,
                                  related_name="messages_received")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    in_reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="replies")
    jws = models.TextField(help_text="The message as signed by the sender (compact JWS, typ "
                                     "dpp-message+jwt).")
    digest = models.CharField(max_length=64, help_text="SHA-256 (hex) of the JWS: what a read "
                                                       "receipt signs.")
    sender_identity = models.JSONField(null=True, blank=True,
                                       help_text="The sender's legal person as the trust "
                                                 "registry named it on receipt; empty when "
                                                 "not attested.")
    sender_identity_reason = models.CharField(max_length=500, blank=True,
                                              help_text="Why the sender is not attested.")
    sent_at = models.DateTimeField(help_text="The signed `iat`.")
    received_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True,
                                   help_text="When the recipient's signed read receipt was made.")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    mandate = models.ForeignKey("wallet.Mandate", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="messages",
                                help_text="The mandate the person who sent it acted under.")
    api_token = models.ForeignKey("wallet.ApiToken", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  help_text="The API key it was sent with.")
    by_operator = models.BooleanField(default=False,
                                      help_text="Sent by the service's operator (a management "
                                                "command, a superuser), not under a mandate.")
    invoice_profile = models.CharField(
        max_length=16, blank=True,
        help_text="An invoice's: the e-invoice profile whose rules its UBL met when it was "
                  "received (wallet.business.messaging.einvoice_rules: en16931, peppol, nlcius).")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["recipient", "-received_at"]),
                   models.Index(fields=["sender", "-received_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(sender=F("recipient")),
                                   name="message_not_to_self"),
            models.CheckConstraint(condition=Q(kind__in=["message", "invoice", "receipt"]),
                                   name="message_kind_known"),
            models.CheckConstraint(condition=~Q(kind="receipt") | Q(in_reply_to__isnull=False),
                                   name="receipt_acknowledges_a_message"),
            models.UniqueConstraint(fields=["in_reply_to"], condition=Q(kind="receipt"),
                                    name="one_receipt_per_message"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sender.slug}→{self.recipient.slug}: " \
               f"{self.subject}"

    @property
    def jti(self) -> str:
        return f"urn:uuid:{self.id}"


class InboxMessage(Message):
    """Messages an organisation received (admin view)."""

    class Meta:
        proxy = True
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox")


class OutboxMessage(Message):
    """Messages an organisation sent (admin view)."""

    class Meta:
        proxy = True
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")


class MessageAttachment(models.Model):
    """A file sent with a message; its SHA-256 is signed in the message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField(help_text="Its place in the signed list, from 0.")
    filename = models.CharField(max_length=200)
    media_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, help_text="Hex, as signed in the message.")
    content = models.BinaryField()

    class Meta:
        ordering = ["message", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"],
                                    name="unique_attachment_position"),
            models.UniqueConstraint(fields=["message", "filename"],
                                    name="unique_attachment_filename"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.media_type}, {self.size} bytes)"


class Invoice(models.Model):
    """An EN 16931 invoice of a seller to a buyer (both organisations on the service).

    `document` holds the invoice's data (invoices.to_data: every amount a decimal
    string); the columns beside it are copies for lists and filters. Once sent, the UBL XML
    travels as an attachment of `message`, which is what the buyer reads."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"

    seller = models.ForeignKey("wallet.Organisation", on_delete=models.PROTECT,
                               related_name="invoices_issued")
    buyer = models.ForeignKey("wallet.Organisation", on_delete=models.PROTECT,
                              related_name="invoices_received")
    number = models.CharField(max_length=50, help_text="BT-1, unique per seller.")
    issue_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    payable_amount = models.DecimalField(max_digits=19, decimal_places=2)
    document = models.JSONField(help_text="The EN 16931 data (wallet.invoices.to_data).")
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="invoice")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["seller", "number"],
                                    name="unique_invoice_number_per_seller"),
            models.CheckConstraint(condition=~Q(seller=F("buyer")),
                                   name="invoice_not_to_self"),
            models.CheckConstraint(
                condition=(Q(state="draft", message__isnull=True, sent_at__isnull=True)
                           | Q(state="sent", message__isnull=False, sent_at__isnull=False)),
                name="invoice_sent_with_a_message"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number} {self.seller.slug}→{self.buyer.slug} [{self.state}]"
