"""Demo organisations and users (docs/architecture.md, Demo data). Idempotent: running it again
changes nothing."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from wallet.tenancy.models import Member, Organisation
from wallet.tenancy.services import organisation_create, organisation_ensure_key

DEMO_ORGANISATIONS = [
    {"slug": "register", "legal_name": "Demo Business Register", "is_trust_anchor": True},
    {"slug": "acme", "legal_name": "Acme Batteries B.V.", "is_trust_anchor": False},
    {"slug": "recycle", "legal_name": "Recycle Partners B.V.", "is_trust_anchor": False},
]
STAFF_GROUP = "Organisation staff"
# Development-only logins, printed by `make run`; refused when DEBUG is off.
DEMO_USERS = [
    {"username": "admin", "password": "admin", "superuser": True, "organisation": None},
    {"username": "acme", "password": "acme", "superuser": False, "organisation": "acme"},
]


@transaction.atomic
def ensure_demo_organisations() -> dict[str, Organisation]:
    organisations = {}
    for spec in DEMO_ORGANISATIONS:
        organisation = Organisation.objects.filter(slug=spec["slug"]).first()
        if organisation is None:
            organisation = organisation_create(**spec)
        organisation_ensure_key(organisation)
        organisations[organisation.slug] = organisation
    return organisations


@transaction.atomic
def ensure_demo_users(organisations: dict[str, Organisation]) -> None:
    if not settings.DEBUG:
        raise RuntimeError("demo users with known passwords are for development only (DEBUG=1)")
    User = get_user_model()
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec["username"],
            defaults={"is_staff": True, "is_superuser": spec["superuser"]},
        )
        if created:
            user.set_password(spec["password"])
            user.save(update_fields=["password"])
        if spec["organisation"]:
            Member.objects.get_or_create(
                user=user, defaults={"organisation": organisations[spec["organisation"]]}
            )
            user.groups.add(staff_group())


def staff_group() -> Group:
    """Organisation staff: every permission on the passport, wallet and EU-wallet (OpenID4VCI
    offers, OpenID4VP requests) models. What they see is scoped to their organisation by the
    admin, and acting needs a mandate (docs/architecture.md, Business wallet)."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.set(Permission.objects.filter(
        content_type__app_label__in=["passports", "wallet", "openid4vci", "openid4vp"]))
    return group
