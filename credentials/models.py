from django.db import models


class KeyPair(models.Model):
    """A signing key of a DID controller (an organisation or the service itself).

    The private key is stored only wrapped (AES-256-GCM under KEY_ENCRYPTION_KEY, with the key's
    verification-method id as associated data). A DID has at most one active key of each type
    (Ed25519 for EdDSA, the default; P-256 for ES256, which EU wallets expect). Rotation retires
    a key: it stops signing but stays in the DID document so that what it signed still
    verifies. A key declared compromised from `compromised_at` on also stops signing; the DID
    document marks it `revoked`, and what it signed verifies only when the signing log
    (SignatureRecord) shows it was made before then (docs/keys.md)."""

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
    compromised_at = models.DateTimeField(
        null=True, blank=True, help_text="From when on the key is no longer trusted.")
    compromise_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["controller", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["controller", "key_id"], name="unique_key_per_did"),
            models.UniqueConstraint(fields=["controller", "key_type"],
                                    condition=models.Q(retired_at=None),
                                    name="one_active_key_per_did_and_type"),
        ]

    def __str__(self) -> str:
        return self.verification_method

    @property
    def verification_method(self) -> str:
        return f"{self.controller}#{self.key_id}"


class SignatureRecord(models.Model):
    """The signing log: one row per signature a key of ours made (its SHA-256 and when).

    Written in the transaction that signs, so what is stored signed is logged. After a key is
    declared compromised, a signature by it verifies only when it is found here with a time
    before the compromise: the time in the signed data is the signer's word, and a thief
    writes any time he likes."""

    id = models.BigAutoField(primary_key=True)
    key = models.ForeignKey(KeyPair, on_delete=models.CASCADE, related_name="+",
                            db_index=False)  # leading column of signature_by_key
    digest = models.BinaryField(max_length=32)
    signed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "digest"], name="signature_by_key")]

    def __str__(self) -> str:
        return f"{self.key_id}: {bytes(self.digest).hex()[:16]}… at {self.signed_at}"


class StatusList(models.Model):
    """One status list of one issuer: a W3C Bitstring Status List (1 bit per entry, one purpose)
    or an IETF Token Status List (2 bits: valid / invalid / suspended).

    Indexes are handed out through a keyed pseudo-random permutation of a counter, so they are
    unique without a lookup and neighbouring credentials get unrelated indexes."""

    class Kind(models.TextChoices):
        BITSTRING = "bitstring", "W3C Bitstring Status List"
        TOKEN = "token", "IETF Token Status List"

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", "Revocation"
        SUSPENSION = "suspension", "Suspension"
        STATUS = "status", "Status (valid / invalid / suspended)"

    id = models.UUIDField(primary_key=True, editable=False)
    issuer = models.CharField(max_length=300, db_index=True, help_text="The issuer's DID.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    size = models.PositiveIntegerField(help_text="Number of entries.")
    bits_per_entry = models.PositiveSmallIntegerField(default=1)
    statuses = models.BinaryField(editable=False, help_text="Raw, uncompressed status bits.")
    allocated = models.PositiveIntegerField(default=0)
    permutation_key = models.BinaryField(editable=False)
    version = models.PositiveBigIntegerField(default=0, help_text="Bumped on every change.")
    published_version = models.PositiveBigIntegerField(default=0)
    published = models.TextField(blank=True, help_text="The last signed list (compact JWT).")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["issuer", "created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(allocated__lte=models.F("size")),
                                   name="status_list_not_overfull"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.purpose} {self.id} ({self.allocated}/{self.size})"


class StatusChange(models.Model):
    """A status change recorded but not yet folded into its list's bits.

    Changes are appended in the transaction that decides them (no lock on the list, so many
    requests revoke at once); the publisher folds them into `StatusList.statuses` under the
    list's row lock and deletes exactly the rows it applied, in the same transaction. A change
    is therefore either pending here or in the bits, never lost. `value` is the entry's new
    status (absolute, not a toggle), applied in id order."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by status_change_by_list below (its leading column).
    status_list = models.ForeignKey(StatusList, on_delete=models.CASCADE,
                                    related_name="changes", db_index=False)
    index = models.PositiveIntegerField()
    value = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status_list", "id"], name="status_change_by_list")]

    def __str__(self) -> str:
        return f"{self.status_list_id}[{self.index}] := {self.value}"
