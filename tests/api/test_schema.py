"""The OpenAPI schema: served at /api/v1/schema/, with interactive docs whose assets come from
this service, examples of every credential format, and a schemathesis run that finds no 500
and no response contradicting the schema (bounded: a few examples per operation)."""

import itertools
import json
import re

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.formats import FORMATS

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


def test_the_schema_documents_every_operation_and_credential_format(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/products/", "/api/v1/passports/", "/api/v1/passports/{passport_id}/",
            "/api/v1/passports/{passport_id}/credential", "/api/v1/verify/",
            "/credentials/issue", "/credentials/verify", "/presentations/verify"} \
        <= set(schema["paths"])
    verify = schema["paths"]["/api/v1/verify/"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/vc+jwt", "application/dc+sd-jwt",
            "application/vc", "application/ld+json"} <= set(verify)
    documented = {example["summary"] for example in verify["application/json"]["examples"]
                  .values()}
    assert {fmt.name.split(" ")[0] for fmt in FORMATS} <= documented
    assert schema["components"]["securitySchemes"]["ApiKey"]["in"] == "header"


def test_the_docs_are_served_without_a_cdn(client):
    html = client.get("/api/v1/docs/").content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("drf_spectacular_sidecar/swagger-ui-dist" in url for url in assets)
    assert all(url.startswith("/") for url in assets), assets
    for url in assets:
        if "drf_spectacular_sidecar" in url:
            assert finders.find(url.split("/static/", 1)[1]), url
    assert client.get("/api/v1/docs/redoc/").status_code == 200


# schemathesis ----------------------------------------------------------------------------------

# In-process, against the WSGI app. (Loaded at import: schemathesis's lazy `from_fixture` does
# not work with pytest 9.) Generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
REAL_IDS = itertools.count()
schemathesis.serializer.alias(["application/vc", "application/vp", "application/ld+json"],
                              "application/json")


@schemathesis.serializer("application/vc+jwt", "application/vp+jwt", "application/dc+sd-jwt")
def _compact(context, value) -> bytes:
    """A compact credential is sent as it is; anything else (negative cases) as JSON text."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


@pytest.fixture
def _test_connection_kept():
    """Like Django's test client: the WSGI handler must not close the test's database
    connection (which is inside the test's transaction) at the start or end of a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.usefixtures("_test_connection_kept")
@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_schema(case, acme, recycle, passport):
    # Every other case names the real passport and product, so 2xx answers are checked too.
    if case.path_parameters and next(REAL_IDS) % 2:
        case.path_parameters = {**case.path_parameters, **{
            name: str(value) for name, value in (("passport_id", passport.pk),
                                                 ("product_id", passport.product_id))
            if name in case.path_parameters}}
    case.call_and_validate(headers={"Authorization": f"Token {acme.key}"}, checks=CHECKS)
