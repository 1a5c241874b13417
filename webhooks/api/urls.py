"""/api/v1/webhooks/ (config/api_urls.py)."""

from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("subscriptions/", views.SubscriptionCollectionApi.as_view(),
         name="api-webhook-subscriptions"),
    path("subscriptions/<str:subscription_id>/", views.SubscriptionItemApi.as_view(),
         name="api-webhook-subscription"),
    path("subscriptions/<str:subscription_id>/deliveries/", views.DeliveryListApi.as_view(),
         name="api-webhook-deliveries"),
    path("deliveries/<str:delivery_id>/retry", views.DeliveryRetryApi.as_view(),
         name="api-webhook-delivery-retry"),
]
