"""The partner API's routes: `urlpatterns` under /api/v1/ (config/api_urls.py) and the W3C
VC-API's `vc_api_urlpatterns` at the root (config/urls.py). Ids are matched as text and checked
by the views, so a malformed id gets the same problem+json 404 as an unknown one."""

from django.urls import path

from passports.api import evidence, exports, keys, presentation_views, views

urlpatterns = [
    # First: the operation asked most (partners verifying batches), and the resolver tries the
    # patterns in order (no other one here matches verify/).
    path("verify/", views.VerifyApi.as_view(), name="api-verify"),
    path("products/", views.ProductCollectionApi.as_view(), name="api-products"),
    path("products/<str:product_id>/", views.ProductItemApi.as_view(), name="api-product"),
    path("passports/", views.PassportCollectionApi.as_view(), name="api-passports"),
    path("passports/<str:passport_id>/", views.PassportDetailApi.as_view(),
         name="api-passport"),
    path("passports/<str:passport_id>/credential", views.PassportCredentialApi.as_view(),
         name="api-passport-credential"),
    path("passports/<str:passport_id>/credential/<str:access_group>",
         views.RestrictedCredentialApi.as_view(), name="api-passport-restricted"),
    path("passports/<str:passport_id>/revoke", views.PassportRevokeApi.as_view(),
         name="api-passport-revoke"),
    path("passports/<str:passport_id>/suspend", views.PassportSuspendApi.as_view(),
         name="api-passport-suspend"),
    path("passports/<str:passport_id>/reinstate", views.PassportReinstateApi.as_view(),
         name="api-passport-reinstate"),
    path("passports/<str:passport_id>/access/challenge",
         presentation_views.AccessChallengeApi.as_view(), name="api-passport-access-challenge"),
    path("passports/<str:passport_id>/access",
         presentation_views.AccessByPresentationApi.as_view(), name="api-passport-access"),
    path("passports/<str:passport_id>/access/openid4vp",
         presentation_views.AccessByWalletApi.as_view(), name="api-passport-access-openid4vp"),
    path("passports/<str:passport_id>/access/openid4vp/<str:request_id>",
         presentation_views.AccessByWalletResultApi.as_view(),
         name="api-passport-access-openid4vp-result"),
    path("products/<str:product_id>/evidence-links", evidence.ProductLinksApi.as_view(),
         name="api-product-evidence-links"),
    path("products/<str:product_id>/transformations", evidence.TransformationApi.as_view(),
         name="api-product-transformations"),
    path("evidence/", evidence.EvidenceCollectionApi.as_view(), name="api-evidence"),
    path("evidence/<str:credential_id>/", evidence.EvidenceItemApi.as_view(),
         name="api-evidence-item"),
    path("evidence/<str:credential_id>/credential", evidence.EvidenceCredentialApi.as_view(),
         name="api-evidence-credential"),
    path("evidence/<str:credential_id>/revoke", evidence.EvidenceRevokeApi.as_view(),
         name="api-evidence-revoke"),
    path("keys/", keys.KeysApi.as_view(), name="api-keys"),
    path("keys/rotate", keys.KeysRotateApi.as_view(), name="api-keys-rotate"),
    path("keys/compromise", keys.KeysCompromiseApi.as_view(), name="api-keys-compromise"),
    path("exports/products.<str:fmt>", exports.ProductExportApi.as_view(),
         name="api-export-products"),
    path("exports/passports.<str:fmt>", exports.PassportExportApi.as_view(),
         name="api-export-passports"),
    path("exports/events.<str:fmt>", exports.EventExportApi.as_view(),
         name="api-export-events"),
]

vc_api_urlpatterns = [
    path("credentials/issue", views.CredentialIssueApi.as_view(), name="vc-api-issue"),
    path("credentials/verify", views.CredentialVerifyApi.as_view(), name="vc-api-verify"),
    path("credentials/status", views.CredentialStatusApi.as_view(), name="vc-api-status"),
    path("presentations/verify", views.PresentationVerifyApi.as_view(),
         name="vc-api-verify-presentation"),
]
