"""Admin for the message box and e-invoices, scoped to the user's organisation: the inbox and
outbox (read-only, each message with its sender's verified legal identity and a verification
done again on display; downloads checked against the signed digests), composing a message,
read receipts, and invoices (a draft from a simple list of lines, then sent as a signed
message). Thin: every write calls a service in messaging/services.py, and a person needs an active
mandate with `messages:send` / `invoices:send` (recorded on the message)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from wallet.business.messaging import einvoice_rules, invoices
from wallet.business.messaging import services as messaging
from wallet.business.messaging.models import InboxMessage, Invoice, Message, OutboxMessage
from wallet.tenancy.admin_scoping import ReadOnlyScopedAdmin
from wallet.tenancy.authority import NotAuthorised, actor_of, authorise
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Organisation
from wallet.tenancy.selectors import organisation_of


def _report(modeladmin, request, objects, action, done: str) -> None:
    """Apply a service to each object; report successes and refusals by name."""
    count = 0
    for obj in objects:
        try:
            action(obj)
            count += 1
        except (WalletError, ValidationError) as exc:
            detail = getattr(exc, "detail", None) or "; ".join(exc.messages)
            modeladmin.message_user(request, f"{obj}: {detail}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count}", messages.SUCCESS)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on the field it names, or on the field its key
    starts with (`lines[2].net_amount` on `lines`, the key in front of the message), or, when
    no form field fits (`tax_total`), above the form."""
    for key, messages_ in error.message_dict.items():
        head = key.split("[")[0].split(".")[0]
        field = key if key in form.fields else head if head in form.fields else None
        for message in messages_:
            form.add_error(field, message if field == key else f"{key}: {message}")


def _download(content: bytes, filename: str, media_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=media_type)
    safe = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                   for c in filename)
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def identity_text(message: Message):
    """The sender as the trust registry named it when the message arrived."""
    person = message.sender_identity
    if person is None:
        return format_html("<strong>not attested</strong> ({})",
                           message.sender_identity_reason or "no identity credential")
    return format_html("✓ {} · registry {} ({}) · attested by {}", person["name"],
                       person["registry_id"], person["register"], person["anchor_name"])


# Inbox and outbox -----------------------------------------------------------------------------

class _MessageBoxAdmin(ReadOnlyScopedAdmin):
    list_filter = ["kind"]
    search_fields = ["subject"]
    date_hierarchy = "received_at"
    view_fields = ["kind", "sender", "verified_sender", "recipient", "subject", "body",
                   "attachment_links", "in_reply_to", "sent_at", "received_at", "read_at",
                   "verification"]

    def get_queryset(self, request):
        return (super().get_queryset(request)
                .select_related("sender", "recipient", "in_reply_to", "mandate", "sent_by")
                .prefetch_related("attachments"))

    def get_fields(self, request, obj=None):
        return self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields

    @admin.display(description=_("Verified sender"))
    def verified_sender(self, message):
        return identity_text(message)

    @admin.display(boolean=True, description=_("Read"), ordering="read_at")
    def read(self, message):
        return message.read_at is not None

    @admin.display(description=_("Attachments"))
    def attachment_links(self, message):
        attachments = list(message.attachments.all())
        if not attachments:
            return "-"
        url_name = f"{self.admin_site.name}:wallet_{self.model._meta.model_name}_attachment"
        return format_html_join(
            "", '<a href="{}">{}</a> ({}, {} bytes, SHA-256 {}…)<br>',
            ((reverse(url_name, args=[message.pk, a.position]), a.filename, a.media_type,
              a.size, a.sha256[:16]) for a in attachments))

    @admin.display(description=_("Verification (checked now)"))
    def verification(self, message):
        verdict = messaging.message_verify(message=message)
        checks = ", ".join(check["check"] for check in verdict["checks"])
        if verdict["verified"]:
            return format_html("✓ verified: {}", checks)
        return format_html("<strong>✗ not verified</strong>: {}", "; ".join(verdict["errors"]))

    def get_urls(self):
        name = f"wallet_{self.model._meta.model_name}_attachment"
        return [path("<path:object_id>/attachments/<int:position>/",
                     self.admin_site.admin_view(self.attachment_view), name=name),
                *super().get_urls()]

    def attachment_view(self, request, object_id, position):
        """An attachment, after checking it against the digest its sender signed."""
        message = self.get_object(request, object_id)
        if message is None:
            raise Http404("No such message.")
        if not self.has_view_permission(request, message):
            raise PermissionDenied
        try:
            attachment = messaging.attachment_content(message=message, position=position)
        except messaging.MessageAttachment.DoesNotExist:
            raise Http404("No such attachment.") from None
        except WalletError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(reverse(
                f"{self.admin_site.name}:wallet_{self.model._meta.model_name}_change",
                args=[message.pk]))
        return _download(bytes(attachment.content), attachment.filename, attachment.media_type)


@admin.register(InboxMessage)
class InboxAdmin(_MessageBoxAdmin):
    """What the organisation received. "Mark as read" signs a read receipt back to the
    sender (needs a `messages:send` mandate)."""

    organisation_path = "recipient"
    list_display = ["subject", "kind", "sender", "verified_sender", "sent_at", "read"]
    actions = ["send_read_receipts"]

    @admin.action(description=_("Mark as read: send a signed read receipt"))
    def send_read_receipts(self, request, queryset):
        _report(self, request, queryset.exclude(kind=Message.Kind.RECEIPT),
                lambda message: messaging.message_read(
                    message=message, organisation=message.recipient,
                    actor=actor_of(request.user)),
                "Read receipts sent")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (Django's FileField takes one)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, list | tuple):
            return [clean_one(item, initial) for item in data]
        return [clean_one(data, initial)] if data else []


class ComposeForm(forms.ModelForm):
    """A new message from the user's organisation. Checked here with the service's own checks
    (wallet.tenancy.authority for the mandate, message_validate for the limits), so a refusal is
    shown
    on the form; `save_model` then sends it."""

    attachments = MultipleFileField(required=False, help_text=format_lazy(
        _("Up to {files} files, together at most {megabytes} MB by default."),
        files=messaging.MAX_ATTACHMENTS,
        megabytes=messaging.DEFAULT_ATTACHMENTS_MAX_BYTES // (1024 * 1024)))
    request = None  # set by OutboxAdmin.get_form

    class Meta:
        model = OutboxMessage
        fields = ["recipient", "subject", "body", "in_reply_to"]

    def clean(self):
        cleaned = super().clean()
        sender = organisation_of(self.request.user)
        try:
            authorise(actor_of(self.request.user), organisation=sender,
                      scope=Mandate.Scope.MESSAGES_SEND)
        except NotAuthorised as refused:
            raise ValidationError(refused.detail, code=refused.code) from None
        files = cleaned.get("attachments") or []
        if sum(upload.size for upload in files) > messaging.attachments_max_bytes():
            limit = messaging.attachments_max_bytes()
            self.add_error("attachments", _("The attachments are larger than %(bytes)d bytes "
                                            "together.") % {"bytes": limit})
            return cleaned
        self.to_send = [messaging.Attachment(
            upload.name, (upload.content_type or "application/octet-stream").split(";")[0]
            .strip().lower(), upload.read()) for upload in files]
        try:
            messaging.message_validate(sender=sender, recipient=cleaned.get("recipient"),
                                       subject=cleaned.get("subject") or "",
                                       body=cleaned.get("body") or "",
                                       attachments=self.to_send)
        except ValidationError as exc:
            _add_errors(self, exc)
        return cleaned


@admin.register(OutboxMessage)
class OutboxAdmin(_MessageBoxAdmin):
    """What the organisation sent; "Add" composes a new message, signed by the organisation's
    wallet when it is sent."""

    organisation_path = "sender"
    list_display = ["subject", "kind", "recipient", "sent_at", "read", "sent_by", "mandate"]
    view_fields = [*_MessageBoxAdmin.view_fields, "sent_by", "mandate", "receipt"]
    form = ComposeForm

    def has_add_permission(self, request):
        return (admin.ModelAdmin.has_add_permission(self, request)
                and organisation_of(request.user) is not None)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["recipient", "subject", "body", "in_reply_to", "attachments"]
        return self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.view_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type("ComposeFormFor", (form,), {"request": request})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        organisation = organisation_of(request.user)
        if db_field.name == "recipient":
            kwargs["queryset"] = Organisation.objects.exclude(pk=getattr(organisation, "pk",
                                                                         None))
        elif db_field.name == "in_reply_to":
            kwargs["queryset"] = (messaging.messages_of(organisation)
                                  .exclude(kind=Message.Kind.RECEIPT))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        sent = messaging.message_send(
            sender=organisation_of(request.user), recipient=obj.recipient, subject=obj.subject,
            body=obj.body, in_reply_to=obj.in_reply_to, attachments=form.to_send,
            actor=actor_of(request.user))
        obj.pk = sent.pk  # the admin goes on with `obj`: make it the stored message
        obj.refresh_from_db()

    @admin.display(description=_("Read receipt (checked now)"))
    def receipt(self, message):
        receipt = messaging.receipt_of(message)
        if receipt is None:
            return "not read yet"
        verdict = messaging.message_verify(message=receipt)
        if verdict["verified"]:
            return format_html("✓ read at {}; receipt signed by {}", receipt.sent_at,
                               receipt.sender.legal_name)
        return format_html("<strong>✗ receipt does not verify</strong>: {}",
                           "; ".join(verdict["errors"]))


# Invoices -------------------------------------------------------------------------------------

LINE_FORMAT = "description; quantity; unit code; unit price; VAT category; VAT rate"
ALLOWANCE_FORMAT = "allowance or charge; amount; reason; VAT category; VAT rate"


class InvoiceForm(forms.ModelForm):
    """A draft invoice from the user's organisation. Lines are one per row; line amounts, the
    VAT breakdown and totals are computed (Decimal, half up) and checked against EN 16931."""

    lines = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 100}),
                            help_text=format_lazy(_(
        "One line per row: {format}, e.g. “Battery pack 75 kWh; 2; C62; 4250.00; S; 21”. "
        "Unit codes are UN/ECE Recommendation 20 (C62 piece, HUR hour, KGM kilogram); VAT "
        "categories S, Z, E, AE, G."), format=LINE_FORMAT))
    type_code = forms.ChoiceField(label=_("Document"), choices=[
        ("380", _("Invoice (380)")), ("381", _("Credit note (381)"))], initial="380",
        required=False)
    profile = forms.ChoiceField(choices=[(profile.name, profile.label)
                                         for profile in einvoice_rules.PROFILES.values()],
                                initial=einvoice_rules.EN16931, required=False, help_text=_(
        "The rules the invoice keeps. Dutch receivers over Peppol: Peppol BIS Billing 3.0 (a "
        "Dutch seller's is NLCIUS); it needs a buyer or order reference and, when the buyer "
        "pays, an IBAN."))
    buyer_reference = forms.CharField(required=False, max_length=200, help_text=_("BT-10."))
    order_reference = forms.CharField(required=False, max_length=200,
                                      help_text=_("BT-13, the purchase order."))
    preceding_invoice = forms.CharField(required=False, max_length=50, help_text=_(
        "BT-25: for a credit note, the invoice it credits."))
    iban = forms.CharField(label=_("IBAN"), required=False, max_length=34, help_text=_(
        "Paid by SEPA credit transfer (payment means 58) to this account."))
    bic = forms.CharField(label=_("BIC"), required=False, max_length=11)
    payment_terms = forms.CharField(required=False, max_length=500, help_text=_("BT-20."))
    allowances_charges = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 100}),
        help_text=format_lazy(_("Document level, one per row: {format}, e.g. “allowance; "
                                "50.00; Loyalty; S; 21”."), format=ALLOWANCE_FORMAT))
    request = None  # set by InvoiceAdmin.get_form

    class Meta:
        model = Invoice
        fields = ["buyer", "number", "issue_date", "due_date", "currency"]

    def clean_lines(self) -> list[dict]:
        rows, parsed = self.cleaned_data["lines"].splitlines(), []
        for number, row in enumerate(rows, start=1):
            if not row.strip():
                continue
            parts = [part.strip() for part in row.split(";")]
            if len(parts) != 6:
                raise ValidationError(_("Row %(number)d: six fields separated by “;” "
                                        "(%(format)s).") % {"number": number,
                                                             "format": LINE_FORMAT})
            parsed.append(dict(zip(["description", "quantity", "unit_code", "unit_price",
                                    "vat_category", "vat_rate"], parts, strict=True)))
        return parsed

    def clean_allowances_charges(self) -> list[dict]:
        parsed = []
        for number, row in enumerate(self.cleaned_data["allowances_charges"].splitlines(),
                                     start=1):
            if not row.strip():
                continue
            parts = [part.strip() for part in row.split(";")]
            if len(parts) != 5 or parts[0].lower() not in ("allowance", "charge"):
                raise ValidationError(_("Row %(number)d: five fields separated by “;” "
                                        "(%(format)s).") % {"number": number,
                                                             "format": ALLOWANCE_FORMAT})
            parsed.append({"charge": parts[0].lower() == "charge", "amount": parts[1],
                           "reason": parts[2], "vat_category": parts[3],
                           "vat_rate": parts[4]})
        return parsed

    def clean(self):
        cleaned = super().clean()
        seller, buyer = organisation_of(self.request.user), cleaned.get("buyer")
        if buyer is None or "lines" not in cleaned:
            return cleaned
        self.invoice_data = {
            "number": cleaned.get("number") or "", "currency": cleaned.get("currency") or "",
            "issue_date": cleaned.get("issue_date"), "due_date": cleaned.get("due_date"),
            "lines": cleaned["lines"], "allowances_charges": cleaned.get("allowances_charges"),
            **{name: cleaned.get(name) or "" for name in (
                "type_code", "profile", "buyer_reference", "order_reference",
                "preceding_invoice", "payment_terms")},
            "payment_means": ([{"code": "58", "account_id": cleaned["iban"],
                                "bic": cleaned.get("bic") or ""}]
                              if cleaned.get("iban") else [])}
        if Invoice.objects.filter(seller=seller, number=cleaned.get("number")).exists():
            self.add_error("number", _("Your organisation has used this invoice number already."))
        try:
            invoices.invoice_from_data(self.invoice_data, seller=messaging.party_of(seller),
                                       buyer=messaging.party_of(buyer))
        except ValidationError as exc:
            _add_errors(self, exc)
        return cleaned


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Invoices the organisation issued (drafts too) or was sent. A draft is sent with the
    action (needs an `invoices:send` mandate); a sent invoice never changes."""

    form = InvoiceForm
    list_display = ["number", "seller", "buyer", "issue_date", "due_date", "currency",
                    "payable_amount", "state"]
    list_filter = ["state"]
    search_fields = ["number"]
    actions = ["send"]
    view_fields = ["number", "state", "seller", "verified_seller", "buyer", "issue_date",
                   "due_date", "currency", "profile_and_references", "lines_table", "totals",
                   "xml_link", "message", "sent_at", "created_by", "created_at"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("seller", "buyer", "message")
        if request.user.is_superuser:
            return queryset
        organisation = organisation_of(request.user)
        if organisation is None:
            return queryset.none()
        return queryset.filter(Q(seller=organisation)
                               | Q(buyer=organisation, state=Invoice.State.SENT))

    def has_add_permission(self, request):
        return super().has_add_permission(request) and organisation_of(request.user) is not None

    def has_change_permission(self, request, obj=None):
        return False  # drafts are sent or deleted; a sent invoice never changes

    def has_delete_permission(self, request, obj=None):
        return (super().has_delete_permission(request, obj) and obj is not None
                and obj.state == Invoice.State.DRAFT
                and obj.seller == organisation_of(request.user))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["buyer", "type_code", "profile", "number", "issue_date", "due_date",
                    "currency", "buyer_reference", "order_reference", "preceding_invoice",
                    "lines", "allowances_charges", "iban", "bic", "payment_terms"]
        return self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.view_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "currency" in form.base_fields:
            form.base_fields["currency"].initial = "EUR"
        return type("InvoiceFormFor", (form,), {"request": request})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "buyer":
            organisation = organisation_of(request.user)
            kwargs["queryset"] = Organisation.objects.exclude(pk=getattr(organisation, "pk",
                                                                         None))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        invoice = messaging.invoice_create(seller=organisation_of(request.user),
                                           buyer=obj.buyer, data=form.invoice_data,
                                           created_by=request.user)
        obj.pk = invoice.pk
        obj.refresh_from_db()

    @admin.action(description=_("Send to the buyer (signed message with the UBL XML)"))
    def send(self, request, queryset):
        own = queryset if request.user.is_superuser else queryset.filter(
            seller=organisation_of(request.user))
        _report(self, request, own.filter(state=Invoice.State.DRAFT),
                lambda invoice: messaging.invoice_send(invoice=invoice,
                                                       actor=actor_of(request.user)),
                "Invoices sent")

    @admin.display(description=_("Verified seller"))
    def verified_seller(self, invoice):
        return identity_text(invoice.message) if invoice.message_id else "- (not sent yet)"

    @admin.display(description=_("Profile and references"))
    def profile_and_references(self, invoice):
        document = invoice.document
        profile = einvoice_rules.PROFILES.get(document.get("profile", einvoice_rules.EN16931))
        kind = invoices.DOCUMENT_TYPES.get(document.get("type_code"), document.get("type_code"))
        means = format_html_join("", "<br>payment means {}: {} {}",
                                 ((m["code"], m["account_id"], m["bic"])
                                  for m in document.get("payment_means", [])))
        return format_html("{} · {}<br>buyer reference {} · order {} · credits {}{}",
                           kind, profile.label if profile else "-",
                           document.get("buyer_reference") or "-",
                           document.get("order_reference") or "-",
                           document.get("preceding_invoice") or "-", means)

    @admin.display(description=_("Lines"))
    def lines_table(self, invoice):
        document = invoice.document
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td>"
                                    "<td>{} {}%</td><td>{}</td></tr>",
                                ((line["id"], line["description"], line["quantity"],
                                  line["unit_code"], line["unit_price"], line["vat_category"],
                                  line["vat_rate"], line["net_amount"])
                                 for line in document["lines"]))
        return format_html("<table><tr><th>#</th><th>Item</th><th>Quantity</th><th>Price</th>"
                           "<th>VAT</th><th>Net</th></tr>{}</table>", rows)

    @admin.display(description=_("VAT and totals"))
    def totals(self, invoice):
        document = invoice.document
        breakdown = format_html_join(
            "", "VAT {} {}% on {}: {}<br>",
            ((s["category"], s["rate"], s["taxable_amount"], s["tax_amount"])
             for s in document["vat_breakdown"]))
        return format_html("{}Net {} · VAT {} · total {} · due <strong>{} {}</strong>",
                           breakdown, document["line_net_total"], document["tax_total"],
                           document["tax_inclusive_amount"], document["currency"],
                           document["payable_amount"])

    @admin.display(description=_("UBL 2.1 XML"))
    def xml_link(self, invoice):
        url = reverse(f"{self.admin_site.name}:wallet_invoice_xml", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, messaging.ubl_filename(invoice.number))

    def get_urls(self):
        return [path("<path:object_id>/xml/", self.admin_site.admin_view(self.xml_view),
                     name="wallet_invoice_xml"),
                *super().get_urls()]

    def xml_view(self, request, object_id):
        invoice = self.get_object(request, object_id)
        if invoice is None:
            raise Http404("No such invoice.")
        if not self.has_view_permission(request, invoice):
            raise PermissionDenied
        try:
            filename, xml = messaging.invoice_xml(invoice=invoice)
        except WalletError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(reverse(f"{self.admin_site.name}:wallet_invoice_change",
                                                args=[invoice.pk]))
        return _download(xml, filename, invoices.UBL_MEDIA_TYPE)
