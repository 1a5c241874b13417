"""Distinct issued battery passports for the benchmarks: one manufacturer, `count` products
with their own serials, requested in one batch and signed as the service signs them (by the
Celery worker when one runs, in this process when tasks are eager)."""

from __future__ import annotations

from _setup import wait_until


def issued_passports(count: int, *, slug: str = "acme", timeout: float = 600) -> list[str]:
    """The compact vc+jwt of `count` newly issued battery passports."""
    from passports import categories
    from passports.models import Passport, Product
    from passports.services.issuance import passports_request
    from tests.passports import sample_value
    from wallet.authority import operator
    from wallet.services import organisation_create

    organisation = organisation_create(slug=slug, legal_name="Acme Batteries B.V.")
    battery = categories.get("battery")
    attributes = categories.clean_attributes(
        battery, {item.key: sample_value(item) for item in battery.attributes})
    products = Product.objects.bulk_create([
        Product(organisation=organisation, gtin="09506000134352", serial=f"SN-{number:07d}",
                name="75 kWh EV battery pack", category="battery",
                category_version=battery.version, country_of_production="NL",
                facility_name="Acme Plant Eindhoven", attributes=attributes)
        for number in range(count)])
    passports = passports_request(actor=operator(), products=products)
    ids = [passport.pk for passport in passports]
    issued = Passport.objects.filter(pk__in=ids, state="issued")
    if not wait_until(lambda: issued.count() == len(ids), timeout, interval=0.5):
        raise SystemExit(f"only {issued.count()} of {len(ids)} passports issued in {timeout} s")
    return list(issued.order_by("product__serial").values_list("jwt", flat=True))
