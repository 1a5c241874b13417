"""What a wallet holds and shows: role credentials from anchors or authorities, credentials
imported from elsewhere (verified first), and presentations bound to a verifier's challenge."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.times import iso8601 as _iso
from credentials import signing
from credentials.sd_jwt import present as sd_jwt_present
from credentials.suites import get_suite
from wallet.business.identity.services import EXTENSION, UNTP, VC_V2, revocation_entry
from wallet.business.verification import verify
from wallet.tenancy.credential_status import credential_url
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import WalletCredential
from wallet.tenancy.models import Organisation

ROLE_VALIDITY = timedelta(days=365)
# SD-JWT VC type of an access role a manufacturer gives a partner it entitles (issued into EU
# wallets by openid4vci; its claims: role, access_group, sub = the partner's DID).
ACCESS_ROLE_VCT = "https://w3id.org/dpp-wallet/vct/access-role/v1"
ACCESS_GROUPS = ("legitimate_interest", "legitimate_interest_commission", "authorities")


@transaction.atomic
def role_credential_issue(*, issuer: Organisation, holder: Organisation, role: str,
                          access_group: str) -> WalletCredential:
    """An anchor or authority states that `holder` has `role` (e.g. "authorised recycler")
    entitling it to one Annex XIII access group of product passports."""
    if access_group not in ACCESS_GROUPS:
        raise WalletError(f"unknown access group {access_group!r}; one of {ACCESS_GROUPS}",
                          code="access_group")
    if not issuer.is_trust_anchor:
        raise WalletError(f"{issuer.legal_name} is not an anchor or authority",
                          code="not_an_anchor")
    now = timezone.now().replace(microsecond=0)
    status_list, index, status_entry = revocation_entry(issuer)
    credential_id = credential_url(issuer)
    credential = {
        "@context": [VC_V2, UNTP, EXTENSION],
        "type": ["VerifiableCredential", "AccessRoleCredential"],
        "id": credential_id,
        "issuer": {"id": issuer.did, "name": issuer.legal_name},
        "validFrom": _iso(now),
        "validUntil": _iso(now + ROLE_VALIDITY),
        "credentialSubject": {"id": holder.did, "role": role, "accessGroup": access_group},
        "credentialStatus": status_entry,
    }
    jwt = signing.secure_jwt(credential, signing.signer_for(issuer.did))
    return WalletCredential.objects.create(
        kind=WalletCredential.Kind.ROLE, format="vc+jwt", issuer=issuer, holder=holder,
        credential_id=credential_id, credential=jwt, status_list=status_list,
        status_index=index, valid_from=now, valid_until=now + ROLE_VALIDITY)


@transaction.atomic
def credential_import(*, holder: Organisation, secured: str) -> tuple[WalletCredential, dict]:
    """Store a credential issued to `holder` elsewhere, after verifying it; one that does not
    verify, or is about someone else, is refused with the verdict's reasons."""
    verdict = verify(secured)
    if not verdict["verified"]:
        raise WalletError("the credential does not verify: " + "; ".join(verdict["errors"]),
                          code="not_verified")
    credential = verdict["credential"]
    subject = credential.get("credentialSubject", {}) if "credentialSubject" in credential \
        else {"id": credential.get("sub")}
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if subject_id != holder.did:
        raise WalletError(f"the credential is about {subject_id}, not {holder.did}",
                          code="not_the_holder")
    issuer_id = verdict["issuer"]["id"]
    issuer = _local_organisation(issuer_id)  # None: an issuer elsewhere (DID or https)
    if WalletCredential.objects.filter(credential=secured).exists():
        raise WalletError("the wallet already holds this credential", code="duplicate")
    valid_from = credential.get("validFrom")
    imported = WalletCredential.objects.create(
        kind=WalletCredential.Kind.IMPORTED, format=verdict["format"], issuer=issuer,
        foreign_issuer="" if issuer else issuer_id,
        holder=holder, credential_id=credential.get("id") or credential.get("jti")
        or (credential_url(issuer) if issuer else f"urn:uuid:{uuid.uuid4()}"),
        credential=secured,
        valid_from=datetime.fromisoformat(valid_from.replace("Z", "+00:00"))
        if isinstance(valid_from, str) else timezone.now())
    return imported, verdict


def _local_organisation(did: str) -> Organisation | None:
    from wallet.business.trust import organisation_for_did

    return organisation_for_did(did)


def presentation_create(*, holder: Organisation, credentials: list[WalletCredential],
                        challenge: str, domain: str) -> str:
    """A VCDM 2.0 presentation of `credentials` (vc+jwt ones) secured as vp+jwt, bound to the
    verifier's challenge (nonce) and domain (aud)."""
    for held in credentials:
        if held.holder_id != holder.pk or held.format != "vc+jwt":
            raise WalletError(f"{held} is not a vc+jwt credential held by {holder.slug}",
                              code="not_presentable")
    presentation = {"@context": [VC_V2], "type": ["VerifiablePresentation"],
                    "holder": holder.did,
                    "verifiableCredential": [held.credential for held in credentials]}
    return get_suite("vp+jwt").secure(presentation, signing.signer_for(holder.did),
                                      challenge=challenge, domain=domain)


def sd_jwt_presentation_create(*, holder: Organisation, credential: WalletCredential,
                               disclose: list[str], nonce: str, aud: str) -> str:
    """An SD-JWT VC presentation disclosing only `disclose`, with a key-binding JWT."""
    if credential.holder_id != holder.pk or credential.format != "dc+sd-jwt":
        raise WalletError("not an SD-JWT credential held by this organisation",
                          code="not_presentable")
    return sd_jwt_present(credential.credential, disclose=disclose,
                          holder_signer=signing.signer_for(holder.did), aud=aud, nonce=nonce)
