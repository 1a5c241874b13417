from django.contrib import admin
from django.urls import include, path, re_path

from config.health import health
from credentials import status_views
from credentials import views as credential_views
from passports import views as passport_views
from passports.api.urls import vc_api_urlpatterns
from passports.api.views import PublicRestrictedCredentialApi
from passports.views_labels import label_sheet
from passports.views_verifier import verify_page
from replication import views as replication_views

urlpatterns = [
    path("health/", health, name="health"),
    # Staff's printable QR label sheet (passports/views_labels.py), inside the admin's login.
    path("admin/passports/product/labels/", admin.site.admin_view(label_sheet),
         name="passports-labels"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("", include(vc_api_urlpatterns)),  # W3C VC-API: /credentials/..., /presentations/...
    path("", include("openid4vci.urls")),  # OpenID4VCI issuer: .well-known, token, credential
    path("", include("openid4vp.urls")),  # OpenID4VP verifier: request objects, responses
    path(".well-known/did.json", credential_views.service_did_document, name="service-did"),
    path("contexts/<slug:version>", credential_views.bundled_context, name="context"),
    path("status/<uuid:list_id>", status_views.status_list, name="status-list"),
    path("orgs/<slug:slug>/did.json", credential_views.organisation_did_document,
         name="organisation-did"),
    # Each passport version's credential at its own id (public); a restricted access group's
    # credential under it, for entitled API clients only.
    path("passports/<str:passport_id>", passport_views.passport_credential, name="passport"),
    path("passports/<str:passport_id>/<str:access_group>",
         PublicRestrictedCredentialApi.as_view(), name="passport-restricted"),
    # Where a primary pushes its signed documents to this back-up provider (docs/backup.md).
    path("replication/v1/push", replication_views.push, name="replication-push"),
    # The verifier page for people: paste or upload a credential, read the verdict in words.
    path("verify/", verify_page, name="verify-page"),
    # GS1 Digital Link resolver (the public page for people) and QR codes of the same paths.
    re_path(r"^01/(?P<gtin>[^/]+)(?P<qualifiers>/.*)?$", passport_views.resolve,
            name="digital-link"),
    re_path(r"^qr/01/(?P<gtin>[^/]+)(?P<qualifiers>/.*)?$", passport_views.qr_code,
            name="digital-link-qr"),
]
