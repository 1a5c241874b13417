"""Credential offers (OpenID4VCI 1.0, pre-authorized code flow) and what became of them.

One offer is one issuance: staff offer one credential configuration of one source (a mandate, a
business identity, an entitlement, a passport) to a wallet made by others; the wallet redeems
the pre-authorized code for an access token, proves its key and receives the credential (at once,
or later when a review is still open). Every bearer secret of the flow (the offer handle, the
pre-authorized code, the transaction code, the access token, the transaction id) is stored only
as a hash; each step is an event row."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

MAX_TX_CODE_FAILURES = 5  # wrong transaction codes after which the offer is dead


class CredentialOffer(models.Model):
    class Configuration(models.TextChoices):
        BUSINESS_IDENTITY = "business_identity", "Business identity (EU business wallet)"
        MANDATE = "mandate", "Mandate (power of representation)"
        ACCESS_ROLE = "access_role", "Access role (entitled partner)"
        PRODUCT_PASSPORT = "product_passport", "Product passport"

    class State(models.TextChoices):
        OFFERED = "offered", "Offered"
        TOKEN_ISSUED = "token_issued", "Token issued"
        DEFERRED = "deferred", "Deferred (waiting for a review)"
        ISSUED = "issued", "Issued"
        EXPIRED = "expired", "Expired"
        LOCKED = "locked", "Locked (too many wrong transaction codes)"
        DENIED = "denied", "Denied"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey("wallet.Organisation", on_delete=models.PROTECT,
                               related_name="credential_offers")
    configuration = models.CharField(max_length=32, choices=Configuration.choices)
    # The source: exactly the one its configuration needs.
    mandate = models.ForeignKey("wallet.Mandate", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    wallet_credential = models.ForeignKey(
        "wallet.WalletCredential", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text="A business identity credential the anchor issued.")
    attestation = models.ForeignKey(
        "wallet.AttestationRequest", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text="An attestation request (its review may still be open).")
    entitlement = models.ForeignKey(
        "passports.Entitlement", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="Withdrawing the entitlement revokes the role credential.")
    passport = models.ForeignKey("passports.Passport", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=200, blank=True,
                            help_text="Access role: the role the partner has, in words.")
    subject = models.CharField(max_length=300, blank=True,
                               help_text="Who the credential is about (a DID or URL).")

    # Bearer secrets, hashed (SHA-256 of high-entropy values; the 6-digit transaction code is
    # keyed with the server's secret, so a copy of the database alone cannot brute-force it).
    offer_hash = models.CharField(max_length=64, unique=True, editable=False)
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    tx_code_hash = models.CharField(max_length=64, editable=False)
    tx_code_failures = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(help_text="When the pre-authorized code expires.")
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    dpop_jkt = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="JWK SHA-256 thumbprint of the key the access token is bound to (DPoP).")
    credential_identifier = models.CharField(
        max_length=100, blank=True, help_text="Set when the wallet asked with "
                                               "authorization_details in the token request.")
    transaction_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    transaction_expires_at = models.DateTimeField(null=True, blank=True)

    state = models.CharField(max_length=16, choices=State.choices, default=State.OFFERED,
                             db_index=True)
    state_reason = models.TextField(blank=True)
    holder_jwk = models.JSONField(null=True, blank=True,
                                  help_text="The public key the wallet proved (cnf.jwk).")
    credential = models.TextField(blank=True, help_text="A deferred credential waiting for the "
                                                        "wallet; emptied once collected.")
    credential_jti = models.CharField(max_length=300, blank=True)
    # The copy's Token Status List entry: its source's where it has one, else its own.
    status_list = models.ForeignKey("credentials.StatusList", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    status_index = models.PositiveIntegerField(null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    redeemed_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When the wallet redeemed the code.")
    issued_at = models.DateTimeField(null=True, blank=True,
                                     help_text="When the wallet received the credential.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "OpenID4VCI credential offer"
        constraints = [
            models.CheckConstraint(
                condition=(Q(configuration="mandate", mandate__isnull=False)
                           | Q(configuration="product_passport", passport__isnull=False)
                           | (Q(configuration="business_identity")
                              & (Q(wallet_credential__isnull=False)
                                 | Q(attestation__isnull=False)))
                           # an entitlement may be withdrawn later (then the role is revoked)
                           | Q(configuration="access_role")),
                name="offer_has_its_source"),
            models.CheckConstraint(condition=Q(tx_code_failures__lte=MAX_TX_CODE_FAILURES),
                                   name="offer_tx_code_failures_capped"),
        ]

    def __str__(self) -> str:
        return f"{self.get_configuration_display()} from {self.issuer.slug} [{self.state}]"


class OfferEvent(models.Model):
    """One row per step of an offer: who or what, when, and why."""

    offer = models.ForeignKey(CredentialOffer, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '-'} → {self.to_state or '-'}"


class IssuerCertificate(models.Model):
    """X.509 certificates of issuer identification (OPENID4VCI_ISSUER_IDENTIFICATION=x509,
    HAIP 1.0): the service's own issuing CA (self-signed, made once when none is configured)
    and, per organisation, the leaf it issued for the organisation's P-256 key. The keys live
    in the key store (credentials.KeyPair, wrapped at rest); only public certificates here."""

    class Kind(models.TextChoices):
        CA = "ca", "Issuing CA"
        LEAF = "leaf", "Issuer signing certificate"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key_controller = models.CharField(max_length=300, help_text="The key store's controller "
                                      "(an organisation's DID, or the service CA's name).")
    key_id = models.CharField(max_length=64)
    issuer_identifier = models.CharField(max_length=300, blank=True,
                                         help_text="The SAN URI of a leaf: its `iss`.")
    certificate = models.BinaryField(help_text="DER.")
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["key_controller", "key_id"],
                                               condition=Q(kind="ca"),
                                               name="one_ca_certificate_per_key")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.key_controller}#{self.key_id}"


class AuthorizationRequest(models.Model):
    """One wallet-initiated issuance in the authorization code flow (OpenID4VCI 1.0 §5, HAIP 1.0
    §4): pushed (RFC 9126, the `request_uri` handle stored hashed), then the person logs in at
    the service and consents (or not), then the wallet redeems the one-time code with its PKCE
    verifier (RFC 7636, S256) at the token endpoint. The consent makes a CredentialOffer, which
    the rest of the flow (token, proof, credential, status) shares with pre-authorized offers."""

    class Status(models.TextChoices):
        PUSHED = "pushed", "Pushed (waiting for the person)"
        APPROVED = "approved", "Approved (code handed out)"
        DENIED = "denied", "Denied by the person"
        REDEEMED = "redeemed", "Code redeemed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey("wallet.Organisation", on_delete=models.CASCADE,
                               related_name="+")
    client_id = models.CharField(max_length=255)
    redirect_uri = models.CharField(max_length=2000)
    state = models.CharField(max_length=500, blank=True)
    code_challenge = models.CharField(max_length=128)
    configuration = models.CharField(max_length=32, choices=CredentialOffer.Configuration.choices)
    authorization_details = models.JSONField(null=True, blank=True)
    dpop_jkt = models.CharField(max_length=64, blank=True,
                                help_text="The DPoP key the code is bound to (RFC 9449 §10).")
    request_uri_hash = models.CharField(max_length=64, unique=True, editable=False)
    request_expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PUSHED)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    offered = models.ForeignKey(
        CredentialOffer, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="The organisation's offer the wallet started from (its issuer_state).")
    offer = models.OneToOneField(CredentialOffer, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="authorization")
    code_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.configuration} from {self.issuer.slug} for {self.client_id} [{self.status}]"
