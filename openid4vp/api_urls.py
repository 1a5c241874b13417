"""Routes of openid4vp under /api/v1/ (config/api_urls.py)."""

urlpatterns: list = []
