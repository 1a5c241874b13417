from django.contrib import admin
from django.urls import include, path, re_path

from config.health import health
from credentials import status_views
from credentials import views as credential_views
from openid4vp import login_views
from passports import views as passport_views
from passports import views_evidence
from passports.api.urls import vc_api_urlpatterns
from passports.api.views import PublicRestrictedCredentialApi
from passports.views_labels import label_sheet
from passports.views_partner import partner_data, partner_logout
from passports.views_verifier import verify_page
from replication import views as replication_views

urlpatterns = [
    # GS1 Digital Link resolver (the public page people reach by scanning a QR code): first,
    # as the path most asked for (no other route starts with 01/); its QR codes further down.
    re_path(r"^01/(?P<gtin>[^/]+)(?P<qualifiers>/.*)?$", passport_views.resolve,
            name="digital-link"),
    path("health/", health, name="health"),
    # Staff's printable QR label sheet (passports/views_labels.py), inside the admin's login.
    path("admin/passports/product/labels/", admin.site.admin_view(label_sheet),
         name="passports-labels"),
    # Logging in with mandates from a wallet (docs/wallet-login.md), beside the password form.
    path("admin/login/wallet/", login_views.wallet_login_start, name="wallet-login"),
    path("admin/login/wallet/<uuid:request_id>/", login_views.wallet_login_wait,
         name="wallet-login-wait"),
    path("admin/", admin.site.urls),
    # A partner's staff logged in with their organisation's access role: its restricted data.
    path("partner/", partner_data, name="partner-data"),
    path("partner/logout", partner_logout, name="partner-logout"),
    path("api/v1/", include("config.api_urls")),
    path("", include(vc_api_urlpatterns)),  # W3C VC-API: /credentials/..., /presentations/...
    path("", include("openid4vci.urls")),  # OpenID4VCI issuer: .well-known, token, credential
    path("", include("openid4vp.urls")),  # OpenID4VP verifier: request objects, responses
    path(".well-known/did.json", credential_views.service_did_document, name="service-did"),
    path("contexts/<slug:version>", credential_views.bundled_context, name="context"),
    path("status/<uuid:list_id>", status_views.status_list, name="status-list"),
    path("orgs/<slug:slug>/did.json", credential_views.organisation_did_document,
         name="organisation-did"),
    path("orgs/<slug:slug>/identity", views_evidence.organisation_identity,
         name="organisation-identity"),
    # Evidence credentials (conformity, traceability, facility) at their own ids (public).
    path("evidence/<str:credential_id>", views_evidence.evidence_credential, name="evidence"),
    # Each passport version's credential at its own id (public); a restricted access group's
    # credential under it, for entitled API clients only.
    path("passports/<str:passport_id>", passport_views.passport_credential, name="passport"),
    path("passports/<str:passport_id>/<str:access_group>",
         PublicRestrictedCredentialApi.as_view(), name="passport-restricted"),
    # Where a primary pushes its signed documents to this back-up provider (docs/backup.md).
    path("replication/v1/push", replication_views.push, name="replication-push"),
    # The verifier page for people: paste or upload a credential, read the verdict in words.
    path("verify/", verify_page, name="verify-page"),
    # QR codes of the Digital Link paths.
    re_path(r"^qr/01/(?P<gtin>[^/]+)(?P<qualifiers>/.*)?$", passport_views.qr_code,
            name="digital-link-qr"),
]
