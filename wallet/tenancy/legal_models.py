"""The wallet's legal side: who an organisation is (attested by a trust anchor), the credentials
it holds or issued, and who may act for it (mandates). Imported by wallet.models."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LegalDetails(models.Model):
    """An organisation as a legal person, as its business register knows it."""

    organisation = models.OneToOneField("wallet.Organisation", on_delete=models.CASCADE,
                                        related_name="legal")
    euid = models.CharField("EUID", max_length=64, blank=True,
                            help_text="European Unique Identifier, e.g. NLNHR.12345678.")
    registry_id = models.CharField(max_length=64, blank=True,
                                   help_text="National registry number, e.g. a KvK number.")
    registry_name = models.CharField(max_length=200, blank=True,
                                     help_text="e.g. Kamer van Koophandel (Handelsregister).")
    registered_date = models.DateField(null=True, blank=True,
                                       help_text="When the register first registered it.")
    lei = models.CharField("LEI", max_length=20, blank=True)
    vat_id = models.CharField("VAT id", max_length=20, blank=True)
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")

    class Meta:
        verbose_name = _("legal details")
        verbose_name_plural = _("legal details")

    def __str__(self) -> str:
        return f"{self.organisation.legal_name} ({self.registry_id or self.euid or '-'})"


class TrustedAnchor(models.Model):
    """The trust registry: anchors whose identity credentials this service believes. More can be
    named by DID in the TRUSTED_ANCHOR_DIDS setting."""

    organisation = models.OneToOneField("wallet.Organisation", on_delete=models.CASCADE,
                                        related_name="trusted_as_anchor")
    note = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("trusted anchor")
        verbose_name_plural = _("trusted anchors")

    def __str__(self) -> str:
        return f"trusted anchor {self.organisation.slug}"


class AttestationRequest(models.Model):
    """An organisation asks a trust anchor to attest that its DID is the registered legal person
    it claims to be; the anchor reviews the evidence and approves or rejects with a reason."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    organisation = models.ForeignKey("wallet.Organisation", on_delete=models.CASCADE,
                                     related_name="attestation_requests")
    anchor = models.ForeignKey("wallet.Organisation", on_delete=models.PROTECT,
                               related_name="attestations_to_review")
    evidence = models.TextField(help_text="What the anchor checks: extract number, documents.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    decision_reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("attestation request")
        verbose_name_plural = _("attestation requests")

    def __str__(self) -> str:
        return f"{self.organisation.slug} → {self.anchor.slug} [{self.state}]"


class WalletCredential(models.Model):
    """A credential an organisation issued, and (when it has a holder) one it holds."""

    class Kind(models.TextChoices):
        IDENTITY_ANCHOR = "identity_anchor", "UNTP Digital Identity Anchor"
        BUSINESS_IDENTITY = "business_identity", "EU business wallet identity (SD-JWT VC)"
        MANDATE = "mandate", "Mandate (power of representation)"
        ROLE = "role", "Access role (e.g. authorised recycler)"
        IMPORTED = "imported", "Imported from elsewhere"

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    format = models.CharField(max_length=16)  # "vc+jwt" or "dc+sd-jwt"
    issuer = models.ForeignKey("wallet.Organisation", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="issued_credentials",
                               help_text="The issuer, when it is an organisation here.")
    foreign_issuer = models.CharField(
        max_length=300, blank=True,
        help_text="An imported credential's issuer that is not on this service: its DID or "
                  "https identifier.")
    holder = models.ForeignKey("wallet.Organisation", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="held_credentials")
    credential_id = models.CharField(max_length=300, unique=True)
    credential = models.TextField(help_text="The secured credential (compact JWT / SD-JWT).")
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    state_reason = models.TextField(blank=True)
    status_list = models.ForeignKey("credentials.StatusList", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    status_index = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    attestation = models.ForeignKey(AttestationRequest, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="credentials")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("wallet credential")
        verbose_name_plural = _("wallet credentials")
        constraints = [
            models.UniqueConstraint(fields=["status_list", "status_index"],
                                    name="unique_wallet_status_entry"),
            # Exactly one issuer: an organisation here, or (imported only) one elsewhere.
            models.CheckConstraint(
                condition=(Q(issuer__isnull=False, foreign_issuer="")
                           | Q(issuer__isnull=True, kind="imported")
                           & ~Q(foreign_issuer="")),
                name="wallet_credential_has_one_issuer"),
        ]

    def __str__(self) -> str:
        issuer = self.issuer.slug if self.issuer else self.foreign_issuer
        return f"{self.get_kind_display()} {issuer}→{getattr(self.holder, 'slug', '-')}"

    @property
    def issuer_identifier(self) -> str:
        """The issuer's DID (an organisation here) or identifier (elsewhere)."""
        return self.issuer.did if self.issuer else self.foreign_issuer


class Mandate(models.Model):
    """A power of representation: an organisation lets a person or another organisation act
    for it within one scope, for a period, until suspended or revoked."""

    class Scope(models.TextChoices):
        PASSPORTS_ISSUE = "passports:issue", _("Issue passports")
        PASSPORTS_REVOKE = "passports:revoke", _("Revoke, suspend and reinstate passports")
        INVOICES_SEND = "invoices:send", _("Send e-invoices")
        MESSAGES_SEND = "messages:send", _("Send validated messages")

    State = WalletCredential.State

    organisation = models.ForeignKey("wallet.Organisation", on_delete=models.CASCADE,
                                     related_name="mandates_given")
    grantee_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="mandates")
    grantee_organisation = models.ForeignKey("wallet.Organisation", null=True, blank=True,
                                             on_delete=models.CASCADE,
                                             related_name="mandates_received")
    scope = models.CharField(max_length=32, choices=Scope.choices)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    state_reason = models.TextField(blank=True)
    credential = models.OneToOneField(WalletCredential, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="mandate")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")
        constraints = [
            models.CheckConstraint(
                condition=(Q(grantee_user__isnull=False, grantee_organisation__isnull=True)
                           | Q(grantee_user__isnull=True, grantee_organisation__isnull=False)),
                name="mandate_has_exactly_one_grantee"),
        ]

    def __str__(self) -> str:
        grantee = self.grantee_user or self.grantee_organisation
        return f"{self.organisation.slug}: {self.scope} → {grantee} [{self.state}]"
