"""The message box (docs/architecture.md, Business wallet): validated messages between
organisations on this service, signed read receipts, and e-invoices sent as messages.

A message is a compact JWS signed by the sender's wallet, over everything it says:

    header  {"alg": "EdDSA", "typ": "dpp-message+jwt", "kid": "<sender DID>#key-n"}
    payload {"iss": <sender DID>, "aud": <recipient DID>, "iat": <seconds>, "jti": "urn:uuid:…",
             "kind": "message" | "invoice" | "receipt", "subject": "…", "body": "…",
             "attachments": [{"filename", "media_type", "size", "sha256"}],   # sha256 in hex
             "in_reply_to": <jti>,                                            # optional
             "receipt": {"jti": <jti>, "sha256": <hex SHA-256 of that message's JWS>}}  # receipts

Sending signs and hands the JWS and the attachment bytes to `message_receive`, which checks them
as a recipient checks a message from anywhere: the signature against the key `kid` names in the
sender's DID document, `iss` is the organisation it came from, every attachment's digest
recomputed; an invoice's UBL must keep the EN 16931 rules and name the right parties. Only then
is it stored, with the sender's legal identity from the trust registry; anything else is
refused with MessageRejected (nothing stored). `message_verify` checks a stored message again.

Services take keyword arguments and an `Actor` (wallet.tenancy.authority): a person needs an active
mandate with the scope (`messages:send`, `invoices:send`), an API key the scope and its maker's
mandate; the mandate and key used, or that the operator sent it, are recorded on the message."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from core import events
from credentials import jose
from credentials.did_web import DidResolver
from credentials.errors import CredentialError
from credentials.signing import NoSigningKey, signer_for
from wallet.business.messaging import einvoice_rules as rules
from wallet.business.messaging import invoices
from wallet.business.messaging.models import Invoice, Message, MessageAttachment
from wallet.business.trust import ServiceTrustRegistry, organisation_for_did
from wallet.tenancy.authority import Actor, Authority, authorise
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import LegalDetails, Mandate
from wallet.tenancy.models import Organisation

MESSAGE_TYP = "dpp-message+jwt"
CLOCK_SKEW = timedelta(minutes=5)
SUBJECT_MAX = 200
BODY_MAX = 20_000
MAX_ATTACHMENTS = 10
DEFAULT_ATTACHMENTS_MAX_BYTES = 5 * 1024 * 1024  # all attachments of one message together
FILENAME_MAX = 200
FILENAME = re.compile(r"^[^/\\\x00-\x1f\x7f]+$")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
B64URL_SHA256 = re.compile(r"^[A-Za-z0-9_-]{43}$")

SCOPE_OF_KIND = {Message.Kind.MESSAGE: Mandate.Scope.MESSAGES_SEND,
                 Message.Kind.INVOICE: Mandate.Scope.INVOICES_SEND,
                 Message.Kind.RECEIPT: Mandate.Scope.MESSAGES_SEND}


class MessageRejected(WalletError):
    """A message whose signature, sender, attachments or content do not check; not stored."""

    code = "message_rejected"


@dataclass(frozen=True)
class Attachment:
    """A file to send, or as received, before it is stored."""

    filename: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return sha256_hex(self.content)

    def manifest(self) -> dict:
        """How the signed message lists it."""
        return {"filename": self.filename, "media_type": self.media_type,
                "size": len(self.content), "sha256": self.sha256}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachments_max_bytes() -> int:
    """The size limit of a message's attachments together (MESSAGE_ATTACHMENTS_MAX_BYTES)."""
    return getattr(settings, "MESSAGE_ATTACHMENTS_MAX_BYTES", DEFAULT_ATTACHMENTS_MAX_BYTES)


# --- reads -------------------------------------------------------------------------------------

def _with_parties(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("sender", "recipient", "in_reply_to")


def inbox(organisation: Organisation) -> QuerySet[Message]:
    """Messages `organisation` received, newest first."""
    return _with_parties(Message.objects.filter(recipient=organisation))


def outbox(organisation: Organisation) -> QuerySet[Message]:
    """Messages `organisation` sent, newest first."""
    return _with_parties(Message.objects.filter(sender=organisation))


def messages_of(organisation: Organisation) -> QuerySet[Message]:
    """Messages `organisation` sent or received."""
    return _with_parties(Message.objects.filter(Q(sender=organisation)
                                                | Q(recipient=organisation)))


def receipt_of(message: Message) -> Message | None:
    """The signed read receipt of `message`, once its recipient has read it."""
    return Message.objects.filter(kind=Message.Kind.RECEIPT, in_reply_to=message).first()


def invoices_of(organisation: Organisation) -> QuerySet[Invoice]:
    """Invoices `organisation` issued (drafts too) and those sent to it."""
    return (Invoice.objects.filter(Q(seller=organisation)
                                   | Q(buyer=organisation, state=Invoice.State.SENT))
            .select_related("seller", "buyer", "message"))


def party_of(organisation: Organisation) -> invoices.Party:
    """An organisation as an invoice names it: legal name, VAT id, registry number and address
    from its legal details; its Peppol participant id (electronic address) from them too: a
    Dutch organisation's KVK number (ICD 0106), otherwise its LEI (0199)."""
    legal = LegalDetails.objects.filter(organisation=organisation).first() or LegalDetails()
    registry_scheme = endpoint = ""
    if legal.country == "NL" and legal.registry_id:
        registry_scheme = rules.KVK
        endpoint = f"{rules.KVK}:{legal.registry_id}"
    elif legal.lei:
        endpoint = f"{rules.LEI}:{legal.lei}"
    return invoices.Party(legal_name=organisation.legal_name, vat_id=legal.vat_id,
                          registry_id=legal.registry_id, street=legal.street, city=legal.city,
                          postal_code=legal.postal_code, country=legal.country,
                          registry_scheme=registry_scheme, endpoint=endpoint)


# --- sending -----------------------------------------------------------------------------------

def message_validate(*, sender: Organisation, recipient: Organisation | None, subject: str,
                     body: str, attachments: Sequence[Attachment]) -> None:
    """What a sender may send; raises ValidationError keyed by field. Writes nothing (the admin's
    form calls it before sending)."""
    errors: dict[str, list[str]] = {}

    def error(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if recipient is None:
        error("recipient", "Choose the organisation to send it to.")
    elif recipient.pk == sender.pk:
        error("recipient", "A message goes to another organisation.")
    if not subject.strip():
        error("subject", "A message has a subject.")
    elif len(subject) > SUBJECT_MAX:
        error("subject", f"At most {SUBJECT_MAX} characters.")
    if len(body) > BODY_MAX:
        error("body", f"At most {BODY_MAX} characters.")
    if len(attachments) > MAX_ATTACHMENTS:
        error("attachments", f"At most {MAX_ATTACHMENTS} attachments.")
    total, names = 0, set()
    for index, attachment in enumerate(attachments):
        name = f"attachments[{index}]"
        if not (0 < len(attachment.filename) <= FILENAME_MAX
                and FILENAME.match(attachment.filename)
                and attachment.filename not in (".", "..")):
            error(f"{name}.filename", f"A file name of at most {FILENAME_MAX} characters, "
                                      f"without a path or control characters.")
        elif attachment.filename in names:
            error(f"{name}.filename", f"Two attachments are called {attachment.filename!r}.")
        names.add(attachment.filename)
        if not MEDIA_TYPE.match(attachment.media_type):
            error(f"{name}.media_type", "A media type as type/subtype in lower case, without "
                                        "parameters, e.g. application/pdf.")
        total += len(attachment.content)
    if total > attachments_max_bytes():
        error("attachments", f"The attachments together are {total} bytes; the limit is "
                             f"{attachments_max_bytes()} bytes.")
    if errors:
        raise ValidationError(errors)


def message_sign(*, sender: Organisation, recipient: Organisation, kind: str, subject: str,
                 body: str = "", attachments: Sequence[Attachment] = (),
                 in_reply_to: str | None = None, receipt: Mapping | None = None,
                 now: datetime | None = None) -> str:
    """The message as a compact JWS signed by the sender's current key."""
    now = now or timezone.now()
    try:
        signer = signer_for(sender.did)
    except NoSigningKey:
        raise WalletError(f"{sender.legal_name} has no signing key.",
                          code="no_signing_key") from None
    claims = {"iss": sender.did, "aud": recipient.did, "iat": int(now.timestamp()),
              "jti": f"urn:uuid:{uuid.uuid4()}", "kind": kind, "subject": subject, "body": body,
              "attachments": [attachment.manifest() for attachment in attachments]}
    if in_reply_to:
        claims["in_reply_to"] = in_reply_to
    if receipt:
        claims["receipt"] = dict(receipt)
    return jose.sign(claims, signer, header={"typ": MESSAGE_TYP,
                                             "kid": signer.verification_method})


@transaction.atomic
def message_send(*, sender: Organisation, recipient: Organisation, subject: str, body: str = "",
                 attachments: Sequence[Attachment] = (), in_reply_to: Message | None = None,
                 kind: str = Message.Kind.MESSAGE, actor: Actor,
                 now: datetime | None = None) -> Message:
    """Sign a message in `sender`'s name and deliver it to `recipient`'s inbox. `actor` needs an
    active mandate of `sender` (`messages:send`; `invoices:send` for an invoice), or is the
    operator (wallet.tenancy.authority.authorise); the message records which."""
    if kind not in (Message.Kind.MESSAGE, Message.Kind.INVOICE):
        raise ValidationError({"kind": "Send a message or an invoice (receipts: message_read)."})
    message_validate(sender=sender, recipient=recipient, subject=subject, body=body,
                     attachments=attachments)
    authority = authorise(actor, organisation=sender, scope=SCOPE_OF_KIND[kind])
    if in_reply_to is not None and {in_reply_to.sender_id, in_reply_to.recipient_id} != {
            sender.pk, recipient.pk}:
        raise ValidationError({"in_reply_to": "A reply answers a message between the same "
                                              "two organisations."})
    jws = message_sign(sender=sender, recipient=recipient, kind=kind, subject=subject,
                       body=body, attachments=attachments,
                       in_reply_to=in_reply_to.jti if in_reply_to else None, now=now)
    return message_receive(sender=sender, jws=jws, attachments=attachments, now=now,
                           authority=authority)


@transaction.atomic
def message_read(*, message: Message, organisation: Organisation, actor: Actor,
                 now: datetime | None = None) -> Message:
    """The recipient has read `message`: sign a read receipt over its jti and digest and deliver
    it to the sender. Idempotent: a message has one receipt, returned again."""
    message = (Message.objects.select_for_update().select_related("sender", "recipient")
               .get(pk=message.pk))
    if message.recipient_id != organisation.pk:
        raise WalletError("Only the recipient of a message acknowledges it.",
                          code="not_recipient")
    if message.kind == Message.Kind.RECEIPT:
        raise WalletError("A read receipt is not acknowledged in turn.", code="receipt_of_receipt")
    existing = receipt_of(message)
    if existing is not None:
        return existing
    authority = authorise(actor, organisation=organisation, scope=Mandate.Scope.MESSAGES_SEND)
    # An invoice's receipt says which profile's rules the invoice met on arrival.
    met = (f"The invoice met the rules of {rules.PROFILES[message.invoice_profile].label}."
           if message.invoice_profile in rules.PROFILES else "")
    jws = message_sign(sender=organisation, recipient=message.sender,
                       kind=Message.Kind.RECEIPT, subject=f"Read: {message.subject}"[:SUBJECT_MAX],
                       body=met,
                       in_reply_to=message.jti,
                       receipt={"jti": message.jti, "sha256": message.digest}, now=now)
    return message_receive(sender=organisation, jws=jws, attachments=(), now=now,
                           authority=authority)


# --- receiving ---------------------------------------------------------------------------------

@transaction.atomic
def message_receive(*, sender: Organisation, jws: str, attachments: Sequence[Attachment],
                    now: datetime | None = None,
                    authority: Authority | None = None) -> Message:
    """Check a signed message that `sender` sent, with its attachments, and put it in the
    recipient's inbox. Raises MessageRejected (code names the failed check) and stores nothing
    unless every check passes. `authority`: who sent it here (recorded: the person, the mandate,
    the API key, or that the operator did)."""
    now = now or timezone.now()
    claims = verified_claims(jws, sender_did=sender.did)
    recipient = _recipient(claims.get("aud"), sender)
    message_id = _message_id(claims.get("jti"), "jti")
    if Message.objects.filter(pk=message_id).exists():
        raise MessageRejected(f"Message {claims['jti']} was received already.", code="replayed")
    sent_at = _issued_at(claims.get("iat"), now)
    kind, subject, body = _content(claims)
    received = _signed_attachments(claims, attachments)
    in_reply_to = _replied_message(claims, sender, recipient)
    if kind == Message.Kind.RECEIPT:
        _check_receipt(claims, in_reply_to)
    invoice_profile = ""
    if kind == Message.Kind.INVOICE:
        invoice_profile = _check_invoice(received, sender, recipient).profile
    identity, reason = ServiceTrustRegistry().legal_person(sender.did, now=now)

    message = Message(id=message_id, kind=kind, sender=sender, recipient=recipient,
                      subject=subject, body=body, in_reply_to=in_reply_to, jws=jws,
                      digest=sha256_hex(jws.encode("ascii")), sender_identity=identity,
                      sender_identity_reason=reason[:500], sent_at=sent_at,
                      sent_by=authority.user if authority else None,
                      mandate=authority.mandate if authority else None,
                      api_token=authority.actor.api_token if authority else None,
                      by_operator=bool(authority and authority.actor.operator),
                      invoice_profile=invoice_profile)
    message.full_clean(exclude=["id"])  # the id (jti) was checked above, with its own code
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:  # the same jti, or a second receipt, in a concurrent request
        raise MessageRejected(f"Message {claims['jti']} was received already.",
                              code="replayed") from None
    MessageAttachment.objects.bulk_create([
        MessageAttachment(message=message, position=position, filename=item.filename,
                          media_type=item.media_type, size=len(item.content),
                          sha256=item.sha256, content=item.content)
        for position, item in enumerate(received)])
    if kind == Message.Kind.RECEIPT:
        Message.objects.filter(pk=in_reply_to.pk, read_at__isnull=True).update(read_at=sent_at)
    events.publish(events.EINVOICE_RECEIVED if kind == Message.Kind.INVOICE  # webhooks
                   else events.MESSAGE_RECEIVED, organisations=[recipient.pk],
                   payload={"message": str(message.pk), "kind": kind, "sender": sender.did})
    return message


def verified_claims(jws: str, *, sender_did: str) -> dict:
    """The claims of a message JWS whose `iss` is `sender_did` and whose signature verifies with
    the sender's key named by `kid` (an old, rotated key still counts). MessageRejected
    otherwise."""
    try:
        decoded = jose.decode(jws)
        claims = decoded.claims()
    except CredentialError as exc:
        raise MessageRejected(f"Not a signed message: {exc.detail}", code="malformed") from None
    if jose.media_type(decoded.header.get("typ")) != MESSAGE_TYP:
        raise MessageRejected(f"typ is {decoded.header.get('typ')!r}, not {MESSAGE_TYP}.",
                              code="malformed")
    if claims.get("iss") != sender_did:
        raise MessageRejected(f"iss is {claims.get('iss')!r}, but the message came from "
                              f"{sender_did}.", code="sender_mismatch")
    kid = decoded.header.get("kid")
    if not isinstance(kid, str) or kid.split("#", 1)[0] != sender_did:
        raise MessageRejected(f"It is signed with {kid!r}, not with a key of the sender "
                              f"{sender_did}.", code="not_senders_key")
    try:
        key = DidResolver(allow_remote=False).public_key(kid)
        jose.verify_signature(decoded, key)
    except CredentialError as exc:
        raise MessageRejected(f"The signature does not verify with the sender's key {kid}: "
                              f"{exc.detail}", code="signature_invalid") from None
    return claims


def _recipient(aud, sender: Organisation) -> Organisation:
    recipient = organisation_for_did(aud) if isinstance(aud, str) else None
    if recipient is None:
        raise MessageRejected(f"aud {aud!r} is not an organisation on this service.",
                              code="unknown_recipient")
    if recipient.pk == sender.pk:
        raise MessageRejected("A message goes to another organisation.", code="to_self")
    return recipient


def _message_id(value, claim: str) -> uuid.UUID:
    if isinstance(value, str) and value.startswith("urn:uuid:"):
        try:
            return uuid.UUID(value.removeprefix("urn:uuid:"))
        except ValueError:
            pass
    raise MessageRejected(f"{claim} {value!r} is not a urn:uuid.", code="malformed")


def _issued_at(value, now: datetime) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageRejected("iat is not a NumericDate.", code="malformed")
    try:
        sent_at = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise MessageRejected("iat is out of range.", code="malformed") from None
    if sent_at > now + CLOCK_SKEW:
        raise MessageRejected("iat is in the future.", code="issued_in_future")
    return sent_at


def _content(claims: dict) -> tuple[str, str, str]:
    kind, subject, body = claims.get("kind"), claims.get("subject"), claims.get("body", "")
    if kind not in Message.Kind.values:
        raise MessageRejected(f"kind {kind!r} is not one of {', '.join(Message.Kind.values)}.",
                              code="malformed")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > SUBJECT_MAX:
        raise MessageRejected(f"subject is not a text of 1 to {SUBJECT_MAX} characters.",
                              code="malformed")
    if not isinstance(body, str) or len(body) > BODY_MAX:
        raise MessageRejected(f"body is not a text of at most {BODY_MAX} characters.",
                              code="malformed")
    return kind, subject, body


def _digest_matches(signed: str, content: bytes) -> bool:
    """A signed SHA-256, hex or base64url (both are accepted from senders)."""
    digest = hashlib.sha256(content).digest()
    if HEX_SHA256.match(signed):
        return signed == digest.hex()
    return B64URL_SHA256.match(signed) is not None and signed == jose.b64url(digest).decode()


def _manifest(claims: dict) -> list[dict]:
    listed = claims.get("attachments", [])
    if not isinstance(listed, list) or len(listed) > MAX_ATTACHMENTS:
        raise MessageRejected(f"attachments is not a list of at most {MAX_ATTACHMENTS}.",
                              code="malformed")
    for entry in listed:
        if not (isinstance(entry, dict) and isinstance(entry.get("filename"), str)
                and isinstance(entry.get("media_type"), str)
                and isinstance(entry.get("size"), int) and not isinstance(entry["size"], bool)
                and isinstance(entry.get("sha256"), str)):
            raise MessageRejected("Each listed attachment has a filename, media_type, size and "
                                  "sha256.", code="malformed")
    names = [entry["filename"] for entry in listed]
    if len(set(names)) != len(names):
        raise MessageRejected("Two listed attachments have the same filename.",
                              code="malformed")
    return listed


def _signed_attachments(claims: dict, attachments: Sequence[Attachment]) -> list[Attachment]:
    """The attachments in their signed order, each the size and digest the sender signed.
    A changed, missing or extra attachment is refused by name."""
    listed = _manifest(claims)
    given: dict[str, Attachment] = {}
    for attachment in attachments:
        if attachment.filename in given:
            raise MessageRejected(f"Attachment {attachment.filename!r} came twice.",
                                  code="attachment_unexpected")
        given[attachment.filename] = attachment
    unexpected = sorted(given.keys() - {entry["filename"] for entry in listed})
    if unexpected:
        raise MessageRejected(f"Attachment {unexpected[0]!r} is not in the signed message.",
                              code="attachment_unexpected")
    if sum(len(a.content) for a in attachments) > attachments_max_bytes():
        raise MessageRejected(f"The attachments are larger than {attachments_max_bytes()} "
                              f"bytes.", code="attachments_too_large")
    received = []
    for entry in listed:
        name = entry["filename"]
        attachment = given.get(name)
        if attachment is None:
            raise MessageRejected(f"Attachment {name!r} is signed in the message but missing.",
                                  code="attachment_missing")
        if len(attachment.content) != entry["size"] or not _digest_matches(entry["sha256"],
                                                                           attachment.content):
            raise MessageRejected(f"Attachment {name!r} does not match the SHA-256 digest the "
                                  f"sender signed: it was changed.", code="attachment_changed")
        if attachment.media_type != entry["media_type"]:
            raise MessageRejected(f"Attachment {name!r} is {attachment.media_type}, signed as "
                                  f"{entry['media_type']}.", code="attachment_changed")
        received.append(attachment)
    return received


def _replied_message(claims: dict, sender: Organisation,
                     recipient: Organisation) -> Message | None:
    if "in_reply_to" not in claims:
        return None
    original = Message.objects.filter(pk=_message_id(claims["in_reply_to"], "in_reply_to"),
                                      sender__in=[sender, recipient],
                                      recipient__in=[sender, recipient]).first()
    if original is None:
        raise MessageRejected(f"in_reply_to {claims['in_reply_to']} is no message between "
                              f"these organisations.", code="unknown_reply_to")
    return original


def _check_receipt(claims: dict, original: Message | None) -> None:
    """A receipt is signed by the recipient of the message it names, over that message's jti
    and the digest of its JWS."""
    receipt = claims.get("receipt")
    if original is None or not isinstance(receipt, dict):
        raise MessageRejected("A read receipt names the message it acknowledges (in_reply_to "
                              "and receipt).", code="malformed")
    if receipt.get("jti") != original.jti or original.sender.did != claims["aud"]:
        raise MessageRejected("The receipt is not about a message sent to its signer.",
                              code="receipt_mismatch")
    if receipt.get("sha256") != original.digest:
        raise MessageRejected(f"The receipt's digest does not match message {original.jti}.",
                              code="receipt_mismatch")
    if receipt_of(original) is not None:
        raise MessageRejected(f"Message {original.jti} is acknowledged already.",
                              code="replayed")


def _check_invoice(attachments: list[Attachment], sender: Organisation,
                   recipient: Organisation) -> invoices.Invoice:
    """An invoice message carries one UBL invoice or credit note that keeps the rules of the
    profile it claims (EN 16931, Peppol BIS 3.0, NLCIUS: its `profile` is the one it met),
    from the sender (seller) to the recipient (buyer) as their legal details name them."""
    xml = [a for a in attachments if a.media_type == invoices.UBL_MEDIA_TYPE]
    if len(xml) != 1:
        raise MessageRejected("An invoice message carries exactly one application/xml "
                              "attachment.", code="invoice_invalid")
    try:
        document = invoices.from_ubl(xml[0].content)
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(messages)}"
                             for field, messages in exc.message_dict.items())
        raise MessageRejected(f"Invoice {xml[0].filename!r} is not valid: {problems}",
                              code="invoice_invalid") from None
    for role, party, organisation in (("seller", document.seller, sender),
                                      ("buyer", document.buyer, recipient)):
        known = party_of(organisation)
        if party.legal_name != known.legal_name or (known.vat_id
                                                    and party.vat_id != known.vat_id):
            raise MessageRejected(f"The invoice's {role} ({party.legal_name}, "
                                  f"{party.vat_id or 'no VAT id'}) is not "
                                  f"{organisation.legal_name}.", code="invoice_party_mismatch")
    return document


# --- checking again ----------------------------------------------------------------------------

def message_verify(*, message: Message, now: datetime | None = None) -> dict:
    """Check a stored message again, as its recipient would: the signature, that the stored
    message and attachments are what was signed, a receipt's link to its message; and the
    sender's legal identity now. Never raises for a bad message: the verdict says why."""
    now = now or timezone.now()
    checks, errors = [], []

    def outcome(check: str, error: str | None) -> None:
        checks.append({"check": check, "ok": error is None}
                      | ({"detail": error} if error else {}))
        if error:
            errors.append(error)

    try:
        claims = verified_claims(message.jws, sender_did=message.sender.did)
    except MessageRejected as exc:
        claims = None
        outcome("signature", exc.detail)
    else:
        outcome("signature", None)
        outcome("content", _stored_content_error(message, claims))
        outcome("attachments", _stored_attachments_error(message, claims))
        if message.kind == Message.Kind.RECEIPT:
            outcome("receipt", _stored_receipt_error(message, claims))
    identity, reason = ServiceTrustRegistry().legal_person(message.sender.did, now=now)
    return {"verified": not errors, "checks": checks, "errors": errors,
            "sender": {"id": message.sender.did, "name": message.sender.legal_name,
                       "attested": identity is not None, "legal_person": identity,
                       "reason": reason}}


def _stored_content_error(message: Message, claims: dict) -> str | None:
    signed = {"aud": message.recipient.did, "jti": message.jti, "kind": message.kind,
              "subject": message.subject, "body": message.body}
    changed = [name for name, value in signed.items() if claims.get(name, "") != value]
    if claims.get("in_reply_to") != (message.in_reply_to.jti if message.in_reply_to else None):
        changed.append("in_reply_to")
    return f"The stored {', '.join(changed)} differ from what was signed." if changed else None


def _stored_attachments_error(message: Message, claims: dict) -> str | None:
    stored = [Attachment(a.filename, a.media_type, bytes(a.content))
              for a in message.attachments.all()]
    try:
        _signed_attachments(claims, stored)
    except MessageRejected as exc:
        return exc.detail
    return None


def _stored_receipt_error(receipt: Message, claims: dict) -> str | None:
    original = receipt.in_reply_to
    signed = claims.get("receipt") or {}
    if original is None or signed.get("jti") != original.jti:
        return "The receipt does not name the message it is stored with."
    if signed.get("sha256") != sha256_hex(original.jws.encode("ascii")):
        return f"The receipt's digest does not match message {original.jti}."
    if original.recipient_id != receipt.sender_id:
        return "The receipt is not signed by the recipient of the message."
    return None


def attachment_content(*, message: Message, position: int) -> MessageAttachment:
    """An attachment to hand out, after checking its bytes against the signed digest (a
    changed attachment is refused by name, MessageRejected)."""
    attachment = message.attachments.filter(position=position).first()
    if attachment is None:
        raise MessageAttachment.DoesNotExist(f"no attachment {position}")
    listed = _manifest(verified_claims(message.jws, sender_did=message.sender.did))
    entry = listed[position] if position < len(listed) else None
    content = bytes(attachment.content)
    if (entry is None or entry["filename"] != attachment.filename
            or not _digest_matches(entry["sha256"], content)):
        raise MessageRejected(f"Attachment {attachment.filename!r} does not match the SHA-256 "
                              f"digest the sender signed: it was changed.",
                              code="attachment_changed")
    return attachment


# --- invoices ----------------------------------------------------------------------------------

@transaction.atomic
def invoice_create(*, seller: Organisation, buyer: Organisation, data: Mapping,
                   created_by=None) -> Invoice:
    """A draft invoice of `seller` to `buyer` from `data` (invoices.invoice_from_data:
    omitted line amounts, VAT breakdown and totals computed, given ones checked; the parties
    from the organisations' legal details). Raises ValidationError keyed by field, e.g.
    `tax_total` or `lines[2].net_amount`, citing the EN 16931 rule."""
    if buyer.pk == seller.pk:
        raise ValidationError({"buyer": "An invoice goes to another organisation."})
    document = invoices.invoice_from_data(data, seller=party_of(seller), buyer=party_of(buyer))
    if Invoice.objects.filter(seller=seller, number=document.number).exists():
        raise ValidationError({"number": f"BT-1: {seller.legal_name} has used invoice number "
                                         f"{document.number} already."}, code="duplicate")
    invoice = Invoice(seller=seller, buyer=buyer, number=document.number,
                      issue_date=document.issue_date, due_date=document.due_date,
                      currency=document.currency, payable_amount=document.payable_amount,
                      document=invoices.to_data(document), created_by=created_by)
    invoice.full_clean()
    invoice.save()
    return invoice


def invoice_document(invoice: Invoice) -> invoices.Invoice:
    """The EN 16931 invoice stored with `invoice` (checked again)."""
    return invoices.from_data(invoice.document)


def ubl_filename(number: str) -> str:
    return f"invoice-{slugify(number) or 'document'}.xml"


@transaction.atomic
def invoice_send(*, invoice: Invoice, actor: Actor, now: datetime | None = None) -> Invoice:
    """Send a draft invoice to its buyer as a signed message with its UBL XML attached. `actor`
    needs an active `invoices:send` mandate of the seller (or is the operator). Idempotent: a
    sent invoice is returned."""
    invoice = (Invoice.objects.select_for_update().select_related("seller", "buyer")
               .get(pk=invoice.pk))
    if invoice.state == Invoice.State.SENT:
        return invoice
    document = invoice_document(invoice)
    amount = f"{document.currency} {invoices.text(document.payable_amount)}"
    due = f", due {document.due_date.isoformat()}" if document.due_date else ""
    kind = "Credit note" if document.is_credit_note else "Invoice"
    message = message_send(
        sender=invoice.seller, recipient=invoice.buyer, kind=Message.Kind.INVOICE,
        subject=f"{kind} {document.number}",
        body=f"{kind} {document.number} of {document.issue_date.isoformat()}: {amount}{due}.",
        attachments=[Attachment(ubl_filename(document.number), invoices.UBL_MEDIA_TYPE,
                                invoices.to_ubl(document))],
        actor=actor, now=now)
    invoice.message, invoice.state, invoice.sent_at = message, Invoice.State.SENT, message.sent_at
    invoice.full_clean()
    invoice.save(update_fields=["message", "state", "sent_at"])
    return invoice


def invoice_xml(*, invoice: Invoice) -> tuple[str, bytes]:
    """(file name, UBL XML) of an invoice: once sent, the attachment the buyer received
    (checked against its signed digest); a draft's is generated."""
    if invoice.message_id is None:
        return ubl_filename(invoice.number), invoices.to_ubl(invoice_document(invoice))
    attachment = invoice.message.attachments.filter(
        media_type=invoices.UBL_MEDIA_TYPE).order_by("position").first()
    if attachment is None:
        raise MessageRejected("The invoice message has no UBL attachment.",
                              code="attachment_missing")
    attachment = attachment_content(message=invoice.message, position=attachment.position)
    return attachment.filename, bytes(attachment.content)


def received_invoice(*, message: Message) -> invoices.Invoice:
    """The EN 16931 invoice an invoice message carries, read from its verified UBL."""
    attachment = message.attachments.filter(media_type=invoices.UBL_MEDIA_TYPE).first()
    if message.kind != Message.Kind.INVOICE or attachment is None:
        raise WalletError("This message carries no invoice.", code="not_an_invoice")
    return invoices.from_ubl(bytes(attachment_content(message=message,
                                                      position=attachment.position).content))
