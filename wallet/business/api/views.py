"""Message box and e-invoice operations for organisation API keys: one class per operation,
each parsing its input, calling one service or selector, and rendering the result.

An API key acts for its organisation: it sees the messages that organisation sent or received
(anything else is 404, like what does not exist) and the invoices it issued or was sent. Each
handler names its scope; the scopes are `messages:read`, `messages:send`, `invoices:read` and
`invoices:send`. Errors are problem+json (core.api.problems); the wallet's own refusals
keep their codes (`no_mandate`, `attachment_changed`, ...)."""

from __future__ import annotations

import functools
import uuid

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from core.api import schema
from core.api.permissions import Scope, requires_scope
from core.api.problems import Problem
from core.api.schema import KEYED, WRITE
from core.api.serializers import paginated
from core.api.views import ApiView, Pages, validated
from wallet.business.api import serializers as io
from wallet.business.messaging import services as messaging
from wallet.business.messaging.models import Invoice, Message, MessageAttachment
from wallet.business.trust import organisation_for_did
from wallet.tenancy.models import Organisation

# The wallet's scopes, as the operations below name them.
MESSAGES_READ = Scope.MESSAGES_READ
MESSAGES_SEND = Scope.MESSAGES_SEND
INVOICES_READ = Scope.INVOICES_READ
INVOICES_SEND = Scope.INVOICES_SEND
WALLET_READ = Scope.WALLET_READ
MANDATES_MANAGE = Scope.MANDATES_MANAGE
SCOPES = (MESSAGES_READ, MESSAGES_SEND, INVOICES_READ, INVOICES_SEND, WALLET_READ,
          MANDATES_MANAGE)

PROBLEM_DESCRIPTIONS = {
    400: "The request is not valid (field errors in `errors`, e.g. `lines[2].net_amount` "
         "with the EN 16931 rule it breaks).",
    401: "No API key, or an unknown or revoked one.",
    403: "The API key lacks the scope, or the organisation may not do this (`not_recipient`).",
    404: "Not found, or not visible to the API key's organisation (or a page past the end).",
    409: "Stored data no longer matches its signature (`attachment_changed`), or the message "
         "does not allow this.",
    413: "The body is larger than the limit.",
    415: "The Content-Type is not supported.",
}


problems = functools.partial(schema.problems, descriptions=PROBLEM_DESCRIPTIONS)
MESSAGE_PAGE = paginated(io.MessageOutput)
INVOICE_PAGE = paginated(io.InvoiceOutput)


class WalletApiView(ApiView):
    """Every wallet operation: the API's body limit (ApiView), and the wallet's refusals as
    problems with their own codes."""

    def handle_exception(self, exc):
        if isinstance(exc, MessageAttachment.DoesNotExist):
            exc = exceptions.NotFound("No such attachment.", code="not_found")
        return super().handle_exception(exc)


class AnyAccept(BaseContentNegotiation):
    """Downloads answer with their own media type whatever the client accepts."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BinaryRenderer(BaseRenderer):
    media_type = "application/octet-stream"
    format = "bin"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class DownloadView(WalletApiView):
    content_negotiation_class = AnyAccept
    renderer_classes = [BinaryRenderer]


def download(content: bytes, filename: str, media_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{_ascii(filename)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _ascii(filename: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                   for c in filename)


def organisation_named(value: str, field: str) -> Organisation:
    """An organisation on this service by slug or DID; a field error otherwise."""
    found = (organisation_for_did(value) if value.startswith("did:")
             else Organisation.objects.filter(slug=value).first())
    if found is None:
        raise Problem(f"No organisation {value!r} on this service.", code="invalid", errors=[
            {"field": field, "code": "does_not_exist",
             "detail": "No such organisation on this service."}])
    return found


def message_of(client, message_id) -> Message:
    try:
        pk = uuid.UUID(str(message_id))
    except ValueError:
        raise exceptions.NotFound("No such message.", code="not_found") from None
    message = (messaging.messages_of(client.organisation).filter(pk=pk)
               .prefetch_related("attachments").first())
    if message is None:
        raise exceptions.NotFound("No such message.", code="not_found")
    return message


def _small_int(value, limit: int) -> int | None:
    """A path segment as a number below `limit`, or None (answered as not found)."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and int(text) < limit else None


def invoice_of(client, invoice_id) -> Invoice:
    pk = _small_int(invoice_id, 2**63)
    invoice = (messaging.invoices_of(client.organisation).filter(pk=pk).first()
               if pk is not None else None)
    if invoice is None:
        raise exceptions.NotFound("No such invoice.", code="not_found")
    return invoice


# Messages -------------------------------------------------------------------------------------

class _MessageListApi(WalletApiView):
    box = None  # messaging.inbox or messaging.outbox

    def list(self, request):
        filters = validated(io.MessageFilterInput, request.query_params)
        queryset = type(self).box(request.user.organisation).prefetch_related("attachments")
        if "kind" in filters:
            queryset = queryset.filter(kind=filters["kind"])
        if filters.get("unread") is not None:
            queryset = queryset.filter(read_at__isnull=filters["unread"])
        pages = Pages()
        page = pages.paginate_queryset(queryset, request, view=self)
        return pages.get_paginated_response(
            io.MessageOutput(page, many=True, context={"request": request}).data)


LIST_PARAMETERS = [io.MessageFilterInput]


class MessageInboxApi(_MessageListApi):
    box = staticmethod(messaging.inbox)

    @extend_schema(operation_id="wallet_messages_inbox", parameters=LIST_PARAMETERS,
                   responses={200: MESSAGE_PAGE, **problems(*KEYED, 400, 404)})
    @requires_scope(MESSAGES_READ)
    def get(self, request):
        """Messages your organisation received (read receipts too), newest first, each with
        the sender's legal identity as verified on receipt."""
        return self.list(request)


class MessageOutboxApi(_MessageListApi):
    box = staticmethod(messaging.outbox)

    @extend_schema(operation_id="wallet_messages_outbox", parameters=LIST_PARAMETERS,
                   responses={200: MESSAGE_PAGE, **problems(*KEYED, 400, 404)})
    @requires_scope(MESSAGES_READ)
    def get(self, request):
        """Messages your organisation sent, newest first; `read_at` once read."""
        return self.list(request)


class MessageSendApi(WalletApiView):
    def body_limit(self) -> int:
        # Attachments travel base64 (4/3 of their size) beside a subject and a body.
        return messaging.attachments_max_bytes() * 4 // 3 + 256 * 1024

    @extend_schema(operation_id="wallet_messages_send", request=io.MessageSendInput,
                   responses={201: io.MessageOutput, **problems(*KEYED, *WRITE, 409)},
                   description="Send a message, signed by your organisation's wallet (a JWS "
                               "over the subject, body and attachment digests), to another "
                               "organisation on this service.")
    @requires_scope(MESSAGES_SEND)
    def post(self, request):
        data = validated(io.MessageSendInput, request.data)
        client = request.user
        recipient = organisation_named(data["recipient"], "recipient")
        in_reply_to = None
        if data.get("in_reply_to"):
            in_reply_to = messaging.messages_of(client.organisation).filter(
                pk=data["in_reply_to"]).first()
            if in_reply_to is None:
                raise Problem("No such message to reply to.", code="invalid", errors=[
                    {"field": "in_reply_to", "code": "does_not_exist",
                     "detail": "No such message."}])
        message = messaging.message_send(
            sender=client.organisation, recipient=recipient, subject=data["subject"],
            body=data["body"], in_reply_to=in_reply_to, actor=client.as_actor(),
            attachments=[messaging.Attachment(a["filename"], a["media_type"], a["content"])
                         for a in data["attachments"]])
        return Response(io.MessageOutput(message, context={"request": request}).data,
                        status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("wallet-api-message", args=[message.pk])})


class MessageDetailApi(WalletApiView):
    @extend_schema(operation_id="wallet_messages_retrieve",
                   responses={200: io.MessageDetailOutput, **problems(*KEYED, 404)})
    @requires_scope(MESSAGES_READ)
    def get(self, request, message_id):
        """A message your organisation sent or received, with its JWS and its verification
        (checked again now)."""
        message = message_of(request.user, message_id)
        return Response(io.MessageDetailOutput(message, context={"request": request}).data)


class MessageAttachmentApi(DownloadView):
    @extend_schema(operation_id="wallet_messages_attachment",
                   responses={(200, "application/octet-stream"): OpenApiResponse(
                       OpenApiTypes.BINARY, description="The file, checked against the "
                                                        "digest its sender signed."),
                              **problems(*KEYED, 404, 409)})
    @requires_scope(MESSAGES_READ)
    def get(self, request, message_id, position):
        """An attachment of a message, after checking it against its signed SHA-256 digest
        (409 `attachment_changed` if it no longer matches). Its media type is in the
        message's `attachments`."""
        message = message_of(request.user, message_id)
        index = _small_int(position, messaging.MAX_ATTACHMENTS)
        if index is None:
            raise exceptions.NotFound("No such attachment.", code="not_found")
        attachment = messaging.attachment_content(message=message, position=index)
        return download(bytes(attachment.content), attachment.filename,
                        BinaryRenderer.media_type)


class _ReceiptCreateApi(WalletApiView):
    @extend_schema(operation_id="wallet_messages_receipt_create", request=None,
                   responses={201: io.MessageDetailOutput, 200: io.MessageDetailOutput,
                              **problems(*KEYED, 404, 409)},
                   description="Acknowledge a message your organisation received: a read "
                               "receipt signed by your wallet over the message's jti and the "
                               "SHA-256 of its JWS, delivered to the sender. 201 when made, "
                               "200 with the existing receipt after that.")
    @requires_scope(MESSAGES_SEND)
    def post(self, request, message_id):
        client = request.user
        message = message_of(client, message_id)
        existing = messaging.receipt_of(message)
        receipt = existing or messaging.message_read(
            message=message, organisation=client.organisation, actor=client.as_actor())
        return Response(io.MessageDetailOutput(receipt, context={"request": request}).data,
                        status=status.HTTP_200_OK if existing else status.HTTP_201_CREATED)


class _ReceiptDetailApi(WalletApiView):
    @extend_schema(operation_id="wallet_messages_receipt_retrieve",
                   responses={200: io.MessageDetailOutput, **problems(*KEYED, 404)})
    @requires_scope(MESSAGES_READ)
    def get(self, request, message_id):
        """The read receipt of a message, with its verification (404 until it is read)."""
        receipt = messaging.receipt_of(message_of(request.user, message_id))
        if receipt is None:
            raise exceptions.NotFound("The message has no read receipt yet.", code="not_found")
        return Response(io.MessageDetailOutput(receipt, context={"request": request}).data)


class MessageReceiptApi(_ReceiptDetailApi, _ReceiptCreateApi):
    """/messages/<id>/receipt: GET reads, POST makes the read receipt."""


# Invoices -------------------------------------------------------------------------------------

class _InvoiceListApi(WalletApiView):
    @extend_schema(operation_id="wallet_invoices_list", parameters=[io.InvoiceFilterInput],
                   responses={200: INVOICE_PAGE, **problems(*KEYED, 400, 404)})
    @requires_scope(INVOICES_READ)
    def get(self, request):
        """Invoices your organisation issued (drafts too) or was sent, newest first."""
        filters = validated(io.InvoiceFilterInput, request.query_params)
        organisation = request.user.organisation
        queryset = messaging.invoices_of(organisation)
        if filters.get("role") == "seller":
            queryset = queryset.filter(seller=organisation)
        elif filters.get("role") == "buyer":
            queryset = queryset.filter(buyer=organisation)
        pages = Pages()
        page = pages.paginate_queryset(queryset, request, view=self)
        return pages.get_paginated_response(
            io.InvoiceOutput(page, many=True, context={"request": request}).data)


class _InvoiceCreateApi(WalletApiView):
    @extend_schema(operation_id="wallet_invoices_create", request=io.InvoiceCreateInput,
                   responses={201: io.InvoiceOutput, **problems(*KEYED, *WRITE)},
                   description="Create a draft invoice (EN 16931 core) to another "
                               "organisation. Totals that do not add up are refused with the "
                               "field and the rule named (e.g. `tax_total`: BR-CO-14).")
    @requires_scope(INVOICES_SEND)
    def post(self, request):
        data = validated(io.InvoiceCreateInput, request.data)
        buyer = organisation_named(data.pop("buyer"), "buyer")
        invoice = messaging.invoice_create(seller=request.user.organisation, buyer=buyer,
                                           data=data, created_by=request.user.actor)
        return Response(io.InvoiceOutput(invoice, context={"request": request}).data,
                        status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("wallet-api-invoice", args=[invoice.pk])})


class InvoiceCollectionApi(_InvoiceListApi, _InvoiceCreateApi):
    """/invoices/: GET lists, POST creates a draft."""


class InvoiceDetailApi(WalletApiView):
    @extend_schema(operation_id="wallet_invoices_retrieve",
                   responses={200: io.InvoiceOutput, **problems(*KEYED, 404)})
    @requires_scope(INVOICES_READ)
    def get(self, request, invoice_id):
        """An invoice your organisation issued or was sent."""
        invoice = invoice_of(request.user, invoice_id)
        return Response(io.InvoiceOutput(invoice, context={"request": request}).data)


class InvoiceSendApi(WalletApiView):
    @extend_schema(operation_id="wallet_invoices_send", request=None,
                   responses={200: io.InvoiceOutput, **problems(*KEYED, 404, 409)},
                   description="Send a draft invoice to its buyer: a message signed by your "
                               "wallet with the UBL 2.1 XML attached. Sending again changes "
                               "nothing.")
    @requires_scope(INVOICES_SEND)
    def post(self, request, invoice_id):
        client = request.user
        invoice = invoice_of(client, invoice_id)
        if invoice.seller_id != client.organisation.pk:
            raise exceptions.PermissionDenied("Only the seller sends an invoice.",
                                              code="not_seller")
        invoice = messaging.invoice_send(invoice=invoice, actor=client.as_actor())
        return Response(io.InvoiceOutput(invoice, context={"request": request}).data)


class XmlRenderer(BinaryRenderer):
    media_type = "application/xml"
    format = "xml"


class InvoiceXmlApi(DownloadView):
    renderer_classes = [XmlRenderer]

    @extend_schema(operation_id="wallet_invoices_xml",
                   responses={(200, "application/xml"): OpenApiResponse(
                       OpenApiTypes.BINARY, description="UBL 2.1 Invoice (EN 16931)."),
                              **problems(*KEYED, 404, 409)})
    @requires_scope(INVOICES_READ)
    def get(self, request, invoice_id):
        """The invoice as UBL 2.1 XML: once sent, the attachment its buyer received, checked
        against the digest the seller signed."""
        filename, xml = messaging.invoice_xml(invoice=invoice_of(request.user, invoice_id))
        return download(xml, filename, XmlRenderer.media_type)
