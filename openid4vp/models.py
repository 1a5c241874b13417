"""The Verifier's state: its certificate, the presentation requests organisations make, and
the presentations it has received (to refuse a replay)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class VerifierCertificate(models.Model):
    """A certificate the service made for its own key (used when no certificate is
    configured): the Verifier's, issued by the service's Verifier CA, and that CA's
    self-signed root. The keys live in the key store (credentials.KeyPair, wrapped at rest)."""

    key_controller = models.CharField(max_length=300)
    key_id = models.CharField(max_length=64)
    certificate = models.BinaryField(help_text="DER.")
    x509_hash = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["key_controller", "key_id"],
                                               name="one_certificate_per_key")]

    def __str__(self) -> str:
        return f"x509_hash:{self.x509_hash} ({self.host})"


class PresentationRequest(models.Model):
    """One OpenID4VP Authorization Request (a DCQL query) and what came back.

    `state` and `nonce` are fresh random values (OpenID4VP 1.0 §5.2, §14.1); `request_token`
    names the request object at the `request_uri`. For `direct_post.jwt` the response is
    encrypted to a key made for this request (its private part wrapped at rest, and deleted once
    the request is answered). The first response decides the outcome; a request is never
    answered twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the wallet"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    class ResponseMode(models.TextChoices):
        DIRECT_POST = "direct_post", "direct_post"
        DIRECT_POST_JWT = "direct_post.jwt", "direct_post.jwt (encrypted)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("wallet.Organisation", null=True, blank=True,
                                     on_delete=models.CASCADE,
                                     related_name="presentation_requests",
                                     help_text="Who asked; only they see the result. None: "
                                               "the service itself (a login with a wallet).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    api_token = models.ForeignKey("wallet.ApiToken", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    purpose = models.CharField(max_length=500, help_text="Why the data is asked for (shown to "
                                                         "the holder).")
    dcql_query = models.JSONField()
    response_mode = models.CharField(max_length=16, choices=ResponseMode.choices)
    # x509_san_dns:<DNS name>: 13 + up to 253 characters.
    client_id = models.CharField(max_length=300, help_text="The Verifier's client id when the "
                                 "request was made (x509_hash:<hash> or x509_san_dns:<host>); "
                                 "a presentation's KB-JWT aud must equal it.")
    request_token = models.CharField(max_length=64, unique=True, editable=False)
    state = models.CharField(max_length=64, unique=True, editable=False)
    nonce = models.CharField(max_length=64, editable=False)
    request_object = models.TextField(editable=False, help_text="The signed request (JWT).")
    encryption_jwk = models.JSONField(null=True, blank=True, editable=False)
    encryption_kid = models.CharField(max_length=32, null=True, blank=True, unique=True,
                                      editable=False, help_text="The `kid` of encryption_jwk: "
                                                                "finds the request of a JWE.")
    wrapped_encryption_key = models.BinaryField(null=True, blank=True, editable=False)
    redirect_uri = models.URLField(max_length=500, blank=True,
                                   help_text="Where the wallet sends the user afterwards.")
    response_code = models.CharField(max_length=64, blank=True, editable=False,
                                     help_text="Added to the redirect_uri; matches the "
                                               "redirect to this result.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=64, blank=True,
                                  help_text="Stable code of the failure (e.g. replay, revoked).")
    reason = models.TextField(blank=True, help_text="Why it failed, in words.")
    wallet_error = models.CharField(max_length=64, blank=True,
                                    help_text="The error the wallet answered with, if any.")
    result = models.JSONField(default=dict, blank=True,
                              help_text="Each credential's verdict and the disclosed claims.")
    context = models.JSONField(default=dict, blank=True,
                               help_text="What the request is for inside the service (e.g. "
                                         "access to a passport's restricted data).")
    read_secret_hash = models.CharField(max_length=64, blank=True, db_index=True,
                                        editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    fetched_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When a wallet first fetched the request.")
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "-created_at"],
                                name="presentation_request_by_org")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "verified", "failed", "expired"]),
                name="presentation_request_status_known"),
            models.CheckConstraint(
                condition=Q(response_mode="direct_post")
                | Q(response_mode="direct_post.jwt", encryption_jwk__isnull=False),
                name="encrypted_response_has_a_key"),
            # The private key of an encrypted request lives only while the request waits.
            models.CheckConstraint(
                condition=Q(status="pending") | Q(wrapped_encryption_key__isnull=True),
                name="answered_request_keeps_no_key"),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(responded_at__isnull=False),
                name="answered_request_has_a_time"),
        ]

    def __str__(self) -> str:
        who = self.organisation.slug if self.organisation_id else "service"
        return f"{who}: {self.purpose[:40]} [{self.current_status}]"

    @property
    def current_status(self) -> str:
        """The status, with a pending request past its expiry shown as expired."""
        if self.status == self.Status.PENDING and timezone.now() >= self.expires_at:
            return self.Status.EXPIRED
        return self.status


class PresentationEvent(models.Model):
    """One row per thing that happened to a request (audit trail)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        FETCHED = "fetched", "Request object fetched"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Answered after expiry"
        REFUSED = "refused", "Response refused (request already answered)"
        READ = "read", "Result read with the one-time secret"

    request = models.ForeignKey(PresentationRequest, on_delete=models.CASCADE,
                                related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    detail = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class ReceivedPresentation(models.Model):
    """The SHA-256 of every presentation received, so the same presentation is never
    accepted twice (a replay into another request is refused naming it)."""

    digest = models.CharField(max_length=64, unique=True)
    request = models.ForeignKey(PresentationRequest, on_delete=models.CASCADE,
                                related_name="presentations")
    credential_query_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.digest[:12]}… → {self.request_id}"
