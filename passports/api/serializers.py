"""Small input and output serializers, one pair per operation. Inputs check shape only: the
services check meaning (GS1 keys, category attributes) and their errors carry stable codes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictInput, paginated  # noqa: F401 - io.paginated in views
from passports import gs1
from passports.api.issuing import CRYPTOSUITES
from passports.models import Passport

REASON_MAX = 2000


def public_qr_url(product) -> str:
    """The public QR code of the product's GS1 Digital Link URI (served by the resolver)."""
    return settings.PUBLIC_BASE_URL + "/qr" + product.digital_link[len(settings.PUBLIC_BASE_URL):]


# Products -------------------------------------------------------------------------------------

class ProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    gtin = serializers.CharField()
    lot = serializers.CharField()
    serial = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    category_version = serializers.IntegerField()
    facility_name = serializers.CharField()
    facility_id = serializers.CharField()
    country_of_production = serializers.CharField()
    production_date = serializers.DateField(allow_null=True)
    attributes = serializers.DictField()
    digital_link = serializers.URLField()
    qr_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_qr_url(self, product) -> str:
        return public_qr_url(product)


class ProductCreateInput(StrictInput):
    gtin = serializers.CharField(max_length=14, help_text="GTIN-8/12/13/14; stored as 14 digits.")
    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=32, help_text="battery, textile, electronics, "
                                                              "generic")
    lot = serializers.CharField(max_length=20, required=False, allow_blank=True)
    serial = serializers.CharField(max_length=20, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    facility_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    facility_id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    country_of_production = serializers.CharField(max_length=2, required=False,
                                                  allow_blank=True)
    production_date = serializers.DateField(required=False, allow_null=True)
    attributes = serializers.DictField(required=False, help_text="The category's attributes, "
                                                                 "by key.")


class ProductUpdateInput(ProductCreateInput):
    """The fields to change; the others keep their values."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


# Passports ------------------------------------------------------------------------------------

class RestrictedLinkOutput(serializers.Serializer):
    access_group = serializers.CharField()
    credential_url = serializers.URLField()


class PassportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    product = serializers.IntegerField(source="product_id")
    version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Passport.State.choices)
    state_reason = serializers.CharField()
    digital_link = serializers.URLField(source="product.digital_link")
    credential_url = serializers.URLField(help_text=(
        "The credential's public address (`/passports/<id>`, no key needed), which is also "
        "its `id` for passports signed since it exists."))
    qr_url = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    superseded_by = serializers.UUIDField(source="superseded_by_id", allow_null=True)
    restricted = serializers.SerializerMethodField(
        help_text="The restricted access groups of this passport you may read.")

    def get_qr_url(self, passport) -> str:
        return public_qr_url(passport.product)

    @extend_schema_field(RestrictedLinkOutput(many=True))
    def get_restricted(self, passport) -> list[dict]:
        readable = self.context.get("readable_groups", {}).get(
            passport.product.organisation_id, frozenset())
        groups = sorted(c.access_group for c in passport.restricted_credentials.all()
                        if c.access_group in readable)
        return [{"access_group": group, "credential_url": f"{passport.credential_url}/{group}"}
                for group in groups]


class PassportFilterInput(serializers.Serializer):
    gtin = serializers.CharField(required=False, max_length=14)
    lot = serializers.CharField(required=False, max_length=20)
    serial = serializers.CharField(required=False, max_length=20)
    state = serializers.ChoiceField(choices=Passport.State.choices, required=False)
    product = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def validate_gtin(self, value: str) -> str:
        try:
            return gs1.normalise_gtin(value)
        except DjangoValidationError as invalid:
            raise serializers.ValidationError(invalid.messages[0], code=invalid.code) from None


class PassportCreateInput(StrictInput):
    product = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                       help_text="The id of one of your products.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=REASON_MAX)


class PassportChangeInput(StrictInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=REASON_MAX)


# Verification ---------------------------------------------------------------------------------

class CheckOutput(serializers.Serializer):
    check = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False, help_text=(
        "Why, in a stable word: for a failed proof `signature_invalid`, `key_not_found`, "
        "`did_not_resolved` or the suite's code; `earlier_address` on an issuer check whose DID "
        "is this service's from an earlier address."))


class VerdictOutput(serializers.Serializer):
    """The verdict of DESIGN §5: every check with its outcome."""

    verified = serializers.BooleanField()
    format = serializers.CharField()
    issuer = serializers.DictField(allow_null=True)
    checks = CheckOutput(many=True)
    errors = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    credential = serializers.JSONField(allow_null=True, help_text="The decoded credential.")


class VerifyInput(serializers.Serializer):
    """One of `credential`, `presentation`, `passport`, or a product's GS1 keys."""

    credential = serializers.JSONField(required=False, help_text=(
        "A credential in any supported format: a compact string (vc+jwt, jwt-vc, dc+sd-jwt) or "
        "a JSON object (embedded proof, or an EnvelopedVerifiableCredential)."))
    presentation = serializers.JSONField(required=False, help_text=(
        "A presentation: a compact vp+jwt or a JSON object with an embedded proof."))
    challenge = serializers.CharField(required=False, max_length=500,
                                      help_text="What the presentation must be bound to.")
    domain = serializers.CharField(required=False, max_length=500)
    passport = serializers.UUIDField(required=False,
                                     help_text="The id of a passport of this service.")
    gtin = serializers.CharField(required=False, max_length=14,
                                 help_text="A product's GTIN: verifies its current passport.")
    lot = serializers.CharField(required=False, max_length=20)
    serial = serializers.CharField(required=False, max_length=20)

    SUBJECTS = ("credential", "presentation", "passport", "gtin")

    def validate_gtin(self, value: str) -> str:
        return PassportFilterInput().validate_gtin(value)

    def validate(self, data):
        given = [name for name in self.SUBJECTS if data.get(name) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                "Give exactly one of: credential, presentation, passport, gtin.",
                code="missing_credential" if not given else "ambiguous")
        return data


# VC-API (W3C VC-API: issuer and verifier) --------------------------------------------------------

class IssueOptionsInput(StrictInput):
    credentialId = serializers.CharField(required=False, max_length=2000)  # noqa: N815
    cryptosuite = serializers.ChoiceField(
        choices=CRYPTOSUITES, required=False,
        help_text="Secure with an embedded Data Integrity proof of this cryptosuite (VCDM 1.1 "
                  "or 2.0) instead of the default vc+jwt envelope (VCDM 2.0).")
    credentialStatus = serializers.JSONField(  # noqa: N815
        required=False,
        help_text="Status entries to allocate: `{\"type\": \"BitstringStatusListEntry\", "
                  "\"statusPurpose\": \"revocation\"}` or a list of such (`suspension` "
                  "too). The service allocates each in one of your status lists.")

    def validate_credentialStatus(self, value):  # noqa: N802
        items = value if isinstance(value, list) else [value]
        if not items or len(items) > 2 or not all(isinstance(item, dict) for item in items):
            raise serializers.ValidationError("One or two status entry requests (objects).",
                                              code="invalid")
        return items


class IssueCredentialInput(serializers.Serializer):
    credential = serializers.DictField(
        help_text="An unsecured VCDM 2.0 credential (VCDM 1.1 too with `options.cryptosuite`); "
                  "`issuer` is your organisation's did:web (filled in if absent) or the did:key "
                  "of its Ed25519 key. The VCDM 2.0 data model rules are checked first.")
    options = IssueOptionsInput(required=False)


class IssueCredentialOutput(serializers.Serializer):
    verifiableCredential = serializers.DictField(  # noqa: N815
        help_text="The credential secured as vc+jwt, as an EnvelopedVerifiableCredential, or "
                  "with the embedded Data Integrity proof asked for.")


class StatusChangeInput(StrictInput):
    type = serializers.ChoiceField(choices=["BitstringStatusListEntry"])
    statusPurpose = serializers.ChoiceField(choices=["revocation", "suspension"])  # noqa: N815
    status = serializers.BooleanField(
        default=True, help_text="true: revoked / suspended; false: lift the suspension.")


class UpdateStatusInput(StrictInput):
    credentialId = serializers.CharField(max_length=2000)  # noqa: N815
    credentialStatus = StatusChangeInput()  # noqa: N815


class UpdateStatusOutput(serializers.Serializer):
    credentialId = serializers.CharField()  # noqa: N815
    statusPurpose = serializers.CharField()  # noqa: N815
    status = serializers.BooleanField()
    entries = serializers.IntegerField(help_text="How many status entries changed.")


class VerifyOptionsInput(serializers.Serializer):
    challenge = serializers.CharField(required=False, max_length=500)
    domain = serializers.CharField(required=False, max_length=500)


class VerifyCredentialInput(serializers.Serializer):
    verifiableCredential = serializers.JSONField(  # noqa: N815
        help_text="A credential with an embedded proof, an EnvelopedVerifiableCredential, or a "
                  "compact vc+jwt / jwt-vc / dc+sd-jwt string.")
    options = VerifyOptionsInput(required=False)


class VerifyPresentationInput(serializers.Serializer):
    verifiablePresentation = serializers.JSONField(  # noqa: N815
        help_text="A presentation with an embedded proof, or an "
                  "EnvelopedVerifiablePresentation / compact vp+jwt.")
    options = VerifyOptionsInput(required=False)


class ProblemDetailOutput(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()


class VcApiVerifyOutput(serializers.Serializer):
    verified = serializers.BooleanField()
    checks = serializers.ListField(child=serializers.CharField(),
                                   help_text="The checks that were made.")
    warnings = serializers.ListField(child=serializers.CharField())
    errors = serializers.ListField(child=serializers.CharField())
    problemDetails = ProblemDetailOutput(many=True)  # noqa: N815
    verdict = VerdictOutput(help_text="This service's full verdict (DESIGN §5).")
