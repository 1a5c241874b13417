"""Back-up providers (docs/backup.md). Every instance can play both roles:

- as a **primary**, it pushes its signed documents to the `BackupProvider`s it has, and keeps
  per provider what the provider acknowledged (`Acknowledgement`), so what is pending is
  always "signed here, not acknowledged there": resumable after either side was down, and
  nothing is sent again once acknowledged;
- as a **back-up provider**, it accepts pushes from the `ReplicationSource`s (primaries) it was
  told of, keeps one `Replica` per document path, and serves them read-only."""

import uuid

from django.db import models

from credentials.models import StatusList
from passports.models import EvidenceCredential, Passport


class BackupProvider(models.Model):
    """Another instance of this service that keeps a copy of ours. The push secret (from the
    provider, made there with `manage.py replication_source`) is stored encrypted
    (KEY_ENCRYPTION_KEY, like signing keys)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    url = models.URLField("URL", max_length=500, unique=True,
                          help_text="The provider's PUBLIC_BASE_URL (https).")
    source_id = models.UUIDField(help_text="Our id at the provider.")
    wrapped_secret = models.BinaryField(editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Pushes failed in a row.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    pushing_until = models.DateTimeField(null=True, blank=True,
                                         help_text="A push holds the provider until then.")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


class Acknowledgement(models.Model):
    """One document a provider confirmed holding, at the revision it holds: a passport version
    or an evidence credential (its `updated_at`), a status list (its `published_at`) or a DID
    document (its digest)."""

    provider = models.ForeignKey(BackupProvider, on_delete=models.CASCADE,
                                 related_name="acknowledgements")
    passport = models.ForeignKey(Passport, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    status_list = models.ForeignKey(StatusList, null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    evidence = models.ForeignKey(EvidenceCredential, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    did = models.CharField(max_length=300, blank=True)
    revision = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(max_length=64, blank=True)
    acknowledged_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "passport"],
                                    condition=models.Q(passport__isnull=False),
                                    name="one_acknowledgement_per_passport"),
            models.UniqueConstraint(fields=["provider", "status_list"],
                                    condition=models.Q(status_list__isnull=False),
                                    name="one_acknowledgement_per_status_list"),
            models.UniqueConstraint(fields=["provider", "evidence"],
                                    condition=models.Q(evidence__isnull=False),
                                    name="one_acknowledgement_per_evidence"),
            models.UniqueConstraint(fields=["provider", "did"], condition=~models.Q(did=""),
                                    name="one_acknowledgement_per_did"),
        ]

    def __str__(self) -> str:
        held = self.passport_id or self.evidence_id or self.status_list_id or self.did
        return f"{self.provider_id} holds {held} at {self.revision or self.digest}"


class ReplicationSource(models.Model):
    """A primary this instance is the back-up provider of: its address and the secret its
    pushes are signed with (stored encrypted)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    origin = models.URLField(max_length=500, unique=True,
                             help_text="The primary's PUBLIC_BASE_URL.")
    wrapped_secret = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_push_at = models.DateTimeField(null=True, blank=True,
                                        help_text="When the primary last pushed (or said it "
                                                  "was alive).")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.origin})"


class Replica(models.Model):
    """A primary's signed document, served read-only at the same path under our host."""

    class Kind(models.TextChoices):
        PASSPORT = "passport", "Passport credential"
        STATUS_LIST = "status_list", "Status list"
        DID_DOCUMENT = "did_document", "DID document"
        EVIDENCE = "evidence", "Evidence credential"

    source = models.ForeignKey(ReplicationSource, on_delete=models.CASCADE,
                               related_name="replicas")
    path = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    media_type = models.CharField(max_length=60)
    body = models.TextField(help_text="The signed bytes, as the primary serves them.")
    embedded = models.JSONField(null=True, blank=True,
                                help_text="A passport's credential with its embedded proof.")
    meta = models.JSONField(default=dict, blank=True)
    revision = models.CharField(max_length=64, help_text="The primary's revision of it.")
    signed_at = models.DateTimeField(null=True, blank=True,
                                     help_text="When the primary signed this version (status "
                                               "lists).")
    received_at = models.DateTimeField(auto_now=True)
    writes = models.PositiveIntegerField(default=0, help_text="Times a push stored a new "
                                                              "revision of it.")

    class Meta:
        ordering = ["source", "path"]
        constraints = [models.UniqueConstraint(fields=["source", "path"],
                                               name="one_replica_per_path")]
        indexes = [models.Index(fields=["path"])]

    def __str__(self) -> str:
        return f"{self.source.origin}{self.path}"
