"""Routes of openid4vp under /api/v1/ (config/api_urls.py)."""

from django.urls import path

from openid4vp import api

urlpatterns = [
    path("openid4vp/requests", api.RequestCollectionApi.as_view(),
         name="api-openid4vp-requests"),
    path("openid4vp/requests/<str:request_id>", api.RequestDetailApi.as_view(),
         name="api-openid4vp-request"),
]
