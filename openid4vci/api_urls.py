"""Routes of openid4vci under /api/v1/ (config/api_urls.py). Ids are matched as text and checked
by the views, so a malformed id gets the same problem+json 404 as an unknown one."""

from django.urls import path

from openid4vci import api

urlpatterns = [
    path("openid4vci/offers", api.OfferCollectionApi.as_view(), name="openid4vci-api-offers"),
    path("openid4vci/offers/<str:offer_id>", api.OfferDetailApi.as_view(),
         name="openid4vci-api-offer"),
]
