"""The HTTP/API kit every app's API is built with (DRF views, permissions by scope, problem+json
errors, rate limiting, OpenAPI helpers)."""
