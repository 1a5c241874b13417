"""Rate limits of the open operations, per client address (core/ratelimit.py), as a DRF
throttle: a view sets `throttle_scope` ("verify") and gets 429 with Retry-After past it."""

from __future__ import annotations

from rest_framework.throttling import BaseThrottle

from core import ratelimit


class ClientAddressThrottle(BaseThrottle):
    def __init__(self):
        self.retry_after: int | None = None

    def allow_request(self, request, view) -> bool:
        self.retry_after = ratelimit.rate_limited(request, view.throttle_scope)
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after

    def get_ident(self, request) -> str:
        return ratelimit.client_address(request)
