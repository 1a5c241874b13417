"""Partners' staff log in with the access role their organisation holds (issue #21): a person
of a recycler, say, presents from the organisation's wallet the role credential a manufacturer
issued it (an access-role SD-JWT VC: `sub` the partner's DID, `access_group`), and then reads
exactly the restricted passport data of that group, of that manufacturer, while the
manufacturer's entitlement of the partner stands.

The protocol app (openid4vp.login) verified the presentation (signature, trusted issuer,
status, key binding) and hands over the role's claims and its issuer's DID."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from credentials.signing import decode_jwt_parts
from passports.models import Entitlement, Passport, RestrictedCredential
from wallet.business.trust import organisation_for_did
from wallet.tenancy.login_models import MandateLogin, MandateLoginEvent
from wallet.tenancy.mandate_login import SESSION_DEFAULT_SECONDS, LoginRefused, login_end

Kind = MandateLogin.Kind
SESSION_KEY = "partner_login"  # the browser session's partner login (its id)
EventKind = MandateLoginEvent.Kind


def partner_login_open(*, role: dict, issuer_did: str, presentation: str) -> MandateLogin:
    """A partner session for the organisation the role was given to, reading the role's
    access group of the issuing manufacturer. Raises LoginRefused (recorded): `no_mandate`
    (the role is no entitlement given here), `revoked` (the entitlement was withdrawn),
    `replayed`."""
    manufacturer = organisation_for_did(issuer_did)
    partner = organisation_for_did(role.get("sub") or "")
    group = role.get("access_group")
    try:
        if manufacturer is None or partner is None or not isinstance(group, str):
            raise LoginRefused("no_mandate", "the role is not one given by an organisation "
                                             "here to an organisation here")
        if not Entitlement.objects.filter(manufacturer=manufacturer, partner=partner,
                                          access_group=group).exists():
            raise LoginRefused("revoked", f"{manufacturer.slug} no longer entitles "
                                          f"{partner.slug} to {group}")
        with transaction.atomic():
            login = MandateLogin.objects.create(
                kind=Kind.PARTNER_SESSION, organisation=partner, entitled_by=manufacturer,
                access_group=group, presentation=presentation,
                expires_at=timezone.now() + timedelta(seconds=SESSION_DEFAULT_SECONDS))
            MandateLoginEvent.objects.create(
                login=login, kind=EventKind.LOGGED_IN,
                detail=f"staff of {partner.slug} read {group} of {manufacturer.slug} "
                       f"(role: {role.get('role', '')})"[:2000])
    except IntegrityError:
        if not MandateLogin.objects.filter(presentation=presentation).exists():
            raise  # another constraint: a defect, not a replay
        refused = LoginRefused("replayed", f"{presentation} was used for a login before")
        MandateLoginEvent.objects.create(kind=EventKind.REFUSED, code=refused.code,
                                         detail=refused.detail)
        raise refused from None
    except LoginRefused as refused:
        MandateLoginEvent.objects.create(kind=EventKind.REFUSED, code=refused.code,
                                         detail=f"{presentation}: {refused.detail}")
        raise
    return login


def partner_login_check(login_id) -> tuple[MandateLogin | None, str | None]:
    """(the standing partner login, None) or (None, why it ended). Read on every page: a
    withdrawn entitlement ends it at once."""
    login = (MandateLogin.objects.select_related("organisation", "entitled_by")
             .filter(pk=login_id, kind=Kind.PARTNER_SESSION).first())
    if login is None:
        return None, "invalid"
    if login.ended_at is not None:
        return None, login.end_reason or "expired"
    reason = None
    if login.expires_at <= timezone.now():
        reason = "expired"
    elif not Entitlement.objects.filter(manufacturer=login.entitled_by,
                                        partner=login.organisation,
                                        access_group=login.access_group).exists():
        reason = "revoked"
    if reason:
        login_end(login, reason)
        return None, reason
    return login, None


def partner_restricted_data(login: MandateLogin) -> list[dict]:
    """What the partner's staff may read: for each issued passport of the manufacturer, the
    attributes of the role's access group (from its restricted credential), and nothing of
    any other group."""
    rows = (RestrictedCredential.objects
            .filter(passport__product__organisation=login.entitled_by,
                    passport__state=Passport.State.ISSUED, access_group=login.access_group)
            .select_related("passport__product").order_by("passport__product__name"))
    shown = []
    for restricted in rows:
        _, credential = decode_jwt_parts(restricted.jwt)
        characteristics = credential.get("credentialSubject", {}).get("characteristics", {})
        attributes = {name: _readable(value) for name, value in characteristics.items()
                      if name != "type"}
        product = restricted.passport.product
        shown.append({"passport": str(restricted.passport.pk), "product": product.name,
                      "gtin": product.gtin, "access_group": restricted.access_group,
                      "attributes": attributes})
    return shown


def _readable(value) -> str:
    """A quantity as "7 KWH" (UN/CEFACT unit code), lists joined, anything else as text."""
    if isinstance(value, dict) and set(value) >= {"value", "unit"}:
        return f"{value['value']} {value['unit']}"
    if isinstance(value, list):
        return ", ".join(_readable(item) for item in value)
    return str(value)
