"""Media types of credentials (docs/architecture.md, URLs): parsers for raw credential bodies
and renderers for the credential endpoint's content negotiation.

- `application/vc+jwt`, `application/vp+jwt`, `application/dc+sd-jwt`: a compact JWT / SD-JWT
  as the whole body;
- `application/vc`, `application/vp`, `application/ld+json`: a credential or presentation as a
  JSON document (its proof embedded, or an enveloped one)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer

from core.api.parsers import JSONParser

VC_JWT = "application/vc+jwt"
VP_JWT = "application/vp+jwt"
SD_JWT = "application/dc+sd-jwt"
VC_JSON = "application/vc"
VP_JSON = "application/vp"
LD_JSON = "application/ld+json"
JSON = "application/json"

COMPACT_TYPES = (VC_JWT, VP_JWT, SD_JWT)
DOCUMENT_TYPES = (VC_JSON, VP_JSON, LD_JSON)
PRESENTATION_TYPES = (VP_JWT, VP_JSON)


class CompactParser(BaseParser):
    """A compact JWT or SD-JWT as the whole body → that text."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            return data.decode("ascii").strip()  # base64url, dots and tildes only
        except UnicodeDecodeError:
            raise exceptions.ParseError("A compact JWT or SD-JWT is ASCII text.") from None


class VcJwtParser(CompactParser):
    media_type = VC_JWT


class VpJwtParser(CompactParser):
    media_type = VP_JWT


class SdJwtParser(CompactParser):
    media_type = SD_JWT


class VcJsonParser(JSONParser):
    media_type = VC_JSON


class VpJsonParser(JSONParser):
    media_type = VP_JSON


class LdJsonParser(JSONParser):
    media_type = LD_JSON


# The verify endpoint: a JSON request object, or the credential itself in any of its types.
VERIFY_PARSERS = [JSONParser, VcJwtParser, VpJwtParser, SdJwtParser, VcJsonParser,
                  VpJsonParser, LdJsonParser]


class CompactRenderer(BaseRenderer):
    """A compact JWT as the body, as it is."""

    media_type = VC_JWT
    format = "jwt"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode("ascii") if isinstance(data, str) else data


class VcJsonRenderer(JSONRenderer):
    media_type = VC_JSON
    format = "vc"


class LdJsonRenderer(JSONRenderer):
    media_type = LD_JSON
    format = "jsonld"


# The credential endpoint: JSON first, so `Accept: */*` (or none) gets the JSON form.
CREDENTIAL_RENDERERS = [VcJsonRenderer, CompactRenderer, LdJsonRenderer, JSONRenderer]
