"""Distinct issued battery passports for the benchmarks: one manufacturer attested by a trust
anchor (a trusted issuer, as a real manufacturer is), `count` products with their own serials,
requested in one batch and signed as the service signs them (by the Celery worker when one
runs, in this process when tasks are eager)."""

from __future__ import annotations

from _setup import wait_until


def issued_passports(count: int, *, slug: str = "acme", timeout: float = 600) -> list[str]:
    """The compact vc+jwt of `count` newly issued battery passports."""
    from passports import categories
    from passports.models import Passport, Product
    from passports.services.issuance import passports_request
    from tests.support.attributes import sample_value
    from wallet.tenancy.authority import operator

    organisation = attested_organisation(slug)
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


def attested_organisation(slug: str):
    """A manufacturer with legal details, attested by a trust anchor of the registry."""
    from wallet.business.identity.services import attestation_approve, attestation_request
    from wallet.tenancy.legal_models import LegalDetails, TrustedAnchor
    from wallet.tenancy.services import organisation_create

    organisation = organisation_create(slug=slug, legal_name="Acme Batteries B.V.")
    LegalDetails.objects.create(organisation=organisation, euid="NLNHR.12345678",
                                registry_id="12345678", street="Stationsplein 1",
                                postal_code="5611 AB", city="Eindhoven", country="NL")
    register = organisation_create(slug=f"{slug}-register", legal_name="Business Register",
                                   is_trust_anchor=True)
    LegalDetails.objects.create(organisation=register, registry_name="Handelsregister")
    TrustedAnchor.objects.create(organisation=register)
    attestation_approve(request=attestation_request(organisation=organisation, anchor=register,
                                                    evidence="register extract 12345678"))
    return organisation
