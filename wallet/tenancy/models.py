from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scopes import Scope

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
    is_conformity_assessment_body = models.BooleanField(
        default=False, help_text="An independent assessment body (e.g. a test laboratory) that "
                                 "issues Digital Conformity Credentials about other "
                                 "organisations' products and facilities.")
    embedded_proof = models.BooleanField(
        default=False, help_text="Also secure passports with an eddsa-rdfc-2022 Data Integrity "
                                 "proof (in addition to vc+jwt; slower to issue).")
    wallet_login_required = models.BooleanField(
        default=False, help_text="Staff log in only with a mandate from their wallet (no "
                                 "passwords); the operator's account is not affected.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["legal_name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.slug})"

    @property
    def did(self) -> str:
        from credentials.did_web import organisation_did

        return organisation_did(self.slug)


class Member(models.Model):
    """A person (Django user) working for one organisation."""

    class Role(models.TextChoices):
        STAFF = "staff", _("Staff")
        ADMIN = "admin", _("Organisation administrator")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="members")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation.slug}"

class ApiToken(models.Model):
    """An API key of an organisation (docs/architecture.md, API keys: `Authorization: Token <key>`).

    Only a SHA-256 of the key is stored. That is the right hash here, unlike for passwords: the
    key is 256 random bits made by the service, so there is nothing to guess and no need for a
    slow, salted hash; a fast one keeps every request at one indexed lookup. The key itself is
    shown once, when it is created. `prefix` (its first characters) tells keys apart in lists."""

    Scope = Scope  # core/scopes.py: the scopes of every app's operations

    PREFIX_LENGTH = 8

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “ERP export”.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False,
                              help_text="The first characters of the key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, blank=True,
                              help_text="What the key may do (see ApiToken.Scope).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.organisation.slug}: {self.name} ({self.prefix}…)"

    def clean(self):
        super().clean()
        if not isinstance(self.scopes, list) or not all(isinstance(s, str) for s in self.scopes):
            raise ValidationError({"scopes": "A list of scope names."}, code="invalid")
        unknown = sorted(set(self.scopes) - set(self.Scope.values))
        if unknown:
            raise ValidationError({"scopes": f"Unknown scopes: {', '.join(unknown)}."},
                                  code="unknown_scope")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

