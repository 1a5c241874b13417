"""Evidence credentials (UNTP Digital Conformity Credentials, Traceability Events, Facility
Records) and the links passports make to them (docs/evidence.md).

Issued like passports: a request makes a `pending` row and enqueues `evidence.sign` after
commit; the task allocates a revocation entry in the issuer's Bitstring status list, builds the
credential (passports.evidence_credential), refuses one whose terms JSON-LD would drop, signs it
as `vc+jwt` and marks the previous version of the same credential `superseded`. Revoking flips
the entry (credentials.status_registry), as for passports.

Links: a manufacturer links a credential (here or at another service) to its product; the link
holds the hash of the credential's bytes, and the next passport version carries it (a conformity
credential as the evidence of a `performanceClaim`, an input's passport or a traceability event
as a `relatedDocument`). A credential is linked only once it verifies."""

from __future__ import annotations

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.enqueue import enqueue_after_commit
from core.errors import DomainError
from credentials import guarded_http, jsonld, signing
from credentials.did_web import own_url_path
from credentials.evidence import digest_multibase, kind_of
from credentials.status_registry import allocate, status_changes, status_list_url
from passports import gs1
from passports.credential import issuer_of
from passports.evidence_credential import LINK_TYPE, claim_from_conformity, evidence_credential
from passports.models import (
    EVIDENCE_PATH,
    PUBLIC_PATH,
    EvidenceCredential,
    EvidenceEvent,
    EvidenceLink,
    Passport,
    Product,
)
from wallet.tenancy.authority import Actor, authorise
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Organisation

log = logging.getLogger(__name__)
State = Passport.State
Kind = EvidenceCredential.Kind
MAX_INPUTS = 1000
ACCEPT = "application/vc+jwt"
ROLE_OF_KIND = {"conformity": EvidenceLink.Role.CLAIM, "traceability": EvidenceLink.Role.EVENT,
                "facility": EvidenceLink.Role.FACILITY, "passport": EvidenceLink.Role.INPUT}


class EvidenceError(DomainError):
    code = "evidence_error"
    statuses = {"not_an_assessment_body": 403, "other_organisation": 403,
                "link_not_verified": 422, "link_unreachable": 422, "not_linkable": 422,
                "not_a_passport": 422}


# --- what each kind's subject must hold --------------------------------------------------------

def _text(subject: dict, key: str, errors: dict, *, required: bool = True) -> None:
    value = subject.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        errors[key] = "a text of 1 to 500 characters"


def _url(value) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://", "did:")) \
        and len(value) <= 2000


def _named(subject: dict, key: str, errors: dict, *, required: bool = True) -> None:
    value = subject.get(key)
    if value is None and not required:
        return
    if not (isinstance(value, dict) and _url(value.get("id"))
            and isinstance(value.get("name"), str) and value["name"].strip()):
        errors[key] = "an object with an `id` (a URL) and a `name`"


def _date(subject: dict, key: str, errors: dict) -> None:
    try:
        date.fromisoformat(subject.get(key) or "")
    except (TypeError, ValueError):
        errors[key] = "a date (YYYY-MM-DD)"


def _conformity_errors(subject: dict, organisation: Organisation) -> dict:
    errors: dict = {}
    _text(subject, "name", errors)
    for key in ("scheme", "criterion", "topic", "issued_to"):
        _named(subject, key, errors)
    for key in ("profile", "metric", "product", "facility"):
        _named(subject, key, errors, required=False)
    _date(subject, "assessment_date", errors)
    if not subject.get("product") and not subject.get("facility"):
        errors["product"] = "the product (or `facility`) assessed"
    if subject.get("metric") is not None:
        if not isinstance(subject.get("value"), int | float) or isinstance(subject.get("value"),
                                                                          bool):
            errors["value"] = "a number"
        if not isinstance(subject.get("unit"), str) or not subject["unit"].isalnum():
            errors["unit"] = "a UNECE Recommendation 20 unit code (e.g. KGM)"
    issued_to = subject.get("issued_to")
    if isinstance(issued_to, dict) and issued_to.get("id") == organisation.did:
        errors["issued_to"] = ("an assessment body attests other organisations' products, "
                               "not its own")
    return errors


def _traceability_errors(subject: dict, organisation: Organisation) -> dict:
    errors: dict = {}
    _text(subject, "name", errors)
    _named(subject, "facility", errors)
    try:
        timezone.datetime.fromisoformat(subject.get("event_date") or "")
    except (TypeError, ValueError):
        errors["event_date"] = "a date-time"
    for key in ("inputs", "outputs"):
        items = subject.get(key)
        if not isinstance(items, list) or not items or len(items) > MAX_INPUTS:
            errors[key] = f"a list of 1 to {MAX_INPUTS} products"
        elif not all(isinstance(item, dict) and _url(item.get("id"))
                     and isinstance(item.get("name"), str) for item in items):
            errors[key] = "products, each with an `id` (its GS1 Digital Link URL) and a `name`"
    return errors


def _facility_errors(subject: dict, organisation: Organisation) -> dict:
    errors: dict = {}
    _text(subject, "name", errors)
    if not _url(subject.get("id")):
        errors["id"] = "the facility's URI"
    if not (isinstance(subject.get("country"), str) and len(subject["country"]) == 2
            and subject["country"].isalpha() and subject["country"].isupper()):
        errors["country"] = "an ISO 3166-1 alpha-2 code"
    return errors


SUBJECT_ERRORS = {Kind.CONFORMITY: _conformity_errors, Kind.TRACEABILITY: _traceability_errors,
                  Kind.FACILITY: _facility_errors}


# --- issuing -----------------------------------------------------------------------------------

@transaction.atomic
def evidence_request(*, organisation: Organisation, kind: str, subject: dict, actor: Actor,
                     product: Product | None = None,
                     previous: EvidenceCredential | None = None) -> EvidenceCredential:
    """A new evidence credential (or, with `previous`, its next version) in state `pending`,
    signed after commit. Needs a `passports:issue` mandate of `organisation`. Only a
    conformity assessment body issues conformity credentials. ValidationError (keyed
    `subject.<field>`) for a subject that is not what the kind needs; nothing is stored."""
    authority = authorise(actor, organisation=organisation, scope=Mandate.Scope.PASSPORTS_ISSUE)
    if kind not in SUBJECT_ERRORS:
        raise ValidationError({"kind": ValidationError(
            f"One of {', '.join(Kind.values)}.", code="invalid_choice")})
    if kind == Kind.CONFORMITY and not organisation.is_conformity_assessment_body:
        raise EvidenceError(f"{organisation.legal_name} is not a conformity assessment body: "
                            f"only an assessment body issues conformity credentials.",
                            code="not_an_assessment_body")
    if not isinstance(subject, dict):
        raise ValidationError({"subject": ValidationError("An object.", code="invalid")})
    errors = SUBJECT_ERRORS[kind](subject, organisation)
    if errors:
        raise ValidationError({f"subject.{key}": ValidationError(text, code="invalid")
                               for key, text in errors.items()})
    if product is not None and product.organisation_id != organisation.pk:
        raise EvidenceError("The product is another organisation's.", code="other_organisation")
    series, version = None, 1
    if previous is not None:
        if previous.organisation_id != organisation.pk or previous.kind != kind:
            raise EvidenceError("A new version continues a credential of the same issuer and "
                                "kind.", code="not_a_version")
        series = previous.series
        version = (EvidenceCredential.objects.filter(series=series)
                   .aggregate(v=Max("version"))["v"] or 0) + 1
    credential = EvidenceCredential(organisation=organisation, kind=kind, subject=subject,
                                    name=subject["name"].strip()[:200], product=product,
                                    version=version)
    if series is not None:
        credential.series = series
    credential.save()
    EvidenceEvent.objects.create(credential=credential, action="requested", to_state=State.PENDING,
                                 actor=authority.user, details=authority.record())
    from passports.tasks import sign_evidence

    enqueue_after_commit(sign_evidence, [str(credential.pk)])
    return credential


def evidence_sign(credential_ids: list) -> int:
    """Sign the still-pending credentials among `credential_ids` (idempotent: another
    worker's or an issued one is skipped). Returns how many this call issued."""
    issued = 0
    for pk in credential_ids:
        issued += _sign_one(pk)
    return issued


@transaction.atomic
def _sign_one(pk) -> int:
    credential = (EvidenceCredential.objects.select_for_update(skip_locked=True, of=("self",))
                  .select_related("organisation").filter(pk=pk, state=State.PENDING).first())
    if credential is None:
        return 0
    organisation = credential.organisation
    credential.attempts += 1
    if credential.status_list_id is None:
        status_list, index = allocate(organisation.did, count=1)[0]
        credential.status_list_id, credential.status_index = status_list.pk, index
    now = timezone.now()
    document = evidence_credential(credential, issued_at=now,
                                   status_list_url=status_list_url(credential.status_list_id),
                                   status_index=credential.status_index,
                                   issuer=issuer_of(organisation))
    jsonld.check_terms(document)  # nothing JSON-LD would drop (CredentialError otherwise)
    credential.jwt = signing.secure_jwt(document, signing.signer_for(organisation.did))
    credential.state, credential.issued_at = State.ISSUED, now
    credential.save()
    EvidenceEvent.objects.create(credential=credential, action="issued", from_state=State.PENDING,
                                 to_state=State.ISSUED,
                                 details={"status_index": credential.status_index})
    for old in (EvidenceCredential.objects.select_for_update()
                .filter(series=credential.series, version__lt=credential.version,
                        state__in=[State.ISSUED, State.SUSPENDED]).order_by("pk")):
        from_state = old.state
        old.state, old.superseded_by = State.SUPERSEDED, credential
        old.save(update_fields=["state", "superseded_by", "updated_at"])
        EvidenceEvent.objects.create(credential=old, action="superseded", from_state=from_state,
                                     to_state=State.SUPERSEDED,
                                     details={"superseded_by": str(credential.pk)})
    if credential.kind == Kind.TRACEABILITY and credential.product_id is not None:
        # The event that made the product: the product's next passport links it.
        EvidenceLink.objects.update_or_create(
            product_id=credential.product_id, url=credential.credential_url,
            defaults={"role": EvidenceLink.Role.EVENT, "name": credential.name,
                      "link_type": LINK_TYPE["traceability"],
                      "digest": digest_multibase(credential.jwt.encode("ascii")), "claim": {}})
    return 1


@transaction.atomic
def evidence_mark_failed(pk, error: Exception) -> None:
    credential = EvidenceCredential.objects.select_for_update().filter(
        pk=pk, state=State.PENDING).first()
    if credential is None:
        return
    log.warning("evidence credential %s failed to sign", pk, exc_info=error)
    reason = (f"Signing failed: {error}"[:2000] if isinstance(error, DomainError)
              else "Signing failed because of an internal error.")
    credential.state, credential.state_reason = State.FAILED, reason
    credential.save(update_fields=["state", "state_reason", "updated_at"])
    EvidenceEvent.objects.create(credential=credential, action="failed",
                                 from_state=State.PENDING, to_state=State.FAILED, reason=reason)


@transaction.atomic
def evidence_revoke(*, credential: EvidenceCredential, actor: Actor,
                    reason: str = "") -> EvidenceCredential:
    """Revoke for good: state `revoked` now, its status entry flipped within seconds. Replays
    change nothing; a credential not issued yet is refused."""
    authority = authorise(actor, organisation=credential.organisation,
                          scope=Mandate.Scope.PASSPORTS_REVOKE)
    credential = EvidenceCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.state == State.REVOKED:
        return credential
    if credential.state not in (State.ISSUED, State.SUSPENDED, State.SUPERSEDED):
        raise EvidenceError(f"The credential is {credential.state}: only an issued credential "
                            f"can be revoked.", code="not_issued")
    from_state = credential.state
    credential.state, credential.state_reason = State.REVOKED, (reason or "").strip()[:2000]
    credential.save(update_fields=["state", "state_reason", "updated_at"])
    EvidenceEvent.objects.create(credential=credential, action="revoked", from_state=from_state,
                                 to_state=State.REVOKED, actor=authority.user,
                                 reason=credential.state_reason, details=authority.record())
    status_changes([(credential.status_list_id, credential.status_index, 1)])
    return credential


# --- fetching what a link points at ------------------------------------------------------------

def own_credential_bytes(url: str) -> bytes | None:
    """The bytes this service serves at `url` for `application/vc+jwt` (a passport version, an
    evidence credential, or the current passport of a GS1 Digital Link), read from the
    database; None when `url` is not this service's or names nothing signed."""
    path = own_url_path(url)
    if path is None:
        return None
    jwt = None
    if path.startswith(PUBLIC_PATH):
        key = _uuid(path[len(PUBLIC_PATH):])
        jwt = Passport.objects.filter(pk=key).values_list("jwt", flat=True).first() if key \
            else None
    elif path.startswith(EVIDENCE_PATH):
        key = _uuid(path[len(EVIDENCE_PATH):])
        jwt = (EvidenceCredential.objects.filter(pk=key).values_list("jwt", flat=True).first()
               if key else None)
    elif path.startswith("/01/"):
        jwt = _digital_link_jwt(path)
    return jwt.encode("ascii") if jwt else None


def _uuid(text: str):
    import uuid

    try:
        return uuid.UUID(text.strip("/"))
    except ValueError:
        return None


def _digital_link_jwt(path: str) -> str | None:
    parts = path.strip("/").split("/")
    values = dict(zip(parts[::2], parts[1::2], strict=False))
    try:
        gtin = gs1.normalise_gtin(values.get("01", ""))
    except Exception:  # noqa: BLE001 - not a GTIN: nothing here
        return None
    return (Passport.objects.filter(product__gtin=gtin, product__lot=values.get("10", ""),
                                    product__serial=values.get("21", ""), state__in=[
                                        State.ISSUED, State.SUSPENDED, State.REVOKED])
            .order_by("-version").values_list("jwt", flat=True).first())


def credential_bytes(url: str, max_bytes: int = 256 * 1024) -> bytes:
    """What `url` serves as `application/vc+jwt`: read from the database when it is ours,
    else over the guarded fetch (https, public addresses, a size cap, the deadline)."""
    own = own_credential_bytes(url)
    if own is not None:
        return own
    if own_url_path(url) is not None:
        raise guarded_http.FetchError(f"{url}: no signed credential at this address",
                                      code="fetch_failed")
    return guarded_http.fetch(url, accept=ACCEPT, max_bytes=max_bytes)


# --- linking -----------------------------------------------------------------------------------

def _verified(url: str) -> tuple[bytes, dict]:
    """The bytes at `url` and the credential they hold, once it verifies (signature, issuer,
    status, schema); EvidenceError naming what failed otherwise."""
    from passports.services.verification import plain_verifier

    try:
        data = credential_bytes(url)
    except guarded_http.FetchError as exc:
        raise EvidenceError(f"The credential at {url} could not be fetched: {exc.detail}",
                            code="link_unreachable") from None
    verdict = plain_verifier().verify(data.decode("utf-8", "replace").strip())
    if not verdict["verified"] or not isinstance(verdict.get("credential"), dict):
        raise EvidenceError(f"The credential at {url} does not verify: "
                            f"{'; '.join(verdict['errors'][:5])}", code="link_not_verified")
    return data, verdict["credential"]


def evidence_link_add(*, product: Product, url: str, actor: Actor) -> EvidenceLink:
    """Link the credential at `url` (here or at another service) to `product`, bound by the
    hash of its bytes; its kind decides where the next passport carries it. Needs a
    `passports:issue` mandate of the product's organisation."""
    authorise(actor, organisation=product.organisation, scope=Mandate.Scope.PASSPORTS_ISSUE)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValidationError({"url": ValidationError("An http(s) URL.", code="invalid")})
    data, credential = _verified(url)  # outside any transaction: it may fetch
    with transaction.atomic():
        return _link(product, url, data, credential)


def _link(product: Product, url: str, data: bytes, credential: dict) -> EvidenceLink:
    kind = kind_of(credential)
    if kind not in ROLE_OF_KIND:
        raise EvidenceError("Only conformity credentials, traceability events, facility "
                            "records and product passports can be linked.",
                            code="not_linkable")
    subject = credential.get("credentialSubject")
    first = subject[0] if isinstance(subject, list) and subject else subject
    name = credential.get("name") or (first or {}).get("name") or url
    if kind == "passport":
        name = (first or {}).get("name") or name
    link, _ = EvidenceLink.objects.update_or_create(
        product=product, url=url,
        defaults={"role": ROLE_OF_KIND[kind], "name": str(name)[:200],
                  "link_type": LINK_TYPE[kind], "digest": digest_multibase(data),
                  "claim": claim_from_conformity(credential) if kind == "conformity" else {}})
    return link


def transformation_record(*, product: Product, inputs: list[str], actor: Actor,
                          name: str = "", facility: dict | None = None) -> EvidenceCredential:
    """`product` was made from `inputs` (the resolvable URLs of their passports: GS1 Digital
    Links or credential ids, here or at another service): each input's passport is verified
    and linked by its hash, and a Digital Traceability Event (a MakeEvent) is issued; once
    signed, the product's next passport links it too."""
    authorise(actor, organisation=product.organisation, scope=Mandate.Scope.PASSPORTS_ISSUE)
    if not isinstance(inputs, list) or not inputs or len(inputs) > MAX_INPUTS or not all(
            isinstance(url, str) and url.startswith(("https://", "http://")) for url in inputs):
        raise ValidationError({"inputs": ValidationError(
            f"A list of 1 to {MAX_INPUTS} http(s) URLs.", code="invalid")})
    items, verified = [], []
    for url in inputs:  # fetched and verified outside any transaction
        data, credential = _verified(url)
        if kind_of(credential) != "passport":
            raise EvidenceError(f"{url} is not a product passport.", code="not_a_passport")
        subject = credential.get("credentialSubject") or {}
        link_url = credential.get("id") if isinstance(credential.get("id"), str) and \
            credential["id"].startswith(("https://", "http://")) else url
        verified.append((link_url, data, credential))
        items.append({"id": subject.get("id") or url, "name": subject.get("name") or url,
                      "granularity": subject.get("idGranularity")})
    organisation = product.organisation
    facility = facility or {"id": product.facility_id or (
        f"{product.digital_link.split('/01/')[0]}/orgs/{organisation.slug}/facilities/default"),
        "name": product.facility_name or organisation.legal_name}
    subject = {"name": name or f"Manufacture of {product.name}",
               "event_date": timezone.now().isoformat(timespec="seconds"),
               "inputs": items, "facility": facility,
               "outputs": [{"id": product.digital_link, "name": product.name,
                            "granularity": product.granularity}]}
    with transaction.atomic():
        for link_url, data, credential in verified:
            _link(product, link_url, data, credential)
        return evidence_request(organisation=organisation, kind=Kind.TRACEABILITY,
                                subject=subject, actor=actor, product=product)
