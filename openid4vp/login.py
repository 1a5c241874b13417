"""Logging in with the wallet (issue #21): the Verifier's half.

A login is an OpenID4VP request the service makes for itself (no organisation asks): a DCQL
query for one or more mandate credentials and, optionally, a PID naming the person; signed,
answered encrypted (`direct_post.jwt`), with a `redirect_uri` for a wallet on the same device.
Once the wallet has answered, the accepted mandates go to wallet.tenancy.mandate_login, which
decides who logs in with what. The protocol's refusals (a replayed presentation, a wrong nonce
or audience, a revoked, suspended or expired credential, an untrusted issuer) become that
module's refusal codes, so the person reads why in their language."""

from __future__ import annotations

from openid4vp.models import PresentationRequest
from openid4vp.services import presentation_request_create
from passports.services.partner_login import partner_login_open
from wallet.business.presentations import ACCESS_ROLE_VCT
from wallet.tenancy.mandate_login import (
    LoginRefused,
    Presented,
    login_refusal_record,
    session_login_open,
)
from wallet.tenancy.mandates import MANDATE_VCT

PURPOSE = "mandate_login"
MANDATE_QUERY = "mandate"
ROLE_QUERY = "role"  # partners' staff: the access role their organisation holds
PID_QUERY = "pid"
PID_VCTS = ["urn:eudi:pid:1", "https://example.bmi.bund.de/credential/pid/1.0"]
Status = PresentationRequest.Status

# The Verifier's failure codes (openid4vp.evaluation, services) as login refusals.
REFUSAL_OF = {"revoked": "revoked", "suspended": "suspended", "credential_expired": "expired",
              "nonce": "wrong_audience_or_nonce", "audience": "wrong_audience_or_nonce",
              "replay": "replayed", "already_answered": "replayed",
              "untrusted_issuer": "untrusted_issuer", "wallet_error": "declined",
              "expired": "request_expired", "vct": "no_mandate",
              "missing_credential": "no_mandate"}


class LoginPending(Exception):
    """The wallet has not answered yet."""


def login_query() -> dict:
    """One or more mandates (each discloses its scope and whose it is) or, for partners'
    staff, their organisation's access role; and optionally a PID (the person's name, for
    their account)."""
    return {
        "credentials": [
            {"id": MANDATE_QUERY, "format": "dc+sd-jwt", "multiple": True,
             "meta": {"vct_values": [MANDATE_VCT]},
             "claims": [{"path": ["scope"]}, {"path": ["principal", "legal_name"]}]},
            {"id": ROLE_QUERY, "format": "dc+sd-jwt", "meta": {"vct_values": [ACCESS_ROLE_VCT]},
             "claims": [{"path": ["access_group"]}, {"path": ["role"]}, {"path": ["sub"]}]},
            {"id": PID_QUERY, "format": "dc+sd-jwt", "meta": {"vct_values": PID_VCTS},
             "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}]},
        ],
        "credential_sets": [{"options": [[MANDATE_QUERY], [ROLE_QUERY]]},
                            {"options": [[PID_QUERY]], "required": False}],
    }


def login_request_start(*, return_url) -> PresentationRequest:
    """A new login request; a wallet on the same device then returns the browser to
    `return_url(request)` (the redirect_uri is not in the signed request object, so it is
    set once the request has its id)."""
    request, _ = presentation_request_create(
        organisation=None, dcql_query=login_query(),
        purpose="Log in to the Digital Product Passport service with your mandate",
        response_mode=PresentationRequest.ResponseMode.DIRECT_POST_JWT,
        context={"purpose": PURPOSE})
    request.redirect_uri = return_url(request)
    request.full_clean(exclude=["request_object", "wrapped_encryption_key", "encryption_jwk",
                                "encryption_kid", "organisation"])
    request.save(update_fields=["redirect_uri"])
    return request


def login_request_of(request_id) -> PresentationRequest | None:
    return PresentationRequest.objects.filter(pk=request_id,
                                              context__purpose=PURPOSE).first()


def login_finish(request: PresentationRequest, *, response_code: str | None = None):
    """The MandateLogin the answered request opens. Raises LoginPending while the wallet has
    not answered, LoginRefused naming why not (recorded)."""
    status = request.current_status
    if status == Status.PENDING:
        raise LoginPending
    if response_code is not None and response_code != request.response_code:
        refused = LoginRefused("replayed", "the response code is not this request's")
        login_refusal_record(refused, reference=str(request.pk))
        raise refused
    if status != Status.VERIFIED:
        code = "request_expired" if status == Status.EXPIRED else REFUSAL_OF.get(
            request.error_code, "invalid")
        refused = LoginRefused(code, request.reason or code)
        login_refusal_record(refused, reference=str(request.pk))
        raise refused
    accepted = [c for c in request.result.get("credentials", []) if c.get("ok")]
    role = next((c for c in accepted if c["credential_query_id"] == ROLE_QUERY), None)
    if role is not None:
        return partner_login_open(role=role["claims"], presentation=str(request.pk),
                                  issuer_did=role["issuer"].get("did", role["issuer"]["id"]))
    mandates = [Presented(c["claims"]) for c in accepted
                if c["credential_query_id"] == MANDATE_QUERY]
    pid = next((c["claims"] for c in accepted if c["credential_query_id"] == PID_QUERY), None)
    return session_login_open(presented=mandates, presentation=str(request.pk), pid=pid)
