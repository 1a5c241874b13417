"""QR codes of a product's Digital Link at print sizes (/qr/ + the Digital Link path), and the
staff's printable label sheet."""

from __future__ import annotations

import re
import struct

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from core import qr
from passports.views import modules, svg_in_mm
from passports.views_labels import label_sheet
from tests.support.factories import GTINS, organisation, staff_member
from tests.support.public import make_product

URI = "http://localhost:8000/01/09506000134352/21/SN-0001"
QR = "/qr/01/09506000134352/21/SN-0001"


def png_size_and_dpi(png: bytes) -> tuple[int, int, float]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    at = png.index(b"pHYs")
    per_metre, _y, unit = struct.unpack(">IIB", png[at + 4:at + 13])
    assert unit == 1  # metres
    return width, height, per_metre * 0.0254


def test_svg_encodes_the_digital_link_at_the_asked_print_width(client, battery):
    response = client.get(f"{QR}?format=svg&size=30")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "max-age" in response["Cache-Control"]
    svg = response.content
    assert b'width="30mm" height="30mm"' in svg
    side = modules(qr.qr_svg(URI, scale=1))
    assert f'viewBox="0 0 {side} {side}"'.encode() in svg
    # The same symbol the encoder makes for the product's URI, only sized.
    assert svg == svg_in_mm(qr.qr_svg(URI, scale=1), 30)
    assert f"<title>{URI}</title>".encode() in svg


def test_png_is_300_dpi_and_at_most_the_asked_width(client, battery):
    response = client.get(f"{QR}?format=png&size=25")
    assert response["Content-Type"] == "image/png"
    width, height, dpi = png_size_and_dpi(response.content)
    side = modules(qr.qr_svg(URI, scale=1))
    assert width == height and width % side == 0
    assert round(dpi) == 300
    printed_mm = width / dpi * 25.4
    assert 25 - side * 25.4 / 300 < printed_mm <= 25  # whole pixels per module, rounded down
    assert printed_mm / side >= 0.396  # GS1's smallest X-dimension for QR codes on products


def test_default_is_a_25_mm_svg(client, battery):
    assert b'width="25mm"' in client.get(QR).content


@pytest.mark.parametrize("query", ["format=gif", "size=5", "size=101", "size=big"])
def test_bad_options_are_400(client, battery, query):
    response = client.get(f"{QR}?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "qr_options"


def test_unknown_products_and_bad_gtins(client, battery):
    assert client.get("/qr/01/04006381333931").status_code == 404
    assert client.get("/qr/01/09506000134353").json()["code"] == "gtin_check_digit"


# Label sheet -----------------------------------------------------------------------------------

def sheet(user, query: str):
    request = RequestFactory().get(f"/admin/passports/product/labels/?{query}")
    request.user = user
    return label_sheet(request)


def test_staff_print_labels_of_their_products(acme):
    first = make_product(acme)
    second = make_product(acme, serial="SN-0002", name="Spare pack")
    response = sheet(staff_member(acme, "alice"), f"ids={second.pk},{first.pk}&size=20")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<figure class="label">') == 2
    assert html.index("Spare pack") < html.index("75 kWh EV battery pack")  # order asked
    assert html.count('width="20mm" height="20mm"') == 2
    assert "(01) 09506000134352 (21) SN-0002" in html
    assert f"{URI}</span>" in html
    # The QR codes are embedded as bare <svg>; the only script is the print button's file.
    assert "<?xml" not in html and html.count("<script") == 1
    assert '<script src="/static/passports/labels.js" defer></script>' in html


def test_labels_are_scoped_to_the_staff_members_organisation(acme):
    mine = make_product(acme)
    other = organisation("globex", "Globex GmbH")
    theirs = make_product(other, gtin=GTINS[1], serial="G-1", category="generic", name="Widget")
    html = sheet(staff_member(other, "bob"), f"ids={mine.pk}&ids={theirs.pk}").content.decode()
    assert "Widget" in html and "75 kWh EV battery pack" not in html


def test_labels_need_a_staff_member_with_view_permission(acme):
    product = make_product(acme)
    anonymous = sheet(AnonymousUser(), f"ids={product.pk}")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    nobody = staff_member(acme, "carol", apps=())
    with pytest.raises(PermissionDenied):
        sheet(nobody, f"ids={product.pk}")


def test_an_empty_selection_says_how_to_choose(acme):
    html = sheet(staff_member(acme, "dave"), "ids=").content.decode()
    assert "No products selected" in html
    assert not re.search(r"<svg", html)


def test_the_label_sheet_is_served_inside_the_admin_login(client, acme):
    product = make_product(acme)
    url = f"/admin/passports/product/labels/?ids={product.pk}"
    assert "/admin/login/" in client.get(url)["Location"]
    client.force_login(staff_member(acme, "erin"))
    response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('<figure class="label">') == 1
