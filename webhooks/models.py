import uuid

from django.conf import settings
from django.db import models

from core import events
from wallet.tenancy.models import Organisation


class Subscription(models.Model):
    """An organisation's endpoint and the events it wants. The signing secret (`whsec_...`) is
    shown once, when the subscription is made; it is stored encrypted (KEY_ENCRYPTION_KEY, like
    signing keys)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="webhook_subscriptions")
    url = models.URLField("URL", max_length=2000)
    events = models.JSONField(default=list, help_text="Event types: " + ", ".join(events.KINDS))
    description = models.CharField(max_length=200, blank=True)
    wrapped_secret = models.BinaryField(editable=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "created_at"]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.url}"


class Delivery(models.Model):
    """One event sent to one subscription: its signed body and how sending it went."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    event_id = models.CharField(max_length=64, help_text="The webhook-id header.")
    event_type = models.CharField(max_length=40)
    body = models.TextField(help_text="The JSON sent, byte for byte.")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    committed_at = models.DateTimeField(help_text="When the change the event tells of "
                                                  "committed.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="Being sent by a worker, which has it until then; "
                                         "after that (the worker died) it is sent again.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-committed_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.subscription.url} [{self.state}]"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: the answer's status (or the error) and the latency."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status or self.error}"
