"""The credential endpoint (OpenID4VCI 1.0 §8) and the deferred credential endpoint (§9).

A copy issued to a wallet is an SD-JWT VC signed by the offering organisation's key: every
claim except the registered ones selectively disclosable (top-level claims and the members of
object claims), bound by `cnf.jwk` to the key the wallet proved, with `iat`, `exp` and a Token
Status List entry. A copy shares its source's revocation fate: it carries the source's own
status entry where there is one (mandates, business identities), or an entry of its own that
the source's revoke, suspend and reinstate also change (passports, access roles; see
openid4vci.services.status).

A business identity whose review is still open is deferred: the wallet gets a transaction id,
the proven key is kept, and after the anchor approves, a Celery task signs the copy."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.enqueue import enqueue, enqueue_after_commit
from credentials import jose, sd_jwt
from credentials.keys import PublicKey
from credentials.signing import decode_jwt_parts, es256_signer_for, secure_sd_jwt
from credentials.status_registry import status_list_url, token_entry_allocate
from openid4vci.configurations import CONFIGURATIONS, offered_by
from openid4vci.models import CredentialOffer
from openid4vci.services import errors
from openid4vci.services.metadata import endpoint, issuer_identifier
from openid4vci.services.offers import offer_event
from openid4vci.services.proofs import proof_verify
from openid4vci.services.tokens import bearer_offer
from openid4vci.services.x509_issuer import issuer_certificate
from passports.models import Entitlement, Passport
from wallet.tenancy.api_tokens import key_hash
from wallet.tenancy.authority import NotAuthorised, actor_of, authorise, operator
from wallet.tenancy.credential_status import credential_url
from wallet.tenancy.legal_models import AttestationRequest, Mandate, WalletCredential
from wallet.tenancy.models import Organisation

State = CredentialOffer.State
Configuration = CredentialOffer.Configuration
DEFERRED_INTERVAL = 5  # seconds a wallet waits between deferred credential requests
# A decided review whose copy is still unsigned after this is re-queued by the sweep.
STALE_DECIDED = timedelta(seconds=60)
# Registered JWT / SD-JWT VC claims: always in the clear (SD-JWT VC §3.2.2, HAIP).
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "vct",
                               "vct#integrity", "cnf", "status", "_sd_alg"})


@dataclass(frozen=True)
class Outcome:
    """What the wallet gets: a credential (200) or a transaction id to come back with (202)."""

    credential: str | None = None
    transaction_id: str | None = None

    def response(self) -> tuple[int, dict]:
        if self.credential is not None:
            return 200, {"credentials": [{"credential": self.credential}]}
        return 202, {"transaction_id": self.transaction_id, "interval": DEFERRED_INTERVAL}


@dataclass(frozen=True)
class Source:
    """What a copy is made of."""

    claims: dict  # the non-registered claims and `sub`
    status: tuple | None  # (status list id, index) of the source's own entry, if it has one
    exp: int
    nbf: int | None = None


class Pending(Exception):
    """The source is a review still open: the issuance is deferred."""


class Denied(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- the credential endpoint -------------------------------------------------------------------

def credential_request(*, issuer: Organisation, authorization: str | None, body: bytes,
                       content_type: str, dpop_proof: str | None = None,
                       now: datetime | None = None) -> Outcome:
    """Answer a Credential Request: the access token (and its DPoP proof), the request's
    shape, the key proof, then the source (issue now, defer while a review is open, or
    deny)."""
    now = now or timezone.now()
    offer = bearer_offer(issuer=issuer, authorization=authorization, dpop_proof=dpop_proof,
                         url=endpoint(issuer, "credential"), now=now)
    request = _json_object(body, content_type)
    _check_requested(offer, request)
    proof = _one_jwt_proof(request)
    key = proof_verify(proof, audience=issuer_identifier(issuer), issuer_slug=issuer.slug,
                       now=now.timestamp())
    denial: errors.OAuthError | None = None
    with transaction.atomic():
        offer = _locked(offer.pk)
        if offer.state != State.TOKEN_ISSUED:  # a parallel request with the same token won
            raise errors.invalid_token("access token already used for its credential",
                                       realm=issuer_identifier(issuer))
        offer.holder_jwk = key.jwk()
        try:
            source = _source(offer, now)
        except Pending:
            return _defer(offer, now)
        except Denied as exc:
            _deny(offer, exc.reason)
            denial = errors.credential_request_denied(exc.reason)
        else:
            credential = _sign(offer, source, key, now)
            offer.state, offer.issued_at = State.ISSUED, now
            offer.save()
            offer_event(offer, "issued", from_state=State.TOKEN_ISSUED,
                        detail=f"bound to a {key.key_type} key")
            return Outcome(credential=credential)
    raise denial


def _json_object(body: bytes, content_type: str | None) -> dict:
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise errors.invalid_credential_request(
            f"Content-Type must be application/json (encrypted requests are not supported), "
            f"got {media or 'none'}")
    try:
        request = jose.loads_json(body)  # a member given twice is refused
    except ValueError as exc:
        raise errors.invalid_credential_request(f"the body is not JSON ({exc})") from None
    if not isinstance(request, dict):
        raise errors.invalid_credential_request("the body is not a JSON object")
    if "credential_response_encryption" in request:
        raise errors.OAuthError("invalid_encryption_parameters",
                                "this issuer does not encrypt credential responses")
    return request


def _check_requested(offer: CredentialOffer, request: dict) -> None:
    """credential_identifier when the token response named one, else
    credential_configuration_id; never both (§8.2)."""
    identifier = request.get("credential_identifier")
    configuration_id = request.get("credential_configuration_id")
    if identifier is not None and configuration_id is not None:
        raise errors.invalid_credential_request("give credential_identifier or "
                                                "credential_configuration_id, not both")
    if offer.credential_identifier:
        if identifier is None:
            raise errors.invalid_credential_request(
                "credential_identifier missing: the token response named "
                "credential_identifiers, request one of them")
        if identifier != offer.credential_identifier:
            raise errors.OAuthError("unknown_credential_identifier",
                                    f"credential_identifier {identifier} unknown")
        return
    if identifier is not None:
        raise errors.OAuthError("unknown_credential_identifier",
                                "no credential_identifiers came with this access token; use "
                                "credential_configuration_id")
    if configuration_id is None:
        raise errors.invalid_credential_request("credential_configuration_id missing")
    offered = {configuration.id for configuration in offered_by(offer.issuer)}
    if not isinstance(configuration_id, str) or configuration_id not in offered:
        raise errors.OAuthError("unknown_credential_configuration",
                                f"credential configuration {configuration_id} unknown")
    if configuration_id != offer.configuration:
        raise errors.OAuthError(
            "insufficient_scope", f"the access token was issued for {offer.configuration}, "
            f"not {configuration_id}", status=403, challenge=True,
            realm=issuer_identifier(offer.issuer))


def _one_jwt_proof(request: dict) -> str:
    proofs = request.get("proofs")
    if proofs is None:
        raise errors.invalid_proof("proofs missing: send proofs.jwt with a key proof (the "
                                   "singular proof parameter of earlier drafts is not accepted)")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise errors.invalid_proof("proofs must hold exactly one proof type")
    (proof_type, values), = proofs.items()
    if proof_type != "jwt":
        raise errors.invalid_proof(f"proof type {proof_type} is not supported; only jwt")
    if not isinstance(values, list) or not values:
        raise errors.invalid_proof("proofs.jwt must be a non-empty array of JWTs")
    if len(values) > 1:
        raise errors.invalid_credential_request("one key proof per request: this issuer does "
                                                "not offer batch issuance")
    return values[0]


def _locked(offer_id) -> CredentialOffer:
    return (CredentialOffer.objects.select_for_update().select_related("issuer")
            .get(pk=offer_id))


def _defer(offer: CredentialOffer, now: datetime) -> Outcome:
    transaction_id = secrets.token_urlsafe(32)
    offer.transaction_hash = key_hash(transaction_id)
    offer.transaction_expires_at = now + timedelta(seconds=settings.OPENID4VCI_DEFERRED_SECONDS)
    offer.state = State.DEFERRED
    offer.save()
    offer_event(offer, "deferred", from_state=State.TOKEN_ISSUED,
                detail="the attestation review is still open; the holder key is kept")
    return Outcome(transaction_id=transaction_id)


def _deny(offer: CredentialOffer, reason: str) -> None:
    from_state = offer.state
    offer.state, offer.state_reason, offer.credential = State.DENIED, reason, ""
    offer.save()
    offer_event(offer, "denied", from_state=from_state, detail=reason)


# --- the deferred credential endpoint ----------------------------------------------------------

def deferred_credential_request(*, issuer: Organisation, authorization: str | None,
                                body: bytes, content_type: str, dpop_proof: str | None = None,
                                now: datetime | None = None) -> Outcome:
    """200 with the credential once signed, 202 with the same transaction id while the review
    is open, invalid_transaction_id for one unknown or already used, credential_request_denied
    after a rejection."""
    now = now or timezone.now()
    offer = bearer_offer(issuer=issuer, authorization=authorization, deferred=True,
                         dpop_proof=dpop_proof, url=endpoint(issuer, "deferred_credential"),
                         now=now)
    request = _json_object(body, content_type)
    transaction_id = request.get("transaction_id")
    if not isinstance(transaction_id, str) or not transaction_id:
        raise errors.invalid_credential_request("transaction_id missing")
    if offer.transaction_hash != key_hash(transaction_id):
        raise errors.OAuthError("invalid_transaction_id", "transaction_id unknown")
    denial: errors.OAuthError | None = None
    with transaction.atomic():
        offer = _locked(offer.pk)
        if offer.state == State.ISSUED:
            raise errors.OAuthError("invalid_transaction_id", "transaction_id already used to "
                                                              "obtain its credential")
        if offer.state == State.DENIED:
            raise errors.credential_request_denied(offer.state_reason)
        if offer.credential:
            credential, offer.credential = offer.credential, ""
            offer.state, offer.issued_at = State.ISSUED, now
            offer.save()
            offer_event(offer, "issued", from_state=State.DEFERRED,
                        detail="collected at the deferred credential endpoint")
            return Outcome(credential=credential)
        try:
            _source(offer, now)
            ready = True
        except Pending:
            ready = False
        except Denied as exc:
            _deny(offer, exc.reason)
            denial = errors.credential_request_denied(exc.reason)
    if denial is not None:
        raise denial
    if ready:  # decided, but not signed yet: (re)queue the idempotent signing task
        _enqueue_signing([offer.pk])
    return Outcome(transaction_id=transaction_id)


def _enqueue_signing(offer_ids) -> None:
    """After commit; while the broker is down the wallet's next poll or the sweep
    (deferred_credentials_requeue) enqueues the signing again."""
    from openid4vci.tasks import sign_deferred_credential

    for offer_id in offer_ids:
        enqueue_after_commit(sign_deferred_credential, str(offer_id))


def deferred_credentials_requeue(*, older_than: timedelta = STALE_DECIDED) -> int:
    """The sweep: enqueue again the signing of deferred copies whose review was decided more
    than `older_than` ago and which are still unsigned (the broker was down after the decision,
    or the task was lost). Signing is idempotent, so a copy queued twice is signed once."""
    from openid4vci.tasks import sign_deferred_credential

    now = timezone.now()
    ids = list(CredentialOffer.objects.filter(
        state=State.DEFERRED, credential="", holder_jwk__isnull=False,
        transaction_expires_at__gt=now,
        attestation__reviewed_at__lt=now - older_than).values_list("pk", flat=True)[:10_000])
    for offer_id in ids:
        enqueue(sign_deferred_credential, str(offer_id))
    return len(ids)


def deferred_credential_sign(offer_id, *, now: datetime | None = None) -> bool:
    """Sign a deferred copy once its source is decided (the Celery task's work). Idempotent:
    an offer already signed, collected or denied is left alone. Returns whether it signed."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer_id)
        if offer.state != State.DEFERRED or offer.credential or not offer.holder_jwk:
            return False
        try:
            source = _source(offer, now)
        except Pending:
            return False
        except Denied as exc:
            _deny(offer, exc.reason)
            return False
        offer.credential = _sign(offer, source, PublicKey.from_jwk(offer.holder_jwk), now)
        offer.save()
        offer_event(offer, "signed", detail="the review was approved; waiting for the wallet "
                                            "to collect it")
        return True


def attestation_decided(request: AttestationRequest) -> None:
    """A review was decided (called in its transaction): approved requests get their deferred
    copies signed by a task after commit; rejected ones deny them, with the anchor's reason."""
    deferred = CredentialOffer.objects.filter(attestation=request, state=State.DEFERRED)
    if request.state == AttestationRequest.State.APPROVED:
        _enqueue_signing(list(deferred.values_list("pk", flat=True)))
    elif request.state == AttestationRequest.State.REJECTED:
        for offer in deferred.select_for_update():
            _deny(offer, _rejected(request))


def _rejected(request: AttestationRequest) -> str:
    return "the attestation request was rejected" + (
        f": {request.decision_reason}" if request.decision_reason else "")


# --- sources -----------------------------------------------------------------------------------

def _source(offer: CredentialOffer, now: datetime) -> Source:
    """What the copy is made of, read now: the source may have changed since the offer."""
    if offer.configuration == Configuration.BUSINESS_IDENTITY:
        return _identity_source(offer, now)
    if offer.configuration == Configuration.MANDATE:
        return _mandate_source(offer, now)
    if offer.configuration == Configuration.ACCESS_ROLE:
        return _access_role_source(offer, now)
    return _passport_source(offer, now)


def _identity_source(offer: CredentialOffer, now: datetime) -> Source:
    held = offer.wallet_credential_id and WalletCredential.objects.get(
        pk=offer.wallet_credential_id)
    if not held:
        request = AttestationRequest.objects.get(pk=offer.attestation_id)
        if request.state == AttestationRequest.State.REQUESTED:
            raise Pending
        if request.state == AttestationRequest.State.REJECTED:
            raise Denied(_rejected(request))
        held = (WalletCredential.objects
                .filter(attestation=request, kind=WalletCredential.Kind.BUSINESS_IDENTITY)
                .order_by("-created_at").first())
        if held is None:
            raise Denied("the approved attestation request has no business identity credential")
    return _held_source(held, now, "business identity credential")


def _mandate_source(offer: CredentialOffer, now: datetime) -> Source:
    mandate = Mandate.objects.select_related("credential").get(pk=offer.mandate_id)
    if mandate.state != Mandate.State.ACTIVE:
        raise Denied(f"the mandate is {mandate.state}")
    if mandate.valid_until is not None and mandate.valid_until <= now:
        raise Denied("the mandate has ended")
    if mandate.credential is None:
        raise Denied("the mandate has no credential to copy")
    return _held_source(mandate.credential, now, "mandate")


def _held_source(held: WalletCredential, now: datetime, what: str) -> Source:
    if held.state != WalletCredential.State.ACTIVE:
        raise Denied(f"the {what} is {held.state}")
    if held.valid_until is not None and held.valid_until <= now:
        raise Denied(f"the {what} has expired")
    payload, claims = _revealed(held.credential)
    status = (held.status_list_id, held.status_index) if held.status_list_id else None
    expires = (int(held.valid_until.timestamp()) if held.valid_until
               else _default_expiry(now))
    return Source(claims, status, expires, payload.get("nbf"))


def _revealed(secured: str) -> tuple[dict, dict]:
    """(payload, claims) of one of our own SD-JWT VCs with every Disclosure applied; the
    claims without the registered ones, except `sub`."""
    parsed = sd_jwt.SdJwt.parse(secured)
    payload = jose.decode(parsed.jwt).claims()
    revealed = sd_jwt.reveal(payload, parsed.disclosures,
                             payload.get("_sd_alg", sd_jwt.DEFAULT_SD_ALG)).claims
    claims = {name: value for name, value in revealed.items()
              if name not in REGISTERED_CLAIMS or name == "sub"}
    return payload, claims


def _access_role_source(offer: CredentialOffer, now: datetime) -> Source:
    entitlement = (Entitlement.objects.select_related("partner")
                   .filter(pk=offer.entitlement_id).first() if offer.entitlement_id else None)
    if entitlement is None:
        raise Denied("the entitlement was withdrawn")
    claims = {"sub": entitlement.partner.did, "role": offer.role,
              "access_group": entitlement.access_group}
    return Source(claims, None, _default_expiry(now))


def _passport_source(offer: CredentialOffer, now: datetime) -> Source:
    _maker_still_authorised(offer)
    passport = Passport.objects.select_related("product__organisation").get(pk=offer.passport_id)
    if passport.state != Passport.State.ISSUED:
        hint = "; offer its current version" if passport.state == Passport.State.SUPERSEDED \
            else ""
        raise Denied(f"the passport is {passport.state}{hint}")
    product = passport.product
    _, credential = decode_jwt_parts(passport.jwt)
    subject = credential["credentialSubject"]
    issuer = credential.get("issuer")
    characteristics = {name: value for name, value in subject.get("characteristics", {}).items()
                       if name != "type"}
    claims = {
        "sub": subject["id"],
        "passport_id": str(passport.pk),
        "passport_credential": passport.credential_url,
        "product_name": subject.get("name", product.name),
        "gtin": product.gtin,
        "serial_number": subject.get("itemNumber"),
        "lot_number": subject.get("batchNumber"),
        "manufacturer": {"id": product.organisation.did,
                         "name": issuer.get("name") if isinstance(issuer, dict)
                         else product.organisation.legal_name},
        "category": product.category,
        "characteristics": characteristics,
    }
    claims = {name: value for name, value in claims.items() if value not in (None, "", {})}
    until = credential.get("validUntil")
    expires = (int(datetime.fromisoformat(until.replace("Z", "+00:00")).timestamp())
               if isinstance(until, str) else _default_expiry(now))
    return Source(claims, None, expires)


def _maker_still_authorised(offer: CredentialOffer) -> None:
    """A passport copy is signed under the `passports:issue` mandate of the offer's maker (see
    offers.offer_authorise), read again now: a mandate revoked since the offer stops it. An
    offer nobody made was made by the operator."""
    maker = actor_of(offer.created_by) if offer.created_by_id else operator()
    try:
        authorise(maker, organisation=offer.issuer, scope=Mandate.Scope.PASSPORTS_ISSUE)
    except NotAuthorised:
        raise Denied(f"whoever made the offer no longer holds the passports:issue mandate of "
                     f"{offer.issuer.legal_name}") from None


def _default_expiry(now: datetime) -> int:
    return int((now + timedelta(days=settings.OPENID4VCI_CREDENTIAL_DAYS)).timestamp())


# --- signing -----------------------------------------------------------------------------------

def _sign(offer: CredentialOffer, source: Source, holder_key: PublicKey, now: datetime) -> str:
    """The SD-JWT VC copy, signed by the offering organisation; records its status entry and
    jti on the offer (the caller saves)."""
    issuer = offer.issuer
    if source.status is not None:
        list_id, index = source.status
    else:
        entry = token_entry_allocate(issuer.did)
        list_id, index = entry.list_id, entry.index
    offer.status_list_id, offer.status_index = list_id, index
    offer.credential_jti = credential_url(issuer)
    offer.holder_jwk = holder_key.jwk()
    claims = {"vct": CONFIGURATIONS[offer.configuration].vct, "jti": offer.credential_jti,
              **source.claims}
    # HAIP 1.0 issuer identification (x509 mode, attested organisations): iss the Credential
    # Issuer identifier, the key in x5c. Otherwise iss is the DID, the key its DID URL.
    certified = issuer_certificate(issuer, now=now)
    if certified is not None:
        signer, identification = certified.signer, {"x5c": certified.x5c}
        claims["iss"] = issuer_identifier(issuer)
    else:
        signer, identification = es256_signer_for(issuer.did), {}
    return secure_sd_jwt(
        claims, signer, disclosable=disclosable_paths(claims),
        holder_key=holder_key,
        status={"status_list": {"idx": index, "uri": status_list_url(list_id)}},
        iat=int(now.astimezone(UTC).timestamp()), exp=source.exp, nbf=source.nbf,
        **identification)


def disclosable_paths(claims: dict) -> list[tuple[str, ...]]:
    """Every non-registered claim, and every member of an object claim."""
    paths: list[tuple[str, ...]] = []
    for name, value in claims.items():
        if name in REGISTERED_CLAIMS:
            continue
        paths.append((name,))
        if isinstance(value, dict):
            paths += [(name, member) for member in value]
    return paths
