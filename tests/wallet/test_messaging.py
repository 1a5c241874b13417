"""The message box: signed messages between organisations, verified on receipt (signature,
sender, attachment digests) and shown with the sender's verified legal identity; signed read
receipts."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from credentials import jose
from credentials.signing import signer_for
from tests.support.factories import organisation, staff_member, trust_anchor
from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.business.messaging.demo import ensure_demo_messages
from wallet.business.messaging.models import Invoice, Message, MessageAttachment
from wallet.business.messaging.services import (
    MESSAGE_TYP,
    Attachment,
    MessageRejected,
    attachment_content,
    inbox,
    invoice_xml,
    message_read,
    message_receive,
    message_send,
    message_sign,
    message_verify,
    outbox,
    receipt_of,
)
from wallet.tenancy.authority import actor_of, operator
from wallet.tenancy.demo import ensure_demo_organisations
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import LegalDetails, Mandate
from wallet.tenancy.mandates import mandate_grant, mandate_revoke
from wallet.tenancy.models import Member

SPEC = Attachment("spec.pdf", "application/pdf", b"%PDF-1.7 battery pack specification")
PRICES = Attachment("price-list.csv", "text/csv", b"item,price\npack,4250.00\n")


@pytest.fixture
def register(db):
    anchor = trust_anchor()
    return anchor


@pytest.fixture
def acme(db):
    org = organisation("acme", "Acme Batteries B.V.")
    LegalDetails.objects.create(organisation=org, euid="NLNHR.12345678", registry_id="12345678",
                                vat_id="NL001234567B01", street="Stationsplein 1",
                                postal_code="5611 AB", city="Eindhoven", country="NL")
    return org


@pytest.fixture
def recycle(db):
    return organisation("recycle", "Recycle Partners B.V.")


@pytest.fixture
def other(db):
    return organisation("other", "Other Batteries GmbH")


@pytest.fixture
def alice(acme, django_user_model):
    user = django_user_model.objects.create_user("alice")
    Member.objects.create(user=user, organisation=acme)
    return user


def attest(org, anchor):
    request = attestation_request(organisation=org, anchor=anchor, evidence="register extract")
    return attestation_approve(request=request, reason="extract matches")


def claims_of(jws: str) -> dict:
    return jose.decode(jws).claims()


def forged(claims: dict, *, signed_by, kid: str | None = None) -> str:
    """`claims` signed with `signed_by`'s key, the header naming `kid` (default: that key)."""
    signer = signer_for(signed_by.did)
    return jose.sign(claims, signer, header={"typ": MESSAGE_TYP,
                                             "kid": kid or signer.verification_method})


# A good message ---------------------------------------------------------------------------------

def test_a_good_message_shows_the_senders_verified_legal_identity(acme, recycle, register):
    attest(acme, register)

    sent = message_send(sender=acme, recipient=recycle, subject="End-of-life packs",
                        body="Twelve packs are ready for collection.", attachments=[SPEC],
                        actor=operator())

    [received] = inbox(recycle)
    assert received == sent and list(outbox(acme)) == [sent]
    assert received.sender_identity["name"] == "Acme Batteries B.V."
    assert received.sender_identity["registry_id"] == "12345678"
    assert received.sender_identity["anchor"] == register.did
    verdict = message_verify(message=received)
    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["sender"]["attested"] is True
    assert verdict["sender"]["legal_person"]["name"] == "Acme Batteries B.V."
    [attachment] = received.attachments.all()
    assert bytes(attachment.content) == SPEC.content
    assert attachment.sha256 == hashlib.sha256(SPEC.content).hexdigest()


def test_the_message_is_a_jws_of_the_senders_key_over_everything_it_says(acme, recycle):
    sent = message_send(sender=acme, recipient=recycle, subject="Packs", body="Ready.",
                        attachments=[SPEC, PRICES],
                        actor=operator())

    decoded = jose.decode(sent.jws)
    claims = decoded.claims()
    assert decoded.header["typ"] == "dpp-message+jwt"
    assert decoded.header["kid"] == signer_for(acme.did).verification_method
    assert (claims["iss"], claims["aud"], claims["jti"]) == (acme.did, recycle.did, sent.jti)
    assert (claims["kind"], claims["subject"], claims["body"]) == ("message", "Packs", "Ready.")
    assert isinstance(claims["iat"], int)
    assert claims["attachments"] == [
        {"filename": "spec.pdf", "media_type": "application/pdf", "size": len(SPEC.content),
         "sha256": hashlib.sha256(SPEC.content).hexdigest()},
        {"filename": "price-list.csv", "media_type": "text/csv", "size": len(PRICES.content),
         "sha256": hashlib.sha256(PRICES.content).hexdigest()}]


def test_a_sender_without_an_identity_credential_is_shown_as_not_attested(acme, recycle):
    message = message_send(actor=operator(), sender=recycle, recipient=acme, subject="Collection")

    assert message.sender_identity is None
    assert "no identity credential" in message.sender_identity_reason
    verdict = message_verify(message=message)
    assert verdict["verified"] is True  # the signature holds; who is behind it is not attested
    assert verdict["sender"]["attested"] is False


def test_a_reply_names_the_message_it_answers(acme, recycle):
    question = message_send(sender=acme, recipient=recycle, subject="Collection date?",
                            actor=operator())

    answer = message_send(sender=recycle, recipient=acme, subject="Re: Collection date?",
                          body="Tuesday.", in_reply_to=question,
                          actor=operator())

    assert answer.in_reply_to == question
    assert claims_of(answer.jws)["in_reply_to"] == question.jti


# Forged senders ---------------------------------------------------------------------------------

def genuine_claims(acme, recycle) -> dict:
    return claims_of(message_sign(sender=acme, recipient=recycle, kind="message",
                                  subject="Invoice address changed",
                                  body="Pay to NL00 EVIL 0000 0000 00."))


def test_a_message_signed_with_another_organisations_key_is_rejected(acme, recycle, other):
    claims = genuine_claims(acme, recycle)  # iss: acme

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=acme, jws=forged(claims, signed_by=other), attachments=[])

    assert refused.value.code == "not_senders_key"
    assert not Message.objects.exists()


def test_a_message_naming_the_senders_key_but_signed_by_another_is_rejected(acme, recycle,
                                                                            other):
    claims = genuine_claims(acme, recycle)
    jws = forged(claims, signed_by=other, kid=signer_for(acme.did).verification_method)

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=acme, jws=jws, attachments=[])

    assert refused.value.code == "signature_invalid"
    assert not Message.objects.exists()


def test_a_message_whose_iss_is_not_the_sending_organisation_is_rejected(acme, recycle, other):
    # Properly signed by other, about itself, but handed in as coming from acme.
    jws = message_sign(sender=other, recipient=recycle, kind="message", subject="Hello")

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=acme, jws=jws, attachments=[])

    assert refused.value.code == "sender_mismatch"
    assert other.did in refused.value.detail and acme.did in refused.value.detail
    assert not Message.objects.exists()


def test_a_changed_payload_breaks_the_signature(acme, recycle):
    jws = message_sign(sender=acme, recipient=recycle, kind="message", subject="Pay 100")
    header, _, signature = jws.split(".")
    claims = claims_of(jws) | {"subject": "Pay 100000"}
    tampered = f"{header}.{jose.b64url(jose.encode_json(claims)).decode()}.{signature}"

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=acme, jws=tampered, attachments=[])

    assert refused.value.code == "signature_invalid"


def test_a_message_delivered_twice_is_rejected_the_second_time(acme, recycle):
    jws = message_sign(sender=acme, recipient=recycle, kind="message", subject="Once")
    message_receive(sender=acme, jws=jws, attachments=[])

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=acme, jws=jws, attachments=[])

    assert refused.value.code == "replayed"
    assert Message.objects.count() == 1


# Attachments ------------------------------------------------------------------------------------

def test_a_changed_attachment_is_rejected_naming_it(acme, recycle):
    jws = message_sign(sender=acme, recipient=recycle, kind="message", subject="Prices",
                       attachments=[SPEC, PRICES])
    changed = Attachment(PRICES.filename, PRICES.media_type, b"item,price\npack,1.00\n")

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=acme, jws=jws, attachments=[SPEC, changed])

    assert refused.value.code == "attachment_changed"
    assert "'price-list.csv'" in refused.value.detail
    assert not Message.objects.exists() and not MessageAttachment.objects.exists()


@pytest.mark.parametrize(("attachments", "code", "name"), [
    ([SPEC], "attachment_missing", "price-list.csv"),
    ([SPEC, PRICES, Attachment("extra.txt", "text/plain", b"x")], "attachment_unexpected",
     "extra.txt"),
])
def test_a_missing_or_extra_attachment_is_rejected_naming_it(acme, recycle, attachments, code,
                                                             name):
    jws = message_sign(sender=acme, recipient=recycle, kind="message", subject="Prices",
                       attachments=[SPEC, PRICES])

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=acme, jws=jws, attachments=attachments)

    assert refused.value.code == code and name in refused.value.detail


def test_an_attachment_changed_after_receipt_fails_verification_and_download(acme, recycle):
    message = message_send(actor=operator(), sender=acme, recipient=recycle, subject="Prices",
                           attachments=[SPEC, PRICES])
    MessageAttachment.objects.filter(message=message, filename="price-list.csv").update(
        content=b"item,price\npack,1.00\n")

    verdict = message_verify(message=message)

    assert verdict["verified"] is False
    assert any("'price-list.csv'" in error for error in verdict["errors"])
    with pytest.raises(MessageRejected, match="price-list.csv"):
        attachment_content(message=message, position=1)
    assert bytes(attachment_content(message=message, position=0).content) == SPEC.content


def test_a_stored_message_whose_text_was_changed_fails_verification(acme, recycle):
    message = message_send(actor=operator(), sender=acme, recipient=recycle, subject="Pay 100")
    Message.objects.filter(pk=message.pk).update(subject="Pay 100000")
    message.refresh_from_db()

    verdict = message_verify(message=message)

    assert verdict["verified"] is False
    assert "subject" in verdict["errors"][0]


def test_attachments_are_limited_in_size(acme, recycle, settings):
    settings.MESSAGE_ATTACHMENTS_MAX_BYTES = 1000

    with pytest.raises(ValidationError) as refused:
        message_send(actor=operator(), sender=acme, recipient=recycle, subject="Big",
                     attachments=[Attachment("big.bin", "application/octet-stream",
                                             b"x" * 1001)])

    assert "attachments" in refused.value.message_dict


def test_a_message_needs_a_subject_and_another_organisation(acme):
    with pytest.raises(ValidationError) as refused:
        message_send(actor=operator(), sender=acme, recipient=acme, subject=" ",
                     attachments=[Attachment("../etc/passwd", "Text/Plain", b"")])

    assert {"recipient", "subject", "attachments[0].filename",
            "attachments[0].media_type"} <= set(refused.value.message_dict)


# Read receipts ----------------------------------------------------------------------------------

def test_a_read_receipt_is_signed_by_the_recipient_and_verifies(acme, recycle):
    message = message_send(sender=acme, recipient=recycle, subject="Packs", attachments=[SPEC],
                           actor=operator())

    receipt = message_read(actor=operator(), message=message, organisation=recycle)

    assert (receipt.kind, receipt.sender, receipt.recipient) == ("receipt", recycle, acme)
    claims = claims_of(receipt.jws)
    assert claims["iss"] == recycle.did and claims["in_reply_to"] == message.jti
    assert claims["receipt"] == {"jti": message.jti,
                                 "sha256": hashlib.sha256(message.jws.encode()).hexdigest()}
    verdict = message_verify(message=receipt)
    assert verdict["verified"] is True, verdict["errors"]
    assert {"check": "receipt", "ok": True} in verdict["checks"]
    message.refresh_from_db()
    assert message.read_at == receipt.sent_at
    assert receipt_of(message) == receipt
    assert receipt in inbox(acme)
    assert message_read(message=message, organisation=recycle,
                        actor=operator()) == receipt  # once only


def test_only_the_recipient_acknowledges_a_message(acme, recycle):
    message = message_send(actor=operator(), sender=acme, recipient=recycle, subject="Packs")

    with pytest.raises(WalletError) as refused:
        message_read(actor=operator(), message=message, organisation=acme)

    assert refused.value.code == "not_recipient"


def test_a_receipt_over_another_digest_is_rejected(acme, recycle):
    message = message_send(actor=operator(), sender=acme, recipient=recycle, subject="Packs")
    jws = message_sign(sender=recycle, recipient=acme, kind="receipt", subject="Read: Packs",
                       in_reply_to=message.jti,
                       receipt={"jti": message.jti, "sha256": "0" * 64})

    with pytest.raises(MessageRejected) as refused:
        message_receive(sender=recycle, jws=jws, attachments=[])

    assert refused.value.code == "receipt_mismatch"


def test_a_receipt_whose_message_was_changed_no_longer_verifies(acme, recycle):
    message = message_send(actor=operator(), sender=acme, recipient=recycle, subject="Packs")
    receipt = message_read(actor=operator(), message=message, organisation=recycle)
    Message.objects.filter(pk=message.pk).update(jws=message.jws + "x")
    receipt.refresh_from_db()

    verdict = message_verify(message=receipt)

    assert verdict["verified"] is False
    assert any("digest" in error for error in verdict["errors"])


# Who may send -----------------------------------------------------------------------------------

def test_a_person_needs_an_active_mandate_which_is_recorded(acme, recycle, alice):
    with pytest.raises(WalletError) as refused:
        message_send(sender=acme, recipient=recycle, subject="Hello", actor=actor_of(alice))
    assert refused.value.code == "no_mandate"

    mandate = mandate_grant(organisation=acme, scope=Mandate.Scope.MESSAGES_SEND, user=alice)
    message = message_send(sender=acme, recipient=recycle, subject="Hello", actor=actor_of(alice))

    assert (message.sent_by, message.mandate) == (alice, mandate)
    mandate_revoke(mandate=mandate, reason="left the company")
    with pytest.raises(WalletError):
        message_send(sender=acme, recipient=recycle, subject="Again", actor=actor_of(alice))


def test_an_invoices_mandate_does_not_send_messages(acme, recycle, alice):
    mandate_grant(organisation=acme, scope=Mandate.Scope.INVOICES_SEND, user=alice)

    with pytest.raises(WalletError) as refused:
        message_send(sender=acme, recipient=recycle, subject="Hello", actor=actor_of(alice))

    assert refused.value.code == "no_mandate"


# Admin ------------------------------------------------------------------------------------------

def test_the_admin_inbox_shows_the_verified_sender_and_only_its_own_messages(
        client, acme, recycle, other, register):
    attest(acme, register)
    mine = message_send(sender=acme, recipient=recycle, subject="End-of-life packs",
                        attachments=[SPEC],
                        actor=operator())
    theirs = message_send(actor=operator(), sender=other, recipient=acme, subject="Not for recycle")
    client.force_login(staff_member(recycle, "rita"))

    listing = client.get("/admin/wallet/inboxmessage/").content.decode()
    detail = client.get(f"/admin/wallet/inboxmessage/{mine.pk}/change/").content.decode()
    download = client.get(f"/admin/wallet/inboxmessage/{mine.pk}/attachments/0/")

    assert "End-of-life packs" in listing and "Not for recycle" not in listing
    assert "✓ Acme Batteries B.V. · registry 12345678" in listing
    assert "✓ verified: signature, content, attachments" in detail
    assert f"/admin/wallet/inboxmessage/{mine.pk}/attachments/0/" in detail
    assert download.status_code == 200 and download.content == SPEC.content
    assert download["Content-Disposition"] == 'attachment; filename="spec.pdf"'
    assert client.get(f"/admin/wallet/inboxmessage/{theirs.pk}/change/").status_code == 302
    assert client.get(f"/admin/wallet/inboxmessage/{theirs.pk}/attachments/0/").status_code \
        == 404


def test_the_admin_shows_a_sender_without_identity_as_not_attested(client, acme, recycle):
    message_send(actor=operator(), sender=recycle, recipient=acme, subject="Collection")
    client.force_login(staff_member(acme, "anna"))

    listing = client.get("/admin/wallet/inboxmessage/").content.decode()

    assert "<strong>not attested</strong> (no identity credential" in listing


def test_composing_in_the_admin_needs_a_mandate_which_is_recorded(client, acme, recycle):
    anna = staff_member(acme, "anna")
    client.force_login(anna)

    def compose():
        return client.post("/admin/wallet/outboxmessage/add/", {
            "recipient": recycle.pk, "subject": "Packs", "body": "Ready for collection.",
            "attachments": SimpleUploadedFile("spec.pdf", SPEC.content, "application/pdf")})

    refused = compose()
    assert refused.status_code == 200 and "scope messages:send" in refused.content.decode()
    assert not Message.objects.exists()

    mandate = mandate_grant(organisation=acme, scope=Mandate.Scope.MESSAGES_SEND, user=anna)
    assert compose().status_code == 302
    message = Message.objects.get()
    assert (message.sender, message.recipient, message.sent_by, message.mandate) == (
        acme, recycle, anna, mandate)
    assert bytes(message.attachments.get().content) == SPEC.content
    assert "Packs" in client.get("/admin/wallet/outboxmessage/").content.decode()


def test_marking_as_read_in_the_admin_sends_a_signed_receipt(client, acme, recycle):
    message = message_send(actor=operator(), sender=acme, recipient=recycle, subject="Packs")
    rita = staff_member(recycle, "rita")
    mandate_grant(organisation=recycle, scope=Mandate.Scope.MESSAGES_SEND, user=rita)
    client.force_login(rita)

    client.post("/admin/wallet/inboxmessage/", {"action": "send_read_receipts",
                                                "_selected_action": [message.pk]})

    receipt = receipt_of(message)
    assert receipt is not None and receipt.sent_by == rita
    assert message_verify(message=receipt)["verified"] is True
    client.force_login(staff_member(acme, "anna"))
    outbox_page = client.get(f"/admin/wallet/outboxmessage/{message.pk}/change/").content
    assert "✓ read at" in outbox_page.decode()


# Demo -------------------------------------------------------------------------------------------

def test_the_demo_adds_one_message_and_one_invoice_and_is_idempotent(db):
    from tests.support.einvoice_conformance import fatal

    organisations = ensure_demo_organisations()

    first = ensure_demo_messages(organisations)
    second = ensure_demo_messages(organisations)

    assert first == second
    assert list(inbox(organisations["acme"])) == [first["message"]]
    [invoice] = Invoice.objects.all()
    assert invoice.state == Invoice.State.SENT
    assert list(inbox(organisations["recycle"])) == [invoice.message]
    assert message_verify(message=invoice.message)["verified"] is True
    # what Dutch receivers over Peppol accept: the official Peppol BIS 3.0 rules (NL-R included)
    assert invoice.message.invoice_profile == "nlcius"
    assert fatal(invoice_xml(invoice=invoice)[1]) == []
