"""API operations: one class per operation, each parsing input with its serializer, calling one
service or selector, and rendering the result. Where two operations share a URL, a small class
joins them (e.g. ProductCollectionApi = ProductListApi + ProductCreateApi); each handler names
its scope with @requires_scope.

Who sees what is decided in access.py (404 for what the key's organisation cannot see, 403 for
what it sees but may not do); errors are rendered by problems.py."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from core.api.permissions import Scope, requires_scope
from core.api.problems import TYPE_BASE, Conflict, Problem
from core.api.schema import COMPACT_BODY, KEYED, OPEN, WRITE, problems
from core.api.views import ApiView, OpenApiView, Pages, page_parameters, validated
from credentials import signing
from passports.api import access, media, verify_fast
from passports.api import serializers as io
from passports.api.issuing import credential_issue, credential_status_set
from passports.api.verifying import verify, verify_json, verify_passport
from passports.models import Passport, Product, RestrictedCredential
from passports.services import status as passport_status
from passports.services.issuance import passport_request
from passports.services.products import product_create, product_update

# Products -------------------------------------------------------------------------------------

class ProductListApi(ApiView):
    @extend_schema(operation_id="products_list", parameters=page_parameters(),
                   responses={200: io.paginated(io.ProductOutput), **problems(*KEYED, 404)})
    @requires_scope(Scope.PRODUCTS_READ)
    def get(self, request):
        """Your organisation's products, newest first."""
        pages = Pages()
        page = pages.paginate_queryset(access.products_of(request.user).order_by("-id"),
                                       request, view=self)
        return pages.get_paginated_response(io.ProductOutput(page, many=True).data)


class ProductCreateApi(ApiView):
    @extend_schema(operation_id="products_create", request=io.ProductCreateInput,
                   responses={201: io.ProductOutput, **problems(*KEYED, *WRITE)})
    @requires_scope(Scope.PRODUCTS_WRITE)
    def post(self, request):
        """Register a product: GS1 keys, category and the category's attributes."""
        fields = validated(io.ProductCreateInput, request.data)
        product = product_create(organisation=request.user.organisation, **fields)
        return Response(io.ProductOutput(product).data, status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api-product", args=[product.pk])})


class ProductCollectionApi(ProductListApi, ProductCreateApi):
    """/products/: GET lists, POST creates."""


class ProductDetailApi(ApiView):
    @extend_schema(operation_id="products_retrieve",
                   responses={200: io.ProductOutput, **problems(*KEYED, 404)})
    @requires_scope(Scope.PRODUCTS_READ)
    def get(self, request, product_id):
        """One of your products."""
        return Response(io.ProductOutput(access.product_of(request.user, product_id)).data)


class ProductUpdateApi(ApiView):
    @extend_schema(operation_id="products_update", request=io.ProductUpdateInput,
                   responses={200: io.ProductOutput, **problems(*KEYED, *WRITE, 404)})
    @requires_scope(Scope.PRODUCTS_WRITE)
    def patch(self, request, product_id):
        """Change some fields of a product. Issued passports keep their data: issue a new
        version (POST /passports/) to carry the change."""
        product = access.product_of(request.user, product_id)
        fields = validated(io.ProductUpdateInput, request.data)
        product = product_update(product=product, **fields)
        return Response(io.ProductOutput(product).data)


class ProductItemApi(ProductDetailApi, ProductUpdateApi):
    """/products/<id>/: GET reads, PATCH changes some fields."""


# Passports ------------------------------------------------------------------------------------

def passport_output(request, passports) -> list[dict] | dict:
    """Passports as PassportOutput, with the restricted groups the client may read of each."""
    many = isinstance(passports, list)
    items = passports if many else [passports]
    readable = access.readable_groups(request.user,
                                      {p.product.organisation_id for p in items})
    serializer = io.PassportOutput(passports, many=many, context={"readable_groups": readable})
    return serializer.data


def with_restricted_groups(queryset):
    return queryset.prefetch_related(Prefetch(
        "restricted_credentials",
        queryset=RestrictedCredential.objects.only("id", "passport_id", "access_group")))


class PassportListApi(ApiView):
    @extend_schema(operation_id="passports_list",
                   parameters=[io.PassportFilterInput, *page_parameters()],
                   responses={200: io.paginated(io.PassportOutput), **problems(*KEYED, 400, 404)})
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request):
        """Passports you may see: your own, and the signed passports of manufacturers that
        entitled your organisation. Filter by a product's GS1 keys (gtin, lot, serial), by
        state or by product id."""
        filters = validated(io.PassportFilterInput, request.query_params)
        lookups = {f"product__{name}": value for name, value in filters.items()
                   if name in ("gtin", "lot", "serial")}
        if "state" in filters:
            lookups["state"] = filters["state"]
        if "product" in filters:
            lookups["product_id"] = filters["product"]
        queryset = with_restricted_groups(access.passports_of(request.user).filter(**lookups)
                                          .order_by("-created_at", "-version"))
        pages = Pages()
        page = pages.paginate_queryset(queryset, request, view=self)
        return pages.get_paginated_response(passport_output(request, list(page)))


class PassportCreateApi(ApiView):
    @extend_schema(operation_id="passports_create", request=io.PassportCreateInput,
                   responses={202: io.PassportOutput, **problems(*KEYED, *WRITE, 409)},
                   description="Request the next passport version of a product. It is signed "
                               "in the background: the answer is 202 with state `pending`.")
    @requires_scope(Scope.PASSPORTS_ISSUE)
    def post(self, request):
        data = validated(io.PassportCreateInput, request.data)
        product = access.products_of(request.user).filter(pk=data["product"]).first()
        if product is None:
            raise Problem("No such product.", code="invalid", errors=[
                {"field": "product", "code": "does_not_exist", "detail": "No such product."}])
        passport = passport_request(product=product, actor=request.user.as_actor(),
                                    reason=data.get("reason") or "requested through the API")
        passport = Passport.objects.select_related("product").get(pk=passport.pk)
        return Response(passport_output(request, passport), status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("api-passport", args=[passport.pk])})


class PassportCollectionApi(PassportListApi, PassportCreateApi):
    """/passports/: GET lists (filters: gtin, lot, serial, state, product), POST issues."""


class PassportDetailApi(ApiView):
    @extend_schema(operation_id="passports_retrieve",
                   responses={200: io.PassportOutput, **problems(*KEYED, 404)})
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request, passport_id):
        """A passport: its state, version, links and the restricted groups you may read."""
        passport = access.passport_of(request.user, passport_id)
        return Response(passport_output(request, passport))


def credential_response(request, jwt: str, embedded: dict | None = None) -> Response:
    """Content negotiation (docs/architecture.md, URLs): the compact JWT for `application/vc+jwt`;
    JSON otherwise: the credential with its embedded proof when there is one, else the
    EnvelopedVerifiableCredential."""
    if request.accepted_renderer.media_type == media.VC_JWT:
        return Response(jwt)
    return Response(embedded or signing.envelope(jwt))


CREDENTIAL_RESPONSES = {
    (200, media.VC_JSON): OpenApiTypes.OBJECT,
    (200, media.VC_JWT): OpenApiResponse(COMPACT_BODY),
    (200, media.LD_JSON): OpenApiTypes.OBJECT,
    (200, media.JSON): OpenApiTypes.OBJECT,
}


class PassportCredentialApi(ApiView):
    renderer_classes = media.CREDENTIAL_RENDERERS

    @extend_schema(operation_id="passports_credential",
                   responses={**CREDENTIAL_RESPONSES, **problems(*KEYED, 404, 406, 409)},
                   description="The signed passport credential. `Accept: application/vc+jwt` "
                               "gives the compact JWT; `application/vc`, `application/ld+json` "
                               "or `application/json` (the default) give JSON.")
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request, passport_id):
        passport = access.passport_of(request.user, passport_id)
        if not passport.jwt:
            raise Conflict(f"The passport is {passport.state}: it has no credential yet.",
                           code="not_issued")
        return credential_response(request, passport.jwt, passport.embedded)


class RestrictedCredentialApi(ApiView):
    renderer_classes = media.CREDENTIAL_RENDERERS

    @extend_schema(operation_id="passports_restricted_credential",
                   responses={**CREDENTIAL_RESPONSES, **problems(*KEYED, 404, 406)},
                   description="One restricted access group's credential of a passport "
                               "(`legitimate_interest`, `legitimate_interest_commission`, "
                               "`authorities`): for the manufacturer and for partners it has "
                               "entitled to that group; 403 for other partners.")
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request, passport_id, access_group):
        passport = access.passport_of(request.user, passport_id)
        credential = access.restricted_credential_of(request.user, passport, access_group)
        return credential_response(request, credential.jwt)


class PublicRestrictedCredentialApi(RestrictedCredentialApi):
    """`/passports/<id>/<access group>`: a restricted group's credential at its own `id` (the
    passport's public address + the group), for the same clients as the API path, with their
    API key. Documented once, at the API path."""

    schema = None


class _PassportChangeApi(ApiView):
    """revoke / suspend / reinstate: the manufacturer asks, a Celery task changes (202)."""

    change = None  # the service: passport_revoke, passport_suspend or passport_reinstate

    def _change(self, request, passport_id):
        passport = access.passport_of(request.user, passport_id)
        access.require_owner(request.user, passport)
        data = validated(io.PassportChangeInput, request.data)
        self.change(passport=passport, actor=request.user.as_actor(),
                    reason=data.get("reason", ""))
        passport.refresh_from_db()
        return Response(passport_output(request, passport), status=status.HTTP_202_ACCEPTED)


def _change_schema(verb: str):
    return extend_schema(
        operation_id=f"passports_{verb}", request=io.PassportChangeInput,
        responses={202: io.PassportOutput, **problems(*KEYED, *WRITE, 404, 409)},
        description=f"{verb.capitalize()} the passport, with an optional reason. The change is "
                    f"made by a background task: the answer is 202.")


class PassportRevokeApi(_PassportChangeApi):
    change = staticmethod(passport_status.passport_revoke)

    @_change_schema("revoke")
    @requires_scope(Scope.PASSPORTS_REVOKE)
    def post(self, request, passport_id):
        return self._change(request, passport_id)


class PassportSuspendApi(_PassportChangeApi):
    change = staticmethod(passport_status.passport_suspend)

    @_change_schema("suspend")
    @requires_scope(Scope.PASSPORTS_REVOKE)
    def post(self, request, passport_id):
        return self._change(request, passport_id)


class PassportReinstateApi(_PassportChangeApi):
    change = staticmethod(passport_status.passport_reinstate)

    @_change_schema("reinstate")
    @requires_scope(Scope.PASSPORTS_REVOKE)
    def post(self, request, passport_id):
        return self._change(request, passport_id)


# Verification ---------------------------------------------------------------------------------

VERIFY_REQUEST = {
    media.JSON: io.VerifyInput,
    media.VC_JWT: COMPACT_BODY,
    media.SD_JWT: COMPACT_BODY,
    media.VP_JWT: COMPACT_BODY,
    media.VC_JSON: OpenApiTypes.OBJECT,
    media.VP_JSON: OpenApiTypes.OBJECT,
    media.LD_JSON: OpenApiTypes.OBJECT,
}


class VerifyApi(OpenApiView):
    parser_classes = media.VERIFY_PARSERS

    def dispatch(self, request, *args, **kwargs):
        """The usual request (a credential, from a client that takes plain JSON) is answered
        without DRF's request cycle (verify_fast.py); anything else, and every error, goes
        through post()."""
        return (verify_fast.answer(self, request)
                or super().dispatch(request, *args, **kwargs))

    @extend_schema(
        operation_id="verify", request=VERIFY_REQUEST,
        responses={200: io.VerdictOutput, **problems(*OPEN, 404)},
        description="Verify any credential or presentation. JSON: `{\"credential\": ...}`, "
                    "`{\"presentation\": ..., \"challenge\": ..., \"domain\": ...}`, "
                    "`{\"passport\": <id>}` or a product's `{\"gtin\", \"lot\", \"serial\"}`; "
                    "or the credential itself as the body, typed `application/vc+jwt`, "
                    "`application/dc+sd-jwt`, `application/vp+jwt`, `application/vc`, "
                    "`application/vp` or `application/ld+json`. A credential that fails gets "
                    "200 with `verified: false` and the failing check named.")
    def post(self, request):
        media_type = request.content_type.split(";", 1)[0].strip().lower()
        data = request.data  # parses: 400 for a malformed body, 415 for an unsupported type
        if media_type in media.COMPACT_TYPES or media_type in media.DOCUMENT_TYPES:
            if data in ("", {}, None):  # DRF reads a body without Content-Length as {}
                raise Problem("The body is empty: it should be the credential.",
                              code="missing_credential")
            return verdict_response(request, data)
        fields = validated(io.VerifyInput, data)
        expected = {name: fields[name] for name in ("challenge", "domain") if name in fields}
        if "credential" in fields:
            return verdict_response(request, fields["credential"], **expected)
        if "presentation" in fields:
            return verdict_response(request, fields["presentation"], **expected)
        return Response(verify_passport(_passport_to_verify(fields)))


def verdict_response(request, secured, **expected) -> HttpResponse:
    """The verdict as JSON. Plain `application/json` (what clients accept unless they ask for
    `; indent=`) gets the verdict cache's rendered bytes; DRF renders anything else."""
    if request.accepted_media_type == media.JSON:
        return HttpResponse(verify_json(secured, **expected), content_type=media.JSON)
    return Response(verify(secured, **expected))


def _passport_to_verify(fields: dict) -> Passport:
    """The passport named by id, or the current passport of a product named by its GS1 keys.
    Any passport of this service may be verified by anyone: its credential is public."""
    if "passport" in fields:
        passport = Passport.objects.filter(pk=fields["passport"]).first()
    else:
        product = Product.objects.filter(gtin=fields["gtin"], lot=fields.get("lot", ""),
                                         serial=fields.get("serial", "")).first()
        passport = product and (product.passports.filter(state__in=access.SIGNED_STATES)
                                .exclude(state=Passport.State.SUPERSEDED)
                                .order_by("-version").first())
    if passport is None and "passport" not in fields and not (fields.get("lot")
                                                               or fields.get("serial")):
        keyed = Product.objects.filter(gtin=fields["gtin"]).exclude(lot="", serial="")
        if keyed.exists():  # the GTIN's passports are per item or batch: say which is missing
            raise ValidationError({"serial": [
                "This GTIN's passports are per item or batch: give its `serial` or `lot`."]},
                code="serial_or_lot_required")
    if passport is None:
        raise NotFound("No such passport.", code="not_found")
    return passport


# W3C VC-API -----------------------------------------------------------------------------------

class CredentialIssueApi(ApiView):
    @extend_schema(operation_id="vc_api_issue_credential", tags=["VC-API"],
                   request=io.IssueCredentialInput,
                   responses={201: io.IssueCredentialOutput, **problems(*KEYED, *WRITE)},
                   description="W3C VC-API: secure a credential as your organisation: vc+jwt "
                               "(an EnvelopedVerifiableCredential) by default, or a Data "
                               "Integrity proof of `options.cryptosuite`. The issuer is your "
                               "did:web or the did:key of your Ed25519 key. The VCDM 2.0 rules "
                               "are checked first; nothing is stored.")
    @requires_scope(Scope.CREDENTIALS_ISSUE)
    def post(self, request):
        data = validated(io.IssueCredentialInput, request.data)
        options = data.get("options", {})
        secured = credential_issue(
            organisation=request.user.organisation, credential=data["credential"],
            credential_id=options.get("credentialId"), cryptosuite=options.get("cryptosuite"),
            status=options.get("credentialStatus"))
        return Response({"verifiableCredential": secured}, status=status.HTTP_201_CREATED)


class CredentialStatusApi(ApiView):
    @extend_schema(operation_id="vc_api_update_status", tags=["VC-API"],
                   request=io.UpdateStatusInput,
                   responses={200: io.UpdateStatusOutput, **problems(*KEYED, *WRITE, 404)},
                   description="W3C VC-API: revoke or suspend (`status: true`), or lift the "
                               "suspension of (`status: false`), a credential your "
                               "organisation issued here with `options.credentialStatus`, "
                               "named by its id. Its status lists are re-published.")
    @requires_scope(Scope.CREDENTIALS_ISSUE)
    def post(self, request):
        data = validated(io.UpdateStatusInput, request.data)
        change = data["credentialStatus"]
        entries = credential_status_set(
            organisation=request.user.organisation, credential_id=data["credentialId"],
            purpose=change["statusPurpose"], value=change["status"])
        return Response({"credentialId": data["credentialId"],
                         "statusPurpose": change["statusPurpose"], "status": change["status"],
                         "entries": entries})


def vc_api_response(verdict: dict) -> Response:
    """200 with the result when verified; otherwise 400 as the VC-API describes a failed
    verification, the same result in a problem+json body whose detail names the failed checks."""
    result = vc_api_result(verdict)
    if result["verified"]:
        return Response(result)
    failed = [check for check in verdict["checks"] if not check["ok"]]
    body = {**result, "type": TYPE_BASE + "verification_failed", "code": "verification_failed",
            "title": "Verification failed", "status": 400,
            "detail": "Failed checks: " + ", ".join(check["check"] for check in failed) + ".",
            # a problem's errors are field errors: one per failed check
            "errors": [{"code": check["check"], "detail": check.get("detail") or "failed"}
                       for check in failed]}
    return Response(body, status=status.HTTP_400_BAD_REQUEST,
                    content_type="application/problem+json")


def vc_api_result(verdict: dict) -> dict:
    """The VC-API verification result (checks, warnings, errors; problemDetails), with this
    service's verdict beside it."""
    failed = [check for check in verdict["checks"] if not check["ok"]]
    return {
        "verified": verdict["verified"],
        "checks": [check["check"] for check in verdict["checks"]],
        "warnings": verdict["warnings"],
        "errors": verdict["errors"],
        "problemDetails": [
            {"type": TYPE_BASE + check["check"],
             "title": f"{check['check']} check failed",
             "detail": check.get("detail") or "failed"} for check in failed],
        "verdict": verdict,
    }


class CredentialVerifyApi(OpenApiView):
    @extend_schema(operation_id="vc_api_verify_credential", tags=["VC-API"],
                   request=io.VerifyCredentialInput,
                   responses={200: io.VcApiVerifyOutput, **problems(*OPEN)},
                   description="W3C VC-API: verify a credential. Verified: 200 with the "
                               "result; not verified: 400, the same result in a problem+json "
                               "body naming the failed checks.")
    def post(self, request):
        data = validated(io.VerifyCredentialInput, request.data)
        options = data.get("options", {})
        return vc_api_response(verify(data["verifiableCredential"], **options))


class PresentationVerifyApi(OpenApiView):
    @extend_schema(operation_id="vc_api_verify_presentation", tags=["VC-API"],
                   request=io.VerifyPresentationInput,
                   responses={200: io.VcApiVerifyOutput, **problems(*OPEN)},
                   description="W3C VC-API: verify a presentation and every credential in it, "
                               "bound to `options.challenge` and `options.domain` when given. "
                               "Not verified: 400, the result in a problem+json body.")
    def post(self, request):
        data = validated(io.VerifyPresentationInput, request.data)
        options = data.get("options", {})
        return vc_api_response(verify(data["verifiablePresentation"], **options))
