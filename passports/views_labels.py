"""A printable sheet of QR labels for a batch of products, for manufacturer staff.

`label_sheet(request)` takes the products as `?ids=1,2,3` (or repeated `ids=`), scoped like the
admin (staff see their organisation's products only; superusers all), and `?size=<mm>` for the
printed width of each QR code (10-100, 25 by default). Each label carries the QR code of the
product's GS1 Digital Link URI (inline SVG, sized in millimetres, so it prints at that size),
the product's name, its GS1 keys in human-readable form and the URI. The sheet is plain HTML and
CSS made for A4 paper; its print button (one small script file) opens the browser's Print
dialog, and a link leads back to the product list."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from passports.models import Product
from passports.views import QR_DEFAULT_MM, QR_SIZE_MM, qr_print
from wallet.tenancy.selectors import organisation_of

MAX_LABELS = 500  # one request; a larger batch is printed in parts


def selected_products(user, ids: list[str]):
    """The products among `ids` that `user` may see, in the order asked for."""
    wanted = [int(value) for value in ids if value.strip().isdigit()][:MAX_LABELS]
    products = Product.objects.filter(pk__in=wanted).select_related("organisation")
    if not user.is_superuser:
        products = products.filter(organisation=organisation_of(user))
    found = {product.pk: product for product in products}
    return [found[pk] for pk in dict.fromkeys(wanted) if pk in found]


def _ids(request) -> list[str]:
    return [part for value in request.GET.getlist("ids") for part in value.split(",")]


def _size(request) -> int:
    value = request.GET.get("size", "")
    low, high = QR_SIZE_MM
    return int(value) if value.isdigit() and low <= int(value) <= high else QR_DEFAULT_MM


def _inline_svg(svg: bytes) -> str:
    """The SVG document as an element to put in HTML (no XML declaration). The markup comes
    from the QR encoder, never from user input, so it is safe to embed."""
    text = svg.decode()
    return mark_safe(text[text.index("<svg"):])  # noqa: S308 - see the docstring


@require_safe
@staff_member_required
def label_sheet(request):
    if not request.user.has_perm("passports.view_product"):
        raise PermissionDenied
    size = _size(request)
    labels = [{"product": product, "qr": _inline_svg(qr_print(product.digital_link, "svg", size)),
               "uri": product.digital_link}
              for product in selected_products(request.user, _ids(request))]
    return render(request, "passports/labels.html", {
        "labels": labels, "size": size, "title": _("QR labels"), "max_labels": MAX_LABELS,
    })
