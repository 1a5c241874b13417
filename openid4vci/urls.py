"""Routes of openid4vci at the site root (config/urls.py)."""

urlpatterns: list = []
