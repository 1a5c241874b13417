from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Lower-case letters, digits and inner hyphens only: the slug is part of the DID.",
)


class Organisation(models.Model):
    """A legal person using the service: manufacturer, partner or trust anchor."""

    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator],
                            help_text="Part of the organisation's did:web; chosen once.")
    legal_name = models.CharField(max_length=200)
    is_trust_anchor = models.BooleanField(
        default=False, help_text="A business register that attests other organisations."
    )
    embedded_proof = models.BooleanField(
        default=False, help_text="Also secure passports with an eddsa-rdfc-2022 Data Integrity "
                                 "proof (in addition to vc+jwt; slower to issue).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.slug})"

    @property
    def did(self) -> str:
        from credentials.did_web import organisation_did

        return organisation_did(self.slug)


class Member(models.Model):
    """A person (Django user) working for one organisation."""

    class Role(models.TextChoices):
        STAFF = "staff", "Staff"
        ADMIN = "admin", "Organisation administrator"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="members")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation.slug}"

from wallet.identity_models import (  # noqa: E402,F401 - models of the wallet's legal side
    AttestationRequest,
    LegalDetails,
    Mandate,
    TrustedAnchor,
    WalletCredential,
)
