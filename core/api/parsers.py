"""The API's JSON parser (REST_FRAMEWORK's default, and the base of every JSON media type's)."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import parsers

from core.api.problems import Problem
from core.json_limits import JSONTooDeep, check_depth


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (every API's, REST_FRAMEWORK's default) refusing a body nested deeper
    than core.json_limits.MAX_DEPTH before parsing it: 400 `json_too_deep`, where the stdlib
    parser's RecursionError would be a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            check_depth(body.decode(encoding))
        except JSONTooDeep as exc:
            raise Problem(f"The body is {exc}.", code="json_too_deep") from None
        except (UnicodeDecodeError, LookupError):
            pass  # DRF's parser says what is wrong with the encoding
        return super().parse(io.BytesIO(body), media_type, parser_context)
