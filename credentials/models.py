from django.db import models


class KeyPair(models.Model):
    """A signing key of a DID controller (an organisation or the service itself).

    The private key is stored only wrapped (AES-256-GCM under KEY_ENCRYPTION_KEY, with the key's
    verification-method id as associated data). Rotation retires a key: it stops signing but
    stays in the DID document so that what it signed still verifies."""

    class KeyType(models.TextChoices):
        ED25519 = "Ed25519", "Ed25519"
        P256 = "P-256", "P-256 (ES256)"

    controller = models.CharField(max_length=300, db_index=True, help_text="The DID.")
    key_id = models.CharField(max_length=64, help_text="Fragment of the verification method.")
    key_type = models.CharField(max_length=16, choices=KeyType.choices,
                                default=KeyType.ED25519)
    public_key_multibase = models.CharField(max_length=128)
    wrapped_private_key = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["controller", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["controller", "key_id"], name="unique_key_per_did"),
            models.UniqueConstraint(fields=["controller"], condition=models.Q(retired_at=None),
                                    name="one_active_key_per_did"),
        ]

    def __str__(self) -> str:
        return self.verification_method

    @property
    def verification_method(self) -> str:
        return f"{self.controller}#{self.key_id}"
