"""Legal identity: an anchor (a business register) attests an organisation after review and
issues two identity credentials, a UNTP Digital Identity Anchor (vc+jwt, Bitstring revocation
entry) and an EU business-wallet identity credential (SD-JWT VC, Token Status List entry)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import events
from core.times import iso8601 as _iso
from credentials import signing
from credentials.models import StatusList
from credentials.status_registry import allocate, status_list_url
from wallet.tenancy.credential_status import credential_url
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import AttestationRequest, LegalDetails, WalletCredential
from wallet.tenancy.models import Organisation

VC_V2 = "https://www.w3.org/ns/credentials/v2"
UNTP = "https://vocabulary.uncefact.org/untp/0.7.0/context/"
EXTENSION = "https://w3id.org/dpp-wallet/contexts/v1"  # defines DigitalIdentityAnchor
BUSINESS_IDENTITY_VCT = "https://w3id.org/dpp-wallet/vct/business-identity/v1"
IDENTITY_VALIDITY = timedelta(days=365 * 3)


def revocation_entry(issuer: Organisation) -> tuple[StatusList, int, dict]:
    """A fresh Bitstring revocation entry of `issuer`: (list, index, the credentialStatus). One
    entry only, with an integer index, as the UNTP 0.7.0 schemas allow."""
    [(status_list, index)] = allocate(issuer.did, kind=StatusList.Kind.BITSTRING,
                                      purpose=StatusList.Purpose.REVOCATION)
    url = status_list_url(status_list.id)
    return status_list, index, {"type": "BitstringStatusListEntry", "id": f"{url}#{index}",
                                "statusPurpose": "revocation", "statusListIndex": index,
                                "statusListCredential": url}


def registered_identity(organisation: Organisation) -> dict | None:
    """The organisation's registry identity as UNTP `issuerAlsoKnownAs` carries it, once an
    active identity credential from an anchor says so."""
    held = (WalletCredential.objects.filter(holder=organisation,
                                            kind=WalletCredential.Kind.IDENTITY_ANCHOR,
                                            state=WalletCredential.State.ACTIVE)
            .select_related("issuer").first())
    legal = getattr(organisation, "legal", None)
    if held is None or legal is None or not legal.registry_id:
        return None
    return {"type": ["Party"], "id": f"{_scheme_id(held.issuer)}/{legal.registry_id}",
            "name": organisation.legal_name, "registeredId": legal.registry_id}


def _scheme_id(anchor: Organisation) -> str:
    return f"{settings.PUBLIC_BASE_URL}/orgs/{anchor.slug}/register"


def _scheme_name(anchor: Organisation) -> str:
    legal = getattr(anchor, "legal", None)
    return (legal.registry_name if legal and legal.registry_name else anchor.legal_name)


# --- review ------------------------------------------------------------------------------------

@transaction.atomic
def attestation_request(*, organisation: Organisation, anchor: Organisation, evidence: str,
                        requested_by=None) -> AttestationRequest:
    if not anchor.is_trust_anchor:
        raise WalletError(f"{anchor.legal_name} is not a trust anchor", code="not_an_anchor")
    if organisation == anchor:
        raise WalletError("an anchor does not attest itself", code="self_attestation")
    request = AttestationRequest(organisation=organisation, anchor=anchor, evidence=evidence,
                                 requested_by=requested_by)
    request.full_clean()
    request.save()
    return request


@transaction.atomic
def attestation_reject(*, request: AttestationRequest, reviewer, reason: str
                       ) -> AttestationRequest:
    request = AttestationRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != AttestationRequest.State.REQUESTED:
        raise WalletError(f"the request is already {request.state}", code="already_decided")
    if not reason.strip():
        raise ValidationError({"decision_reason": "A rejection needs a reason."})
    request.state, request.decision_reason = AttestationRequest.State.REJECTED, reason
    request.reviewed_by, request.reviewed_at = reviewer, timezone.now()
    request.save()
    _decided(request)
    return request


def _decided(request: AttestationRequest) -> None:
    """Tell the organisation and the anchor (webhooks, after commit)."""
    events.publish(events.ATTESTATION_DECIDED,
                   organisations=[request.organisation_id, request.anchor_id],
                   payload={"request": str(request.pk), "state": request.state,
                            "reason": request.decision_reason})


@transaction.atomic
def attestation_approve(*, request: AttestationRequest, reviewer=None,
                        reason: str = "") -> list[WalletCredential]:
    """Approve and issue both identity credentials (signed by the anchor, in the request: two
    cheap vc+jwt / SD-JWT signatures)."""
    request = (AttestationRequest.objects.select_for_update()
               .select_related("organisation", "anchor").get(pk=request.pk))
    if request.state != AttestationRequest.State.REQUESTED:
        raise WalletError(f"the request is already {request.state}", code="already_decided")
    legal = LegalDetails.objects.filter(organisation=request.organisation).first()
    if legal is None or not (legal.registry_id or legal.euid):
        raise ValidationError({"legal": "The organisation has no registry number or EUID to "
                                        "attest."})
    request.state, request.decision_reason = AttestationRequest.State.APPROVED, reason
    request.reviewed_by, request.reviewed_at = reviewer, timezone.now()
    request.save()
    _decided(request)
    return [issue_identity_anchor(request, legal), issue_business_identity(request, legal)]


def issue_identity_anchor(request: AttestationRequest, legal: LegalDetails) -> WalletCredential:
    anchor, subject = request.anchor, request.organisation
    now = timezone.now().replace(microsecond=0)
    status_list, index, status_entry = revocation_entry(anchor)
    credential_id = credential_url(anchor)
    credential = {
        "@context": [VC_V2, UNTP, EXTENSION],
        "type": ["DigitalIdentityAnchor", "VerifiableCredential"],
        "id": credential_id,
        "issuer": {"type": ["CredentialIssuer"], "id": anchor.did, "name": anchor.legal_name},
        "validFrom": _iso(now),
        "validUntil": _iso(now + IDENTITY_VALIDITY),
        "name": f"Digital Identity Anchor: {subject.legal_name}",
        "credentialSubject": {
            "type": ["RegisteredIdentity"],
            "id": subject.did,
            "registeredName": subject.legal_name,
            "registeredId": legal.registry_id or legal.euid,
            "registeredDate": (legal.registered_date or now.date()).isoformat(),
            "idScheme": {"type": ["IdentifierScheme"], "id": _scheme_id(anchor),
                         "name": _scheme_name(anchor)},
            "registrar": {"type": ["Party"], "id": _scheme_id(anchor),
                          "name": anchor.legal_name},
            "registerType": "business",
        },
        "credentialStatus": status_entry,
    }
    jwt = signing.secure_jwt(credential, signing.signer_for(anchor.did))
    return WalletCredential.objects.create(
        kind=WalletCredential.Kind.IDENTITY_ANCHOR, format="vc+jwt", issuer=anchor,
        holder=subject, credential_id=credential_id, credential=jwt, status_list=status_list,
        status_index=index, valid_from=now, valid_until=now + IDENTITY_VALIDITY,
        attestation=request)


def issue_business_identity(request: AttestationRequest,
                            legal: LegalDetails) -> WalletCredential:
    """EU business-wallet identity (owner identification data) as an SD-JWT VC: every claim
    selectively disclosable, bound to the organisation's key, with a Token Status List entry."""
    anchor, subject = request.anchor, request.organisation
    now = timezone.now().replace(microsecond=0)
    [(status_list, index)] = allocate(anchor.did, kind=StatusList.Kind.TOKEN,
                                      purpose=StatusList.Purpose.STATUS)
    claims = {"legal_name": subject.legal_name, "euid": legal.euid,
              "registry_id": legal.registry_id, "registry_name": _scheme_name(anchor),
              "vat_id": legal.vat_id, "lei": legal.lei,
              "address": {"street_address": legal.street, "postal_code": legal.postal_code,
                          "locality": legal.city, "country": legal.country}}
    claims = {k: v for k, v in claims.items() if v}
    claims["address"] = {k: v for k, v in claims.get("address", {}).items() if v}
    if not claims["address"]:
        claims.pop("address")
    disclosable = list(claims) + [f"address.{k}" for k in claims.get("address", {})]
    credential_id = credential_url(anchor)
    sd_jwt = signing.secure_sd_jwt(
        {"vct": BUSINESS_IDENTITY_VCT, "iss": anchor.did, "sub": subject.did,
         "jti": credential_id, **claims},
        signing.signer_for(anchor.did), disclosable=disclosable,
        holder_key=signing.signer_for(subject.did).public_key(),
        status={"status_list": {"idx": index, "uri": status_list_url(status_list.id)}},
        iat=int(now.timestamp()), exp=int((now + IDENTITY_VALIDITY).timestamp()))
    return WalletCredential.objects.create(
        kind=WalletCredential.Kind.BUSINESS_IDENTITY, format="dc+sd-jwt", issuer=anchor,
        holder=subject, credential_id=credential_id, credential=sd_jwt,
        status_list=status_list, status_index=index, valid_from=now,
        valid_until=now + IDENTITY_VALIDITY, attestation=request)
