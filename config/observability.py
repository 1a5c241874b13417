"""Request and task ids in every log line; one line per request and per task."""

import contextvars
import json
import logging
import time
import uuid

from config.metrics import observe_request

current_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_id", default="-")
log = logging.getLogger("dpp.request")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key in ("method", "path", "status", "ms", "task", "state"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def _request_id(request) -> str:
    # Accept a proxy's id when it looks sane, otherwise make one.
    # META, not request.headers: that builds a map of every header on first use, on every
    # request (a few percent of an API request's CPU), for this one value.
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if 0 < len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return uuid.uuid4().hex


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = _request_id(request)
        token = current_id.set(request.id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.id
            seconds = time.perf_counter() - started
            observe_request(request, response.status_code, seconds)
            ms = round(seconds * 1000, 1)
            log.info(
                "%s %s %s %sms",
                request.method,
                request.path,
                response.status_code,
                ms,
                extra={"method": request.method, "path": request.path,
                       "status": response.status_code, "ms": ms},
            )
            return response
        finally:
            current_id.reset(token)
