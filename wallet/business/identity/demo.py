"""Demo legal identities, attestation, mandates and a role credential (docs/architecture.md,
Demo data). Idempotent."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.business.presentations import role_credential_issue
from wallet.tenancy.legal_models import (
    AttestationRequest,
    LegalDetails,
    Mandate,
    TrustedAnchor,
    WalletCredential,
)
from wallet.tenancy.mandates import active_mandate, mandate_grant
from wallet.tenancy.models import Organisation

LEGAL = {
    "register": {"registry_name": "Demo Handelsregister", "country": "NL"},
    "acme": {"euid": "NLNHR.12345678", "registry_id": "12345678",
             "registered_date": date(2009, 4, 1), "vat_id": "NL001234567B01",
             "lei": "724500VKKSH9QOLTFR81", "street": "Strijp-S 1", "postal_code": "5617 AB",
             "city": "Eindhoven", "country": "NL"},
    "recycle": {"euid": "NLNHR.87654321", "registry_id": "87654321",
                "registered_date": date(2015, 9, 15), "vat_id": "NL008765432B01",
                "street": "Havenweg 12", "postal_code": "3089 JH", "city": "Rotterdam",
                "country": "NL"},
}
STAFF_SCOPES = [Mandate.Scope.PASSPORTS_ISSUE, Mandate.Scope.PASSPORTS_REVOKE,
                Mandate.Scope.MESSAGES_SEND, Mandate.Scope.INVOICES_SEND]


@transaction.atomic
def ensure_demo_identities(organisations: dict[str, Organisation]) -> None:
    register = organisations["register"]
    TrustedAnchor.objects.get_or_create(organisation=register,
                                        defaults={"note": "demo business register"})
    for slug, fields in LEGAL.items():
        details, _ = LegalDetails.objects.get_or_create(organisation=organisations[slug])
        for name, value in fields.items():
            if not getattr(details, name):
                setattr(details, name, value)
        details.save()
    for slug in ("acme", "recycle"):
        holder = organisations[slug]
        if not AttestationRequest.objects.filter(organisation=holder, anchor=register).exists():
            attestation_approve(request=attestation_request(
                organisation=holder, anchor=register,
                evidence=f"Extract from the register, number {LEGAL[slug]['registry_id']}"),
                reason="demo: the extract matches")
    if not WalletCredential.objects.filter(kind=WalletCredential.Kind.ROLE,
                                           holder=organisations["recycle"]).exists():
        role_credential_issue(issuer=register, holder=organisations["recycle"],
                              role="authorised battery recycler",
                              access_group="legitimate_interest")


@transaction.atomic
def ensure_demo_mandates(organisations: dict[str, Organisation]) -> None:
    """The acme staff user may issue and revoke passports, send messages and invoices."""
    acme = organisations["acme"]
    user = get_user_model().objects.get(username="acme")
    for scope in STAFF_SCOPES:
        if active_mandate(user=user, organisation=acme, scope=scope) is None:
            mandate_grant(organisation=acme, scope=scope, user=user)
