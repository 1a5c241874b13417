from wallet.tenancy.models import Organisation


def organisation_of(user) -> Organisation | None:
    """The organisation a user acts for, or None (superusers and outsiders)."""
    membership = getattr(user, "membership", None)
    return membership.organisation if membership else None
