"""Writes on organisations and members (reads are in selectors.py)."""

from django.db import transaction

from credentials.key_store import ensure_key
from wallet.tenancy.models import Organisation


@transaction.atomic
def organisation_create(*, slug: str, legal_name: str, is_trust_anchor: bool = False,
                        **fields) -> Organisation:
    organisation = Organisation(slug=slug, legal_name=legal_name,
                                is_trust_anchor=is_trust_anchor, **fields)
    organisation.full_clean()
    organisation.save()
    ensure_key(organisation.did)
    return organisation


def organisation_ensure_key(organisation: Organisation) -> None:
    ensure_key(organisation.did)
