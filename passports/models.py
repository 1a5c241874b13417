import uuid

from django.conf import settings
from django.db import models

from passports import gs1
from passports.categories import ACCESS_GROUPS
from wallet.tenancy.models import Organisation


class Product(models.Model):
    """A product (model, batch or item) of one organisation, identified by GS1 keys."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                     related_name="products")
    gtin = models.CharField("GTIN", max_length=14, validators=[gs1.validate_gtin14],
                            help_text="GTIN-8/12/13/14; stored as 14 digits.")
    lot = models.CharField(max_length=20, blank=True, validators=[gs1.validate_gs1_text],
                           help_text="Batch/lot number (GS1 AI 10).")
    serial = models.CharField(max_length=20, blank=True, validators=[gs1.validate_gs1_text],
                              help_text="Serial number (GS1 AI 21).")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=32)
    category_version = models.PositiveSmallIntegerField(default=1)
    facility_name = models.CharField(max_length=200, blank=True)
    facility_id = models.URLField(blank=True, help_text="URI of the production facility.")
    country_of_production = models.CharField(max_length=2, blank=True,
                                             help_text="ISO 3166-1 alpha-2 code.")
    production_date = models.DateField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gtin", "lot", "serial"], name="unique_gs1_key"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.gtin}{'/' + self.serial if self.serial else ''})"

    @property
    def digital_link(self) -> str:
        return gs1.digital_link(settings.PUBLIC_BASE_URL, self.gtin, lot=self.lot,
                                serial=self.serial)

    @property
    def granularity(self) -> str:
        return "item" if self.serial else "batch" if self.lot else "model"


PUBLIC_PATH = "/passports/"  # + a passport's id: its public, dereferenceable credential


class Passport(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ISSUED = "issued", "Issued"
        FAILED = "failed", "Failed"
        SUSPENDED = "suspended", "Suspended"
        REVOKED = "revoked", "Revoked"
        SUPERSEDED = "superseded", "Superseded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="passports")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING,
                             db_index=True)
    state_reason = models.TextField(blank=True)
    jwt = models.TextField(blank=True, help_text="The credential secured as vc+jwt.")
    embedded = models.JSONField(null=True, blank=True,
                                help_text="The credential with an eddsa-rdfc-2022 proof "
                                          "(organisations that opt in).")
    status_list = models.ForeignKey("credentials.StatusList", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    status_index = models.PositiveIntegerField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="supersedes")
    attempts = models.PositiveSmallIntegerField(default=0)
    issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="unique_passport_version"),
            models.UniqueConstraint(fields=["status_list", "status_index"],
                                    name="unique_status_entry"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "failed"]) | ~models.Q(jwt=""),
                name="signed_unless_pending_or_failed"),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.product} v{self.version} [{self.state}]"

    @property
    def credential_url(self) -> str:
        """The credential's `id`: its public address (passports.views.passport_credential),
        for anyone and without a key. Passports signed before it existed name their API
        address (`/api/v1/passports/<id>/credential`), which keeps working for API clients."""
        return f"{settings.PUBLIC_BASE_URL}{PUBLIC_PATH}{self.id}"


class RestrictedCredential(models.Model):
    """The attributes of one non-public access group, as a separate credential about the same
    product, given only to entitled partners."""

    passport = models.ForeignKey(Passport, on_delete=models.CASCADE,
                                 related_name="restricted_credentials")
    access_group = models.CharField(max_length=40)
    jwt = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["passport", "access_group"],
                                               name="one_credential_per_group")]

    def __str__(self) -> str:
        return f"{self.passport} [{self.access_group}]"


class PassportEvent(models.Model):
    """One row per state change: who, when, what, why."""

    passport = models.ForeignKey(Passport, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '-'} → {self.to_state}"


# The access groups that are not public: what an entitlement can give.
RESTRICTED_GROUPS = [(key, label) for key, label in ACCESS_GROUPS if key != "public"]


class Entitlement(models.Model):
    """A manufacturer lets a partner organisation read one restricted access group of its
    passports (e.g. a recycler `legitimate_interest`, a market surveillance authority
    `authorities`). Given in the admin by the manufacturer's staff."""

    manufacturer = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="entitlements_given")
    partner = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                related_name="entitlements_received")
    access_group = models.CharField(max_length=40, choices=RESTRICTED_GROUPS)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["manufacturer", "partner", "access_group"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "partner", "access_group"],
                                    name="one_entitlement_per_group"),
            models.CheckConstraint(condition=~models.Q(manufacturer=models.F("partner")),
                                   name="entitlement_to_another_organisation"),
            models.CheckConstraint(
                condition=models.Q(access_group__in=[key for key, _ in RESTRICTED_GROUPS]),
                name="entitlement_to_a_restricted_group"),
        ]

    def __str__(self) -> str:
        return f"{self.partner.slug} may read {self.access_group} of {self.manufacturer.slug}"


class IssuedStatusEntry(models.Model):
    """A status entry the VC-API allocated for a credential it issued (`options.credentialStatus`),
    so the issuer can later change it through `POST /credentials/status`. Nothing else of the
    credential is kept."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="issued_status_entries")
    credential_id = models.CharField(max_length=2000)
    status_list = models.ForeignKey("credentials.StatusList", on_delete=models.PROTECT,
                                    related_name="+")
    index = models.PositiveIntegerField()
    purpose = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "credential_id"])]
        constraints = [models.UniqueConstraint(fields=["status_list", "index"],
                                               name="one_credential_per_status_entry")]

    def __str__(self) -> str:
        return f"{self.credential_id} {self.purpose} {self.status_list_id}#{self.index}"
