"""Routes of openid4vci under /api/v1/ (config/api_urls.py)."""

urlpatterns: list = []
