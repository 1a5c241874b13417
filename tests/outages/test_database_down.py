"""PostgreSQL down under a running gunicorn: the API answers 503 problem+json with Retry-After,
people get a 503 page in their language (en/nl/de/fr), nothing is logged as a 500, and the
first request after the database is back is answered normally, without a restart."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.support.outages import page_path

pytestmark = pytest.mark.django_db(transaction=True)
PROBLEM = "application/problem+json"


def test_the_api_and_the_page_answer_503_while_the_database_is_down(acme, web_server):
    server = web_server()
    passport = acme.passport(0)
    detail = f"/api/v1/passports/{passport.pk}/"
    assert server.request("GET", detail, headers=acme.headers).status == 200
    server.database.cut()

    answers = {
        "detail": server.request("GET", detail, headers=acme.headers),
        "verify": server.request("POST", "/api/v1/verify/", body={"credential": passport.jwt}),
        "issue": server.request("POST", "/api/v1/passports/",
                                body={"product": passport.product_id}, headers=acme.headers),
        "machine": server.request("GET", page_path(passport),
                                  headers={"Accept": "application/vc+jwt"}),
    }
    for name, answer in answers.items():
        assert answer.status == 503, (name, answer.body)
        assert answer.headers["content-type"] == PROBLEM, name
        assert answer.json()["code"] == "service_unavailable", name
        assert answer.headers["retry-after"] == "5", name

    for language in ("en", "nl", "de", "fr"):
        page = server.request("GET", page_path(passport) + f"?lang={language}",
                              headers={"Accept": "text/html"})
        assert page.status == 503, (language, page.body)
        assert page.headers["retry-after"] == "5"
        assert page.headers["content-language"] == language
        with translation.override(language):
            title = translation.gettext("Temporarily unavailable")
        assert language == "en" or title != "Temporarily unavailable"
        assert f"<h1>{title}</h1>" in page.text
    browser = server.request("GET", page_path(passport),
                             headers={"Accept": "text/html", "Accept-Language": "de-DE,de"})
    assert browser.status == 503 and browser.headers["content-language"] == "de"

    server.database.restore()
    assert server.request("GET", detail, headers=acme.headers).status == 200
    assert server.request("GET", page_path(passport), headers={"Accept": "text/html"}).status \
        == 200
    log = server.log()
    assert "database unavailable" in log
    assert "Internal Server Error" not in log and "Traceback" not in log
    assert "CRITICAL" not in log
