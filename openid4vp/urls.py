"""Routes of openid4vp at the site root (config/urls.py)."""

urlpatterns: list = []
