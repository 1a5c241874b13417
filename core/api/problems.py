"""Every API error as application/problem+json (RFC 9457).

    {"type": "https://w3id.org/dpp-wallet/problems/invalid", "code": "invalid",
     "title": "Bad Request", "status": 400, "detail": "...",
     "errors": [{"field": "gtin", "code": "gtin_check_digit", "detail": "..."}]}

`code` is stable (clients branch on it) and `type` is the code under a host-independent base.
The response is rendered here, never by the negotiated renderer, so a client that asked for
`application/vc+jwt` still gets a readable problem. A backing service that is down (database,
cache) is a 503 with Retry-After; other unexpected exceptions are logged and become a 500
problem without details."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from rest_framework import exceptions, status

from core.errors import DomainError
from core.outages import RETRY_AFTER_SECONDS, log_outage, unavailable_service

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://w3id.org/dpp-wallet/problems/"

# DRF's codes where a clearer stable one exists.
RENAMED_CODES = {"throttled": "rate_limited", "error": "server_error"}


class Problem(exceptions.APIException):
    """An API error with a stable code, a status and optional field errors."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None,
                 errors: list[dict] | None = None):
        super().__init__(detail, code or self.default_code)
        if status_code is not None:
            self.status_code = status_code
        self.code = code or self.default_code
        self.errors = errors


class Conflict(Problem):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class PayloadTooLarge(Problem):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def problem_response(status_code: int, code: str, detail: str, *, title: str | None = None,
                     errors: list[dict] | None = None,
                     headers: dict | None = None) -> HttpResponse:
    body = {"type": TYPE_BASE + code, "code": code,
            "title": title or HTTPStatus(status_code).phrase, "status": status_code,
            "detail": detail}
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status_code,
                            content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def service_unavailable(service: str) -> HttpResponse:
    """503 with Retry-After while `service` (database, cache) is down (core.outages)."""
    return problem_response(
        503, "service_unavailable",
        f"The service is briefly unavailable ({service}); try again in {RETRY_AFTER_SECONDS} s.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: any exception raised in an API view → a problem response."""
    service = unavailable_service(exc)
    if service is not None:  # an outage, not a bug: no traceback, and the client may retry
        request = context.get("request")
        log_outage(service, exc, request.path if request is not None else "?")
        return service_unavailable(service)
    exc = _as_api_exception(exc)
    if exc is None:
        log.exception("unexpected error in %s", context.get("view").__class__.__name__)
        return problem_response(500, "server_error", "An unexpected error occurred; it has "
                                                     "been logged.")
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    errors = getattr(exc, "errors", None)
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail, exc.get_codes())
        # One error about the whole body: its code is the problem's (e.g. missing_credential).
        whole = len(errors) == 1 and "field" not in errors[0]
        return problem_response(exc.status_code, errors[0]["code"] if whole else "invalid",
                                _summary(errors) or "The request is not valid.", errors=errors)
    return problem_response(exc.status_code, _code(exc), _detail(exc), errors=errors,
                            headers=headers)


def field_errors(detail, codes, field: str | None = None) -> list[dict]:
    """DRF's nested error detail → [{"field", "code", "detail"}], nested fields joined by dots
    (`attributes.ratedCapacity`), errors about the whole body without a field."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = None if key in (NON_FIELD_ERRORS, "non_field_errors") else str(key)
            path = ".".join(part for part in (field, name) if part) or None
            out += field_errors(value, codes.get(key) if isinstance(codes, dict) else codes,
                                path)
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            code = codes[index] if isinstance(codes, list) and index < len(codes) else codes
            if isinstance(item, dict | list):
                out += field_errors(item, code, f"{field}.{index}" if field else str(index))
            else:
                out += field_errors(item, code, field)
        return out
    error = {"code": str(codes) if isinstance(codes, str) else "invalid", "detail": str(detail)}
    return [{"field": field, **error} if field else error]


def _as_api_exception(exc) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.", code="not_found")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None, code=getattr(exc, "code", None))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_django_errors(exc))
    if isinstance(exc, DomainError):
        return Problem(exc.detail, code=exc.code, status_code=exc.http_status)
    return None


def _django_errors(exc: DjangoValidationError):
    """A Django ValidationError (from a service) as DRF detail, keeping each message's code."""
    def details(errors):
        return [exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in errors for message in error.messages]

    if hasattr(exc, "error_dict"):
        return {field: details(errors) for field, errors in exc.error_dict.items()}
    return details(exc.error_list)


def _code(exc: exceptions.APIException) -> str:
    code = getattr(exc, "code", None)
    if not code:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    return RENAMED_CODES.get(code, code)


def _detail(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, list | dict):
        return "; ".join(str(item) for item in (detail.values() if isinstance(detail, dict)
                                                else detail))
    return str(detail)


def _summary(errors: list[dict]) -> str:
    return "; ".join(f"{e['field']}: {e['detail']}" if e.get("field") else e["detail"]
                     for e in errors[:5])
