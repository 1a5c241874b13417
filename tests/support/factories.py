"""Small builders for passport tests: organisations with a staff member, valid attribute sets."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from passports import categories
from tests.support.attributes import sample_value
from wallet.tenancy.legal_models import LegalDetails, Mandate, TrustedAnchor
from wallet.tenancy.mandates import mandate_grant
from wallet.tenancy.models import Member, Organisation
from wallet.tenancy.services import organisation_create

# Valid GTIN-14s (check digit computed by GS1's algorithm).
GTINS = ["09506000134352", "04006381333931", "00012345678905", "05901234123457"]


def required_attributes(category_name: str) -> dict:
    """The required attributes of a category's latest version, each with a valid value."""
    category = categories.get(category_name)
    return {item.key: sample_value(item) for item in category.attributes if item.required}


def battery_attributes(**overrides) -> dict:
    return {**required_attributes("battery"), "ratedCapacity": 50, **overrides}


def organisation(slug: str, legal_name: str | None = None) -> Organisation:
    return organisation_create(slug=slug, legal_name=legal_name or f"{slug.title()} B.V.")


def acme_with_legal_details() -> Organisation:
    """Acme Batteries B.V. with every legal detail an identity credential can carry."""
    org = organisation("acme", "Acme Batteries B.V.")
    LegalDetails.objects.create(organisation=org, euid="NLNHR.12345678", registry_id="12345678",
                                vat_id="NL001234567B01", lei="724500VKKSH9QOLTFR81",
                                street="Stationsplein 1", postal_code="5611 AB",
                                city="Eindhoven", country="NL")
    return org


def trust_anchor(slug: str = "register", legal_name: str = "Demo Business Register", *,
                 registry_name: str = "") -> Organisation:
    """An organisation flagged as trust anchor and listed in the trust registry; with
    `registry_name`, the register's name in its legal details (the credentials' idScheme)."""
    anchor = organisation(slug, legal_name)
    anchor.is_trust_anchor = True
    anchor.save()
    if registry_name:
        LegalDetails.objects.create(organisation=anchor, registry_name=registry_name)
    TrustedAnchor.objects.create(organisation=anchor)
    return anchor


def staff_member(org: Organisation, username: str, *, apps=("passports", "wallet"),
                 mandates=(Mandate.Scope.PASSPORTS_ISSUE, Mandate.Scope.PASSPORTS_REVOKE)):
    """A staff user (not a superuser) of `org` with every permission on the models of `apps`
    and, by default, mandates to issue and revoke passports (docs/architecture.md, Business
    wallet)."""
    # No password: tests log in with force_login, and hashing one costs a second.
    user = get_user_model().objects.create_user(username=username, is_staff=True)
    Member.objects.create(user=user, organisation=org)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=apps))
    for scope in mandates:
        mandate_grant(organisation=org, scope=scope, user=user)
    return user


def key_holder(org: Organisation, scopes=Mandate.Scope.values):
    """A member of `org` who may make a key with `scopes` (a key can do no more than its
    maker): an organisation administrator holding the mandates of those scopes."""
    username = f"{org.slug}-key-holder"
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = staff_member(org, username, mandates=())
        Member.objects.filter(user=user).update(role=Member.Role.ADMIN)
    held = set(Mandate.objects.filter(grantee_user=user, organisation=org,
                                      state=Mandate.State.ACTIVE).values_list("scope", flat=True))
    for scope in sorted(set(scopes) & set(Mandate.Scope.values) - held):
        mandate_grant(organisation=org, scope=scope, user=user)
    return user


def api_key(org: Organisation, scopes=None, *, name: str = "test"):
    """(token, key): an API key of `org` made by its key holder, with `scopes` (default: every
    scope the organisation may have; anchor scopes only for trust anchors)."""
    from wallet.tenancy.api_tokens import api_token_create
    from wallet.tenancy.authority import ANCHOR_SCOPES, actor_of
    from wallet.tenancy.models import ApiToken

    if scopes is None:
        scopes = [scope for scope in ApiToken.Scope.values
                  if org.is_trust_anchor or scope not in ANCHOR_SCOPES]
    return api_token_create(actor=actor_of(key_holder(org, scopes)), organisation=org,
                            name=name, scopes=list(scopes))
