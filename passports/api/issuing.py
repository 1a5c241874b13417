"""VC-API issuing: an organisation signs a credential of its own in the request
(docs/architecture.md, Runtime, allows it: one `vc+jwt` signature costs a fraction of a
millisecond). Nothing of the credential is stored; the status entries allocated on request are
recorded (IssuedStatusEntry) so that their issuer can change them later."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound

from credentials import contexts, data_model, dids, schemas, signing
from credentials.errors import CredentialError
from credentials.models import StatusList
from credentials.status_registry import allocate, status_changes, status_list_url
from passports.credential import iso
from passports.models import IssuedStatusEntry
from wallet.tenancy.models import Organisation

VC_V1 = "https://www.w3.org/2018/credentials/v1"
# The securing mechanisms a VC-API caller may choose (`options.cryptosuite`); vc+jwt when absent.
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")


@transaction.atomic  # status entries allocated are given back when signing fails
def credential_issue(*, organisation: Organisation, credential: dict,
                     credential_id: str | None = None, cryptosuite: str | None = None,
                     status: list[dict] | None = None) -> dict:
    """`credential` (unsecured) secured by `organisation`: as `vc+jwt` in an
    EnvelopedVerifiableCredential, or with an embedded Data Integrity proof of `cryptosuite`
    (then VCDM 1.1 is accepted too, as the W3C EdDSA suite issues it). The issuer is the
    organisation: its did:web (filled in when absent) or the did:key of its Ed25519 key, which
    peers resolve without fetching anything; another is refused. `status`: the status entries
    to allocate (`{"type": "BitstringStatusListEntry", "statusPurpose": ...}`), allocated and
    recorded only once everything else is accepted (the credential then needs an id). Raises
    ValidationError keyed `credential`, `credential.<field>` or `options.credentialStatus`."""
    document = dict(credential)
    refusals = data_model.issue_refusals(document)
    if refusals:
        raise ValidationError({"credential": [ValidationError(refusal, code="invalid_credential")
                                              for refusal in refusals]})
    signer = signing.signer_for(organisation.did)
    did_key = dids.did_key_for(signer.public_key())
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if "issuer" not in document:
        document["issuer"] = issuer_id = organisation.did
    elif issuer_id not in (organisation.did, did_key):
        raise ValidationError({"credential.issuer": ValidationError(
            f"You issue as {organisation.did} (or {did_key}), not as {issuer_id!r}.",
            code="issuer_mismatch")})
    if issuer_id == did_key:
        signer = signing.as_did_key(signer)
    if "proof" in document:
        raise ValidationError({"credential.proof": ValidationError(
            "The credential is already secured.", code="already_secured")})
    if credential_id and "id" not in document:
        document["id"] = credential_id
    vcdm_1_1 = _context_urls(document)[:1] == [VC_V1]
    if vcdm_1_1 and cryptosuite is None:
        raise ValidationError({"credential.@context": ValidationError(
            "vc+jwt secures VCDM 2.0 credentials; choose options.cryptosuite for VCDM 1.1.",
            code="invalid_credential")})
    if vcdm_1_1:
        document.setdefault("issuanceDate", iso(timezone.now()))
    else:
        document.setdefault("validFrom", iso(timezone.now()))
    unknown = [url for url in _context_urls(document) if not contexts.known(url)]
    if unknown:
        raise ValidationError({"credential.@context": ValidationError(
            f"Unknown contexts (only bundled ones are accepted): {', '.join(unknown)}.",
            code="unknown_context")})
    problems = [] if vcdm_1_1 else schemas.vcdm2_errors(document)
    if problems:
        raise ValidationError({"credential": [ValidationError(problem, code="invalid_credential")
                                              for problem in problems]})
    if status:
        if "credentialStatus" in document:
            raise ValidationError({"credential.credentialStatus": ValidationError(
                "The credential has its own credentialStatus: ask for entries or bring them, "
                "not both.", code="status_conflict")})
        _check_status_requests(status)
        if not isinstance(document.get("id"), str):
            raise ValidationError({"credential.id": ValidationError(
                "A credential with status entries needs an id (or options.credentialId): "
                "POST /credentials/status names it to change them.",
                code="credential_id_required")})
        entries = _status_entries(organisation, document["id"], status)
        document["credentialStatus"] = entries if len(entries) > 1 else entries[0]
    if cryptosuite is None:
        return signing.envelope(signing.secure_jwt(document, signer))
    try:
        return signing.secure_embedded(document, signer, cryptosuite)
    except CredentialError as exc:  # e.g. a term no context defines (JSON-LD would drop it)
        raise ValidationError({"credential": ValidationError(
            f"Cannot secure with {cryptosuite}: {exc.detail}",
            code="invalid_credential")}) from None


STATUS_PURPOSES = (StatusList.Purpose.REVOCATION, StatusList.Purpose.SUSPENSION)


def _check_status_requests(requested: list[dict]) -> None:
    for request in requested:
        if request.get("type") != "BitstringStatusListEntry" or \
                request.get("statusPurpose", "revocation") not in STATUS_PURPOSES:
            raise ValidationError({"options.credentialStatus": ValidationError(
                "Only BitstringStatusListEntry with statusPurpose revocation or suspension "
                "can be allocated.", code="unsupported_status")})


def _status_entries(organisation: Organisation, credential_id: str,
                    requested: list[dict]) -> list[dict]:
    """Fresh Bitstring Status List entries of `organisation`, one per requested purpose
    (`revocation` when none is named), in the W3C form: `statusListIndex` a string of base-10
    digits (Bitstring Status List v1.0 §2.1; UNTP passports keep the integer their schema
    types)."""
    entries = []
    for request in requested:
        purpose = request.get("statusPurpose", StatusList.Purpose.REVOCATION)
        [(status_list, index)] = allocate(organisation.did, purpose=purpose)
        IssuedStatusEntry.objects.create(organisation=organisation, credential_id=credential_id,
                                         status_list=status_list, index=index, purpose=purpose)
        url = status_list_url(status_list.id)
        entries.append({"id": f"{url}#{index}", "type": "BitstringStatusListEntry",
                        "statusPurpose": purpose, "statusListIndex": str(index),
                        "statusListCredential": url})
    return entries


def credential_status_set(*, organisation: Organisation, credential_id: str, purpose: str,
                          value: bool) -> int:
    """Set (`value` true: revoked / suspended) or clear (lift a suspension) the `purpose` entries
    of the credential `organisation` issued as `credential_id` through the VC-API; the status
    lists are re-published after commit. A revocation is final. Returns how many entries
    changed. Raises NotFound (no such entry of this organisation) or ValidationError."""
    if purpose not in STATUS_PURPOSES:
        raise ValidationError({"credentialStatus.statusPurpose": ValidationError(
            "revocation or suspension.", code="unsupported_status")})
    if not value and purpose == StatusList.Purpose.REVOCATION:
        raise ValidationError({"credentialStatus.status": ValidationError(
            "A revocation is final: it cannot be lifted.", code="revocation_final")})
    with transaction.atomic():
        entries = list(IssuedStatusEntry.objects.select_for_update().filter(
            organisation=organisation, credential_id=credential_id, purpose=purpose))
        if not entries:
            raise NotFound(f"No {purpose} entry of a credential {credential_id!r} issued by "
                           "your organisation.")
        status_changes([(entry.status_list_id, entry.index, int(value)) for entry in entries])
    return len(entries)


def _context_urls(document: dict) -> list[str]:
    context = document.get("@context")
    items = context if isinstance(context, list) else [context]
    return [item for item in items if isinstance(item, str)]
