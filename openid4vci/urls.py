"""Routes of openid4vci at the site root (config/urls.py): each organisation is a Credential
Issuer `{PUBLIC_BASE_URL}/orgs/<slug>` with its metadata at the well-known paths (inserted per
OpenID4VCI §12.2.2 / RFC 8414 §3, and appended for wallets that do that) and its endpoints under
/orgs/<slug>/openid4vci/."""

from django.urls import path

from openid4vci import views

urlpatterns = [
    path(".well-known/openid-credential-issuer/orgs/<slug:slug>", views.issuer_metadata,
         name="openid4vci-issuer-metadata"),
    path("orgs/<slug:slug>/.well-known/openid-credential-issuer", views.issuer_metadata,
         name="openid4vci-issuer-metadata-appended"),
    path(".well-known/oauth-authorization-server/orgs/<slug:slug>",
         views.authorization_server_metadata, name="openid4vci-as-metadata"),
    path("orgs/<slug:slug>/.well-known/oauth-authorization-server",
         views.authorization_server_metadata, name="openid4vci-as-metadata-appended"),
    path(".well-known/jwt-vc-issuer/orgs/<slug:slug>", views.jwt_vc_issuer_metadata,
         name="openid4vci-jwt-vc-issuer-metadata"),
    path("orgs/<slug:slug>/openid4vci/credential_offer", views.credential_offer,
         name="openid4vci-credential-offer"),
    path("orgs/<slug:slug>/openid4vci/par", views.pushed_authorization_request,
         name="openid4vci-par"),
    path("orgs/<slug:slug>/openid4vci/authorize", views.authorize, name="openid4vci-authorize"),
    path("orgs/<slug:slug>/openid4vci/token", views.token, name="openid4vci-token"),
    path("orgs/<slug:slug>/openid4vci/nonce", views.nonce, name="openid4vci-nonce"),
    path("orgs/<slug:slug>/openid4vci/credential", views.credential,
         name="openid4vci-credential"),
    path("orgs/<slug:slug>/openid4vci/deferred_credential", views.deferred_credential,
         name="openid4vci-deferred-credential"),
]
