"""Entitlement to a passport's restricted data through an EU wallet (OpenID4VP 1.0), in place
of the service's own challenge + vp+jwt flow (presentation_access.py).

A partner asks for access to a passport; the service makes a presentation request on behalf of
the passport's manufacturer, for an access-role SD-JWT VC (ACCESS_ROLE_VCT: `access_group`,
`role`, the partner as `sub`, key-bound), and hands the partner the wallet link and a one-time
read secret. Once the wallet has answered and the role credential verified, the secret reads the
restricted credential of the role's access group, exactly once.

Who may vouch for a role: a trusted anchor (as in the challenge flow) or the manufacturer itself;
a role the manufacturer issued counts only while its entitlement of that partner stands."""

from __future__ import annotations

from openid4vp.models import PresentationRequest
from openid4vp.services import presentation_request_create, request_of_secret, result_read_once
from passports.models import Entitlement, Passport, RestrictedCredential
from passports.services.presentation_access import AccessPending, PresentationRefused
from wallet.business.presentations import ACCESS_GROUPS, ACCESS_ROLE_VCT
from wallet.business.trust import organisation_for_did, trusted_anchor_dids

QUERY_ID = "access_role"
PURPOSE = "passport_access"
Status = PresentationRequest.Status


def access_query() -> dict:
    """The DCQL query for an access-role credential: the group, the role, whose it is."""
    return {"credentials": [{
        "id": QUERY_ID, "format": "dc+sd-jwt", "meta": {"vct_values": [ACCESS_ROLE_VCT]},
        "claims": [{"path": ["access_group"]}, {"path": ["role"]}, {"path": ["sub"]}]}]}


def access_request_create(*, passport: Passport) -> tuple[PresentationRequest, str]:
    """A presentation request for `passport`'s restricted data, on behalf of its manufacturer:
    (the request, its one-time read secret)."""
    manufacturer = passport.product.organisation
    return presentation_request_create(
        organisation=manufacturer, dcql_query=access_query(),
        purpose=f"Access to the restricted data of the product passport of "
                f"{passport.product.name} ({passport.pk})",
        response_mode=PresentationRequest.ResponseMode.DIRECT_POST_JWT,
        context={"purpose": PURPOSE, "passport": str(passport.pk)},
        accepted_issuers=sorted(trusted_anchor_dids() | {manufacturer.did}),
        with_read_secret=True)


def access_result_read(*, passport: Passport, request_id, secret: str) -> RestrictedCredential:
    """The restricted credential the verified role entitles its holder to, once. Raises
    LookupError (unknown request or wrong secret), AccessPending, or PresentationRefused naming
    why not (the presentation failed or expired, the result was read before, no such data)."""
    request = request_of_secret(request_id, secret)
    if request is None or request.context.get("passport") != str(passport.pk):
        raise LookupError("no such access request")
    status = request.current_status
    if status == Status.PENDING:
        raise AccessPending(request)
    if status == Status.EXPIRED:
        raise PresentationRefused("the request expired before the wallet answered",
                                  code="expired")
    if status == Status.FAILED:
        raise PresentationRefused(f"the presentation was not accepted: {request.reason}",
                                  code=request.error_code or "presentation_invalid")
    group = _entitled_group(request, passport)
    restricted = passport.restricted_credentials.filter(access_group=group).first()
    if restricted is None:
        raise PresentationRefused(f"the passport has no {group} data", code="no_data",
                                  status=404)
    if not result_read_once(request):
        raise PresentationRefused("the result was already read (the secret reads it once)",
                                  code="already_read", status=410)
    return restricted


def _entitled_group(request: PresentationRequest, passport: Passport) -> str:
    [presented] = [c for c in request.result.get("credentials", []) if c["ok"]]
    role = presented["claims"]
    group = role.get("access_group")
    if group not in ACCESS_GROUPS:
        raise PresentationRefused(f"role credential: unknown access group {group!r}",
                                  code="role_invalid")
    manufacturer = passport.product.organisation
    if presented["issuer"].get("did", presented["issuer"]["id"]) == manufacturer.did:
        partner = organisation_for_did(role.get("sub") or "")
        if not Entitlement.objects.filter(manufacturer=manufacturer, partner=partner,
                                          access_group=group).exists():
            raise PresentationRefused("role credential: the manufacturer no longer entitles "
                                      "its holder to this group", code="role_withdrawn")
    return group
