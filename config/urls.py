from django.contrib import admin
from django.urls import include, path

from config.health import health
from credentials import views as credential_views

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path(".well-known/did.json", credential_views.service_did_document, name="service-did"),
    path("contexts/<slug:version>", credential_views.bundled_context, name="context"),
    path("orgs/<slug:slug>/did.json", credential_views.organisation_did_document,
         name="organisation-did"),
]
