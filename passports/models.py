import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credentials.models import KeyPair
from passports import gs1
from passports.categories import ACCESS_GROUPS
from wallet.tenancy.models import Organisation


class Product(models.Model):
    """A product (model, batch or item) of one organisation, identified by GS1 keys."""

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"),
                                     on_delete=models.PROTECT, related_name="products")
    gtin = models.CharField(_("GTIN"), max_length=14, validators=[gs1.validate_gtin14],
                            help_text=_("GTIN-8/12/13/14; stored as 14 digits."))
    lot = models.CharField(_("lot"), max_length=20, blank=True, validators=[gs1.validate_gs1_text],
                           help_text=_("Batch/lot number (GS1 AI 10)."))
    serial = models.CharField(_("serial number"), max_length=20, blank=True,
                              validators=[gs1.validate_gs1_text],
                              help_text=_("Serial number (GS1 AI 21)."))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=32)
    category_version = models.PositiveSmallIntegerField(_("category version"), default=1)
    facility_name = models.CharField(_("facility name"), max_length=200, blank=True)
    facility_id = models.URLField(_("facility ID"), blank=True,
                                  help_text=_("URI of the production facility."))
    country_of_production = models.CharField(_("country of production"), max_length=2, blank=True,
                                             help_text=_("ISO 3166-1 alpha-2 code."))
    production_date = models.DateField(_("production date"), null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
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
EVIDENCE_PATH = "/evidence/"  # + an evidence credential's id


def signed_credential_constraints(*, status_entry: str, signed: str) -> list:
    """The constraints every signed credential table holds, under the names its migration gave
    them: one credential per status list entry, and a JWT once it left `pending`/`failed`."""
    return [
        models.UniqueConstraint(fields=["status_list", "status_index"], name=status_entry),
        models.CheckConstraint(
            condition=models.Q(state__in=["pending", "failed"]) | ~models.Q(jwt=""), name=signed),
    ]


class SignedCredential(models.Model):
    """What a credential this service signs keeps, whatever it is about (a passport, an
    evidence credential): its state and why, the `vc+jwt` bytes, its entry in the issuer's
    Bitstring status list, the version that superseded it, and when. A subclass names its
    `public_path` and the constraint names (`signed_credential_constraints`)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ISSUED = "issued", _("Issued")
        FAILED = "failed", _("Failed")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    public_path = ""  # where the credential is served: PUBLIC_PATH, EVIDENCE_PATH, ...

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices,
                             default=State.PENDING, db_index=True)
    state_reason = models.TextField(_("reason for the state"), blank=True)
    jwt = models.TextField(_("JWT"), blank=True, help_text=_("The credential secured as vc+jwt."))
    status_list = models.ForeignKey("credentials.StatusList", verbose_name=_("status list"),
                                    null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    status_index = models.PositiveIntegerField(_("status index"), null=True, blank=True)
    superseded_by = models.ForeignKey("self", verbose_name=_("superseded by"), null=True,
                                      blank=True, on_delete=models.SET_NULL,
                                      related_name="supersedes")
    attempts = models.PositiveSmallIntegerField(_("signing attempts"), default=0)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def credential_url(self) -> str:
        """The credential's `id`: its public, dereferenceable address, for anyone and without
        a key (passports.views.passport_credential, passports.views_evidence). Passports signed
        before that address existed name their API address
        (`/api/v1/passports/<id>/credential`), which keeps working for API clients."""
        return self.credential_url_of(self.id)

    @classmethod
    def credential_url_of(cls, pk) -> str:
        """`credential_url` of the credential with primary key `pk`."""
        return f"{settings.PUBLIC_BASE_URL}{cls.public_path}{pk}"


class Passport(SignedCredential):
    public_path = PUBLIC_PATH

    # No index of their own for these three: each leads an index below (product: the unique
    # version; status_list: the unique status entry; state: state and created_at), and every
    # index costs each passport's insert and its two updates when it is signed (issue #20).
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT,
                                related_name="passports", db_index=False)
    state = models.CharField(_("state"), max_length=16, choices=SignedCredential.State.choices,
                             default=SignedCredential.State.PENDING)
    status_list = models.ForeignKey("credentials.StatusList", verbose_name=_("status list"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", db_index=False)
    version = models.PositiveIntegerField(_("version"))
    embedded = models.JSONField(_("with embedded proof"), null=True, blank=True,
                                help_text=_("The credential with an eddsa-rdfc-2022 proof "
                                            "(organisations that opt in)."))

    class Meta(SignedCredential.Meta):
        verbose_name = _("passport")
        verbose_name_plural = _("passports")
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="unique_passport_version"),
            *signed_credential_constraints(status_entry="unique_status_entry",
                                           signed="signed_unless_pending_or_failed"),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.product} v{self.version} [{self.state}]"


class RestrictedCredential(models.Model):
    """The attributes of one non-public access group, as a separate credential about the same
    product, given only to entitled partners."""

    passport = models.ForeignKey(Passport, verbose_name=_("passport"), on_delete=models.CASCADE,
                                 related_name="restricted_credentials")
    access_group = models.CharField(_("access group"), max_length=40)
    jwt = models.TextField(_("JWT"))

    class Meta:
        verbose_name = _("restricted credential")
        verbose_name_plural = _("restricted credentials")
        constraints = [models.UniqueConstraint(fields=["passport", "access_group"],
                                               name="one_credential_per_group")]

    def __str__(self) -> str:
        return f"{self.passport} [{self.access_group}]"


class CredentialEvent(models.Model):
    """One row per state change of a signed credential: who, when, what, why. A subclass adds
    the foreign key to its credential."""

    action = models.CharField(_("action"), max_length=32)
    from_state = models.CharField(_("from state"), max_length=16, blank=True)
    to_state = models.CharField(_("to state"), max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '-'} → {self.to_state}"


class PassportEvent(CredentialEvent):
    """One row per state change of a passport."""

    passport = models.ForeignKey(Passport, verbose_name=_("passport"), on_delete=models.CASCADE,
                                 related_name="events")

    class Meta(CredentialEvent.Meta):
        verbose_name = _("passport event")
        verbose_name_plural = _("passport events")


# The access groups that are not public: what an entitlement can give.
RESTRICTED_GROUPS = [(key, label) for key, label in ACCESS_GROUPS if key != "public"]


class Entitlement(models.Model):
    """A manufacturer lets a partner organisation read one restricted access group of its
    passports (e.g. a recycler `legitimate_interest`, a market surveillance authority
    `authorities`). Given in the admin by the manufacturer's staff."""

    manufacturer = models.ForeignKey(Organisation, verbose_name=_("manufacturer"),
                                     on_delete=models.CASCADE, related_name="entitlements_given")
    partner = models.ForeignKey(Organisation, verbose_name=_("partner"), on_delete=models.CASCADE,
                                related_name="entitlements_received")
    access_group = models.CharField(_("access group"), max_length=40, choices=RESTRICTED_GROUPS)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
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


class SigningKey(KeyPair):
    """The key store's keys as the admin lists them (a proxy: the credentials app stays free of
    the admin's knowledge of organisations)."""

    class Meta:
        proxy = True
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")


class EvidenceCredential(SignedCredential):
    """A UNTP 0.7.0 credential an organisation issues beside its passports: a Digital
    Conformity Credential (a conformity assessment body's attestation about another
    organisation's product or facility), a Digital Traceability Event (a product made from
    inputs) or a Digital Facility Record. Signed, versioned and revocable like a passport
    (passports.services.evidence)."""

    class Kind(models.TextChoices):
        CONFORMITY = "conformity", _("Digital Conformity Credential")
        TRACEABILITY = "traceability", _("Digital Traceability Event")
        FACILITY = "facility", _("Digital Facility Record")

    public_path = EVIDENCE_PATH

    organisation = models.ForeignKey(Organisation, verbose_name=_("issuer"),
                                     on_delete=models.PROTECT,
                                     related_name="evidence_credentials")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The versions of one credential share their first version's id.
    series = models.UUIDField(_("series"), default=uuid.uuid4, editable=False, db_index=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    subject = models.JSONField(_("subject"), default=dict,
                               help_text=_("What the credential says, as given by its issuer."))
    product = models.ForeignKey(Product, verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="evidence_credentials",
                                help_text=_("The issuer's own product an event is about."))

    class Meta(SignedCredential.Meta):
        verbose_name = _("evidence credential")
        verbose_name_plural = _("evidence credentials")
        constraints = [
            models.UniqueConstraint(fields=["series", "version"], name="unique_evidence_version"),
            *signed_credential_constraints(status_entry="unique_evidence_status_entry",
                                           signed="evidence_signed_unless_pending_or_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name} v{self.version} [{self.state}]"


class EvidenceEvent(CredentialEvent):
    """One row per state change of an evidence credential."""

    credential = models.ForeignKey(EvidenceCredential, verbose_name=_("credential"),
                                   on_delete=models.CASCADE, related_name="events")

    class Meta(CredentialEvent.Meta):
        verbose_name = _("evidence event")
        verbose_name_plural = _("evidence events")


class EvidenceLink(models.Model):
    """A link from a product's passport to a credential elsewhere (here or at another
    service), bound to it by the hash of its bytes: a conformity credential behind a claim
    (UNTP `performanceClaim[].evidence`), an input's passport or the traceability event that
    made the product (`relatedDocument`). The next passport version carries it."""

    class Role(models.TextChoices):
        CLAIM = "claim", _("Evidence of a claim")
        INPUT = "input", _("Input's passport")
        EVENT = "event", _("Traceability event")
        FACILITY = "facility", _("Facility record")

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="evidence_links")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    url = models.URLField(_("URL"), max_length=2000)
    name = models.CharField(_("name"), max_length=200)
    link_type = models.CharField(_("link type"), max_length=200)
    media_type = models.CharField(_("media type"), max_length=100, default="application/vc+jwt")
    digest = models.CharField(_("digest"), max_length=200,
                              help_text=_("Multibase SHA-256 of the linked credential's bytes."))
    claim = models.JSONField(_("claim"), default=dict, blank=True,
                             help_text=_("For evidence of a claim: the claim's topic, metric "
                                         "and value."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence link")
        verbose_name_plural = _("evidence links")
        ordering = ["product", "role", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "url"],
                                               name="one_link_per_url")]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.name}"
