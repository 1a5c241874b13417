"""An organisation's signing keys: rotation, and a declared compromise with the re-signing of
every passport the compromised keys signed (docs/keys.md).

- Rotation: each key type gets a new key that signs from now on; the old keys stay in the DID
  document and keep verifying what they signed.
- Compromise: the keys that existed at the given time are marked compromised from then on
  (credentials.key_store.declare_compromise), new keys are made, the status lists are signed
  again with them, and every passport whose credential a compromised key signed is re-signed
  by Celery in chunks (`passports_resign`): same passport id, same credential (id, status
  entry, QR code's link all unchanged), a new proof by the new key. A chunk is idempotent: a
  passport already signed by a key that is not compromised is skipped, so running it twice,
  or resuming after a crash (`passports_resign_enqueue` again), does no harm. The
  organisation's evidence credentials (conformity, traceability, facility) are re-signed the
  same way (`evidence_resign`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.enqueue import enqueue_after_commit
from core.errors import DomainError
from credentials import signing
from credentials.key_store import NoSigningKey, declare_compromise, rotate_keys
from credentials.keys import ACCEPTED_JOSE
from credentials.models import KeyPair, StatusList
from credentials.status_registry import status_list_publish
from passports.models import (
    EvidenceCredential,
    EvidenceEvent,
    Passport,
    PassportEvent,
    RestrictedCredential,
)
from passports.services.issuance import SIGN_CHUNK, _store
from wallet.tenancy.authority import Actor, authorise
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Organisation

log = logging.getLogger(__name__)

RESIGN_CHUNK = SIGN_CHUNK
# Re-signing is signing in the organisation's name: the mandate that issues passports.
KEYS_SCOPE = Mandate.Scope.PASSPORTS_ISSUE


class SigningKeyError(DomainError):
    code = "keys_error"
    statuses = {"reason_required": 400, "invalid_time": 400}


@dataclass(frozen=True)
class Compromise:
    compromised: list[str]  # verification-method ids now marked compromised
    new_keys: list[str]  # their successors
    since: datetime
    queued: int  # passports sent for re-signing


def organisation_keys(organisation: Organisation) -> list[KeyPair]:
    return list(KeyPair.objects.filter(controller=organisation.did).order_by("created_at", "id"))


def keys_rotate(*, organisation: Organisation, actor: Actor) -> list[KeyPair]:
    """New signing keys for `organisation`; the old ones keep verifying what they signed."""
    authority = authorise(actor, organisation=organisation, scope=KEYS_SCOPE)
    try:
        new = rotate_keys(organisation.did)
    except NoSigningKey:
        raise SigningKeyError(_("This organisation has no signing key yet."),
                              code="no_signing_key") from None
    log.info("keys of %s rotated %s: %s", organisation.did, authority.describe(),
             ", ".join(key.verification_method for key in new))
    return new


def keys_compromise(*, organisation: Organisation, since: datetime, reason: str,
                    actor: Actor) -> Compromise:
    """Declare `organisation`'s keys compromised from `since` on (not in the future: a
    compromise is a fact found out, not a plan) and re-sign what they signed. `reason` is
    required: verifiers are shown it."""
    authority = authorise(actor, organisation=organisation, scope=KEYS_SCOPE)
    reason = (reason or "").strip()
    if not reason:
        raise SigningKeyError(_("A reason is required: verifiers are shown it."),
                              code="reason_required")
    if since.tzinfo is None:
        raise SigningKeyError(_("The time of the compromise needs a time zone."),
                              code="invalid_time")
    if since > timezone.now():
        raise SigningKeyError(_("The time of the compromise cannot be in the future."),
                              code="invalid_time")
    with transaction.atomic():
        try:
            hit, new = declare_compromise(organisation.did, since=since, reason=reason[:500])
        except NoSigningKey:
            raise SigningKeyError(_("No signing key of this organisation existed at that time "
                                    "that is not already declared compromised."),
                                  code="no_signing_key") from None
        for list_id in StatusList.objects.filter(issuer=organisation.did).values_list(
                "pk", flat=True):
            status_list_publish(list_id, force=True)  # signed again, by the new keys
        details = {**authority.record(), "since": since.isoformat()}
        queued = passports_resign_enqueue(organisation, reason=reason, details=details,
                                          actor_id=getattr(authority.user, "pk", None))
    log.warning("keys of %s declared compromised since %s %s: %s", organisation.did,
                since.isoformat(), authority.describe(),
                ", ".join(key.verification_method for key in hit))
    return Compromise([k.verification_method for k in hit],
                      [k.verification_method for k in new], since, queued)


def passports_resign_enqueue(organisation: Organisation, *, reason: str = "",
                             details: dict | None = None, actor_id: int | None = None) -> int:
    """Send every signed passport (and evidence credential) of `organisation` for re-signing,
    in chunks, after commit; returns the number of passports. Safe to call again (e.g. to
    resume after a lost message): the chunks skip what is done."""
    from passports.tasks import resign_evidence, resign_passports

    ids = [str(pk) for pk in Passport.objects.filter(product__organisation=organisation)
           .exclude(jwt="").order_by("pk").values_list("pk", flat=True)]
    for start in range(0, len(ids), RESIGN_CHUNK):
        enqueue_after_commit(resign_passports, ids[start:start + RESIGN_CHUNK], reason,
                             details or {}, actor_id)
    evidence_ids = [str(pk) for pk in EvidenceCredential.objects.filter(
        organisation=organisation).exclude(jwt="").order_by("pk").values_list("pk", flat=True)]
    for start in range(0, len(evidence_ids), RESIGN_CHUNK):
        enqueue_after_commit(resign_evidence, evidence_ids[start:start + RESIGN_CHUNK], reason,
                             details or {}, actor_id)
    return len(ids)


def compromised_methods(did: str) -> set[str]:
    return {key.verification_method for key in KeyPair.objects.filter(
        controller=did, compromised_at__isnull=False)}


class _Resigner:
    """Re-signs JWTs of one chunk: knows which keys are compromised and holds the signers."""

    def __init__(self):
        self.compromised: dict[str, set[str]] = {}
        self.signers: dict[tuple[str, str], signing.Signer] = {}

    def signer(self, did: str, key_type: str = "Ed25519") -> signing.Signer:
        if (did, key_type) not in self.signers:
            self.signers[did, key_type] = signing.signer_for(did, key_type)
        return self.signers[did, key_type]

    def jwt(self, jwt: str, did: str) -> tuple[str, str, str] | None:
        """(new JWT, old key, new key) when a compromised key signed `jwt`; None otherwise."""
        if did not in self.compromised:
            self.compromised[did] = compromised_methods(did)
        header, payload = signing.decode_jwt_parts(jwt)
        if header.get("kid") not in self.compromised[did]:
            return None
        signer = self.signer(did, ACCEPTED_JOSE.get(header.get("alg"), "Ed25519"))
        return signing.secure_jwt(payload, signer), header["kid"], signer.verification_method


@transaction.atomic
def passports_resign(passport_ids: list, *, reason: str = "", details: dict | None = None,
                     actor_id: int | None = None) -> int:
    """Re-sign, with the issuer's active key, each passport among `passport_ids` whose
    credential a compromised key signed: the same credential, a new proof (and the same for
    its restricted credentials and its embedded-proof form). Returns how many were re-signed;
    each gets a `resigned` event naming the old and the new key."""
    passports = list(Passport.objects.select_for_update(of=("self",))
                     .filter(pk__in=passport_ids).exclude(jwt="")
                     .select_related("product__organisation").order_by("pk"))
    if not passports:
        return 0
    restricted: dict = {}
    for credential in RestrictedCredential.objects.filter(passport__in=passports):
        restricted.setdefault(credential.passport_id, []).append(credential)
    resigner = _Resigner()
    done, events, changed_restricted = [], [], []
    with signing.signing_log_batch():  # one write of the signing log for the chunk
        for passport in passports:
            did = passport.product.organisation.did
            outcome = resigner.jwt(passport.jwt, did)
            if outcome is None:
                continue  # signed by a good key: never affected, or re-signed already
            passport.jwt, old_key, new_key = outcome
            if passport.embedded:  # eddsa-rdfc-2022: an Ed25519 key
                document = {k: v for k, v in passport.embedded.items() if k != "proof"}
                passport.embedded = signing.secure_embedded(document, resigner.signer(did))
            for credential in restricted.get(passport.pk, []):
                again = resigner.jwt(credential.jwt, did)
                if again is not None:
                    credential.jwt = again[0]
                    changed_restricted.append(credential)
            done.append(passport)
            events.append(PassportEvent(
                passport=passport, action="resigned", from_state=passport.state,
                to_state=passport.state, actor_id=actor_id, reason=reason,
                details={**(details or {}), "old_key": old_key, "key": new_key}))
    _store(done, ["jwt", "embedded"], timezone.now())
    RestrictedCredential.objects.bulk_update(changed_restricted, ["jwt"], batch_size=500)
    PassportEvent.objects.bulk_create(events)
    return len(done)


@transaction.atomic
def evidence_resign(credential_ids: list, *, reason: str = "", details: dict | None = None,
                    actor_id: int | None = None) -> int:
    """`passports_resign` for evidence credentials: the same credential, a new proof by the
    active key, a `resigned` event. Whoever linked one by its hash links other bytes now: their
    link verifies again once they issue a new version with the new hash (docs/keys.md)."""
    credentials = list(EvidenceCredential.objects.select_for_update(of=("self",))
                       .filter(pk__in=credential_ids).exclude(jwt="")
                       .select_related("organisation").order_by("pk"))
    resigner = _Resigner()
    done, events = [], []
    with signing.signing_log_batch():
        for credential in credentials:
            outcome = resigner.jwt(credential.jwt, credential.organisation.did)
            if outcome is None:
                continue  # signed by a good key: never affected, or re-signed already
            credential.jwt, old_key, new_key = outcome
            done.append(credential)
            events.append(EvidenceEvent(
                credential=credential, action="resigned", from_state=credential.state,
                to_state=credential.state, actor_id=actor_id, reason=reason,
                details={**(details or {}), "old_key": old_key, "key": new_key}))
    # bulk_update leaves auto_now alone: set updated_at, the revision a back-up provider holds
    # (replication.documents), so the re-signed bytes are pushed to it.
    now = timezone.now()
    for credential in done:
        credential.updated_at = now
    EvidenceCredential.objects.bulk_update(done, ["jwt", "updated_at"], batch_size=500)
    EvidenceEvent.objects.bulk_create(events)
    return len(done)
