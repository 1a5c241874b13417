"""Routes of openid4vp at the site root (config/urls.py): what Wallets call."""

from django.urls import path, re_path

from openid4vp import views

urlpatterns = [
    path("openid4vp/request/<str:token>", views.request_object,
         name="openid4vp-request-object"),
    re_path(r"^openid4vp/request/(?P<token>[A-Za-z0-9_-]+)/qr\.(?P<kind>svg|png)$",
            views.request_qr, name="openid4vp-request-qr"),
    path("openid4vp/response", views.response_endpoint, name="openid4vp-response"),
    # Machines: a presentation of mandates for a short-lived access token (RFC 8693).
    path("oauth/nonce", views.oauth_nonce, name="oauth-nonce"),
    path("oauth/token", views.oauth_token, name="oauth-token"),
]
