"""Who may see what through the API: the object-level rules, in one place.

- Products are visible to their own organisation only.
- Passports are visible to their own organisation, and, once signed, to partner organisations
  the manufacturer has entitled to at least one restricted access group.
- A restricted group's credential is given to the manufacturer and to partners entitled to that
  group.
- Anything a client cannot see answers 404, exactly like what does not exist, so the API does
  not tell other organisations what exists. What a client can see but may not do answers 403
  (an entitled partner asking for a group it is not entitled to, or trying to revoke)."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from rest_framework import exceptions

from passports.models import (
    RESTRICTED_GROUPS,
    Entitlement,
    Passport,
    Product,
    RestrictedCredential,
)

SIGNED_STATES = (Passport.State.ISSUED, Passport.State.SUSPENDED, Passport.State.REVOKED,
                 Passport.State.SUPERSEDED)
RESTRICTED_GROUP_KEYS = frozenset(key for key, _label in RESTRICTED_GROUPS)


def products_of(client) -> QuerySet[Product]:
    return Product.objects.filter(organisation=client.organisation)


def product_of(client, product_id) -> Product:
    pk = _int_or_none(product_id)
    product = products_of(client).filter(pk=pk).first() if pk is not None else None
    if product is None:
        raise exceptions.NotFound("No such product.", code="not_found")
    return product


def passports_of(client) -> QuerySet[Passport]:
    """Own passports, and the signed passports of manufacturers that entitled the client."""
    organisation = client.organisation
    entitled_by = Entitlement.objects.filter(partner=organisation).values("manufacturer")
    return (Passport.objects
            .filter(Q(product__organisation=organisation)
                    | Q(product__organisation__in=entitled_by, state__in=SIGNED_STATES))
            .select_related("product__organisation", "superseded_by"))


def passport_of(client, passport_id) -> Passport:
    try:
        pk = uuid.UUID(str(passport_id))
    except ValueError:
        raise exceptions.NotFound("No such passport.", code="not_found") from None
    passport = passports_of(client).filter(pk=pk).first()
    if passport is None:
        raise exceptions.NotFound("No such passport.", code="not_found")
    return passport


def is_owner(client, passport: Passport) -> bool:
    return passport.product.organisation_id == client.organisation.pk


def require_owner(client, passport: Passport) -> None:
    """Changes are for the manufacturer only (an entitled partner sees, but does not change)."""
    if not is_owner(client, passport):
        raise exceptions.PermissionDenied("Only the manufacturer changes its passports.",
                                          code="not_owner")


def readable_groups(client, organisation_ids) -> dict[int, frozenset[str]]:
    """organisation id → the restricted groups the client may read of its passports."""
    groups: dict[int, set[str]] = {pk: set() for pk in organisation_ids}
    if client.organisation.pk in groups:
        groups[client.organisation.pk] = set(RESTRICTED_GROUP_KEYS)
    for manufacturer, group in Entitlement.objects.filter(
            partner=client.organisation, manufacturer__in=organisation_ids,
    ).values_list("manufacturer", "access_group"):
        groups[manufacturer].add(group)
    return {pk: frozenset(value) for pk, value in groups.items()}


def restricted_credential_of(client, passport: Passport, group: str) -> RestrictedCredential:
    if group not in RESTRICTED_GROUP_KEYS:
        raise exceptions.NotFound(f"No restricted access group {group!r}; the groups are "
                                  f"{', '.join(sorted(RESTRICTED_GROUP_KEYS))}.",
                                  code="unknown_access_group")
    organisation_id = passport.product.organisation_id
    if group not in readable_groups(client, [organisation_id])[organisation_id]:
        raise exceptions.PermissionDenied(
            f"Your organisation is not entitled to the {group!r} data of this manufacturer.",
            code="not_entitled")
    credential = passport.restricted_credentials.filter(access_group=group).first()
    if credential is None:
        raise exceptions.NotFound(f"This passport has no {group!r} data.",
                                  code="no_restricted_data")
    return credential


def _int_or_none(value) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None
