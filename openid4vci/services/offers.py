"""Credential offers (OpenID4VCI 1.0 §4): made by staff or an API key for one configuration and
one source, handed to the wallet as `openid-credential-offer://` by value or by reference.

Secrets, and where each lives:
- the offer handle: random, in the by-reference URL's query (never in our request log, which
  records paths only); stored as its SHA-256;
- the pre-authorized code: derived from the handle with the server's secret (HMAC), so that the
  by-reference URL can answer the offer without the code ever being stored; stored as SHA-256;
- the transaction code: 6 random digits, shown once, stored as an HMAC with the server's
  secret and the offer's id (a database copy alone cannot try the million codes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openid4vci.configurations import CONFIGURATIONS, offered_by
from openid4vci.models import CredentialOffer, OfferEvent
from openid4vci.services.metadata import PRE_AUTHORIZED_GRANT, endpoint, issuer_identifier
from passports.models import Entitlement, Passport
from wallet.tenancy.api_tokens import key_hash
from wallet.tenancy.authority import Actor, Authority, authorise
from wallet.tenancy.legal_models import AttestationRequest, Mandate, WalletCredential
from wallet.tenancy.mandates import _person_id
from wallet.tenancy.models import ApiToken, Organisation

OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_LENGTH = 6
SOURCE_FIELDS = ("mandate", "wallet_credential", "attestation", "entitlement", "passport")
# Which source fields each configuration accepts.
SOURCES = {
    CredentialOffer.Configuration.BUSINESS_IDENTITY: ("wallet_credential", "attestation"),
    CredentialOffer.Configuration.MANDATE: ("mandate",),
    CredentialOffer.Configuration.ACCESS_ROLE: ("entitlement",),
    CredentialOffer.Configuration.PRODUCT_PASSPORT: ("passport",),
}
ACCESS_GROUP_ROLES = {
    "legitimate_interest": "Person with a legitimate interest",
    "legitimate_interest_commission": "Person with a legitimate interest (and the Commission)",
    "authorities": "Notified body or market surveillance authority",
}

State = CredentialOffer.State


def _keyed(purpose: str, value: str) -> str:
    key = hashlib.sha256(f"openid4vci:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def pre_authorized_code(handle: str) -> str:
    return _keyed("pre-authorized_code", handle)


def tx_code_hash(offer_id, tx_code: str) -> str:
    return _keyed("tx_code", f"{offer_id}:{tx_code}")


def tx_code_matches(offer: CredentialOffer, tx_code: str) -> bool:
    return hmac.compare_digest(offer.tx_code_hash, tx_code_hash(offer.pk, tx_code))


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on `field` that keeps its stable code (admin forms and the API)."""
    return ValidationError({field: ValidationError(message, code=code)})


def offer_event(offer: CredentialOffer, action: str, *, from_state: str = "",
                detail: str = "") -> None:
    OfferEvent.objects.create(offer=offer, action=action, from_state=from_state,
                              to_state=offer.state, detail=detail[:2000])


# --- making an offer ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CreatedOffer:
    """An offer with its secrets, as handed out once (admin page, API response)."""

    offer: CredentialOffer
    tx_code: str
    pre_authorized_code: str
    offer_url: str  # https URL that answers the Credential Offer JSON

    @property
    def document(self) -> dict:
        return offer_document(self.offer, self.pre_authorized_code)

    @property
    def by_reference(self) -> str:
        return f"{OFFER_SCHEME}?{urlencode({'credential_offer_uri': self.offer_url})}"

    @property
    def by_value(self) -> str:
        text = json.dumps(self.document, separators=(",", ":"), ensure_ascii=False)
        return f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}"


@dataclass(frozen=True)
class CheckedSource:
    field: str  # the offer's source field
    source: object
    subject: str
    role: str


def offer_check(*, issuer: Organisation, configuration: str, role: str = "",
                **sources) -> CheckedSource:
    """Whether `issuer` may offer `configuration` of the one source given (mandate=,
    wallet_credential=, attestation=, entitlement= or passport=); ValidationError naming the
    field otherwise. Nothing is written."""
    unknown = set(sources) - set(SOURCE_FIELDS)
    if unknown:
        raise TypeError(f"unknown source {sorted(unknown)}")
    if configuration not in CONFIGURATIONS:
        raise field_error("configuration", f"Unknown credential configuration "
                                           f"{configuration!r}.", "invalid_choice")
    if CONFIGURATIONS[configuration] not in offered_by(issuer):
        raise field_error("configuration", "Only trust anchors issue business identities.",
                          "anchors_only")
    given = {name: value for name, value in sources.items() if value is not None}
    accepted = SOURCES[configuration]
    if len(given) != 1 or next(iter(given)) not in accepted:
        raise field_error(accepted[0], f"A {configuration} offer needs exactly one source: "
                                       f"{' or '.join(accepted)}.", "source")
    (field, source), = given.items()
    subject, role = _checked_source(issuer, field, source, role)
    return CheckedSource(field, source, subject, role)


def offer_authorise(*, actor: Actor, issuer: Organisation, configuration: str) -> Authority:
    """What lets `actor` offer `configuration` from `issuer`, or NotAuthorised: acting for
    `issuer` (a key with `offers:create`); for a passport, the `passports:issue` mandate too, as
    the wallet gets a newly signed copy of it."""
    authority = authorise(actor, organisation=issuer, scope=ApiToken.Scope.OFFERS_CREATE)
    if configuration == CredentialOffer.Configuration.PRODUCT_PASSPORT:
        authority = authorise(actor, organisation=issuer, scope=Mandate.Scope.PASSPORTS_ISSUE)
    return authority


@transaction.atomic
def offer_create(*, issuer: Organisation, configuration: str, actor: Actor, role: str = "",
                 now: datetime | None = None, **sources) -> CreatedOffer:
    """An offer of `configuration` from `issuer`, with its one source (see offer_check), and
    its secrets, handed out once. `actor` acts for `issuer` (an API key with `offers:create`);
    a passport offer hands out a newly signed copy of the passport, so it also needs the
    `passports:issue` mandate (wallet.tenancy.authority). The `offered` event says who and
    under what."""
    authority = offer_authorise(actor=actor, issuer=issuer, configuration=configuration)
    checked = offer_check(issuer=issuer, configuration=configuration, role=role, **sources)
    now = now or timezone.now()
    handle = secrets.token_urlsafe(32)
    code = pre_authorized_code(handle)
    tx_code = f"{secrets.randbelow(10 ** TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    offer = CredentialOffer(
        issuer=issuer, configuration=configuration, role=checked.role, subject=checked.subject,
        offer_hash=key_hash(handle), code_hash=key_hash(code), created_by=authority.user,
        expires_at=now + timedelta(seconds=settings.OPENID4VCI_PRE_AUTHORIZED_CODE_SECONDS),
        **{checked.field: checked.source})
    offer.tx_code_hash = tx_code_hash(offer.pk, tx_code)
    offer.full_clean()
    offer.save()
    offer_event(offer, "offered", detail=authority.describe())
    url = f"{endpoint(issuer, 'credential_offer')}?{urlencode({'offer': handle})}"
    return CreatedOffer(offer, tx_code, code, url)


def _checked_source(issuer: Organisation, field: str, source, role: str) -> tuple[str, str]:
    """(subject, role) of a source `issuer` may offer; ValidationError on `field` otherwise."""
    def refuse(message: str):
        raise field_error(field, message, "invalid_source")

    if isinstance(source, WalletCredential):
        if source.issuer_id != issuer.pk or source.kind != WalletCredential.Kind.BUSINESS_IDENTITY:
            refuse("Not a business identity credential your organisation issued.")
        if source.state != WalletCredential.State.ACTIVE:
            refuse(f"The credential is {source.state}.")
        return source.holder.did if source.holder else "", ""
    if isinstance(source, AttestationRequest):
        if source.anchor_id != issuer.pk:
            refuse("Not an attestation request your organisation reviews.")
        if source.state == AttestationRequest.State.REJECTED:
            refuse("The attestation request was rejected.")
        return source.organisation.did, ""
    if isinstance(source, Mandate):
        if source.organisation_id != issuer.pk:
            refuse("Not a mandate your organisation gave.")
        if source.state != Mandate.State.ACTIVE or source.credential_id is None:
            refuse(f"The mandate is {source.state}.")
        grantee = source.grantee_organisation
        return (grantee.did if grantee else _person_id(issuer, source.grantee_user)), ""
    if isinstance(source, Entitlement):
        if source.manufacturer_id != issuer.pk:
            refuse("Not an entitlement your organisation gave.")
        role = (role or "").strip() or ACCESS_GROUP_ROLES.get(source.access_group,
                                                               source.access_group)
        return source.partner.did, role
    if isinstance(source, Passport):
        if source.product.organisation_id != issuer.pk:
            refuse("Not a passport of your organisation.")
        if source.state != Passport.State.ISSUED:
            refuse(f"Only an issued passport can be offered; this one is {source.state}.")
        return source.product.digital_link, ""
    raise TypeError(f"unsupported source {type(source).__name__}")


def offer_document(offer: CredentialOffer, code: str) -> dict:
    """The Credential Offer object (§4.1.1) with the pre-authorized code grant and tx_code;
    for an offer a person can take by logging in (a mandate given to a person), also the
    authorization code grant with its `issuer_state` (HAIP 1.0 §4.2)."""
    grants = {PRE_AUTHORIZED_GRANT: {
        "pre-authorized_code": code,
        "tx_code": {"input_mode": "numeric", "length": TX_CODE_LENGTH,
                    "description": f"The {TX_CODE_LENGTH}-digit code "
                                   f"{offer.issuer.legal_name} sent you separately"[:300]},
    }}
    if offer_for_a_person(offer):
        grants = {"authorization_code": {"issuer_state": issuer_state(offer)}, **grants}
    return {
        "credential_issuer": issuer_identifier(offer.issuer),
        "credential_configuration_ids": [offer.configuration],
        "grants": grants,
    }


def offer_for_a_person(offer: CredentialOffer) -> bool:
    """Whether the offer's source names the person who may take it by logging in."""
    return offer.mandate_id is not None and offer.mandate.grantee_user_id is not None


def issuer_state(offer: CredentialOffer) -> str:
    """The `issuer_state` of an offer's authorization code grant: its id and a MAC of it under
    the server's secret (nothing stored; unguessable for another offer)."""
    return f"{offer.pk}.{_keyed('issuer_state', str(offer.pk))[:32]}"


def offer_of_issuer_state(value, *, issuer: Organisation) -> CredentialOffer | None:
    """The offer an `issuer_state` names, if it is genuine and of `issuer`."""
    if not isinstance(value, str) or value.count(".") != 1:
        return None
    offer_id, mac = value.split(".")
    if not hmac.compare_digest(mac, _keyed("issuer_state", offer_id)[:32]):
        return None
    return (CredentialOffer.objects.select_related("issuer", "mandate")
            .filter(pk=offer_id, issuer=issuer).first())


# --- reading an offer --------------------------------------------------------------------------

def offer_by_reference(*, issuer_slug: str, handle: str, now: datetime | None = None
                       ) -> dict | None:
    """The offer JSON behind a by-reference URL, while the offer can still be redeemed."""
    if not isinstance(handle, str) or not handle:
        return None
    offer = (CredentialOffer.objects.select_related("issuer")
             .filter(offer_hash=key_hash(handle), issuer__slug=issuer_slug).first())
    if offer is None or current_state(offer, now) != State.OFFERED:
        return None
    return offer_document(offer, pre_authorized_code(handle))


def current_state(offer: CredentialOffer, now: datetime | None = None) -> str:
    """The state as people see it: an offer that can no longer give a credential is expired,
    even before a wallet tried it (the row says so the moment anything touches it): a code past
    its expiry, or a token that expired (or was revoked) unused."""
    now = now or timezone.now()
    if offer.state == State.OFFERED and offer.expires_at <= now:
        return State.EXPIRED
    if offer.state == State.TOKEN_ISSUED and (offer.token_hash is None
                                              or offer.token_expires_at <= now):
        return State.EXPIRED
    return offer.state


def offer_expire(offer: CredentialOffer) -> None:
    """Record the expiry of an unredeemed offer (the caller holds its row lock)."""
    if offer.state == State.OFFERED:
        offer.state = State.EXPIRED
        offer.save(update_fields=["state"])
        offer_event(offer, "expired", from_state=State.OFFERED,
                    detail="the pre-authorized code expired unredeemed")
