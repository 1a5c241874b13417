"""Demo products and passports for `manage.py demo` (docs/architecture.md, Demo data).
Idempotent."""

from django.db import transaction

from passports.models import Passport, Product
from passports.services.issuance import passport_request, passports_sign
from passports.services.products import product_create
from wallet.tenancy.authority import operator
from wallet.tenancy.models import Organisation

DEMO_PRODUCTS = [
    {
        "gtin": "09506000134352", "serial": "ACME-BAT-0001",
        "name": "Acme 75 kWh EV battery pack", "category": "battery",
        "description": "NMC 811 lithium-ion traction battery, 400 V.",
        "facility_name": "Acme Plant Eindhoven", "country_of_production": "NL",
        "attributes": {
            "manufacturingPlace": "Eindhoven, Netherlands", "manufacturingDate": "2026-10",
            "batteryCategory": "Electric vehicle battery", "batteryMass": 452.5,
            "extinguishingAgent": "Class D dry powder or water mist",
            "batteryChemistry": "Lithium nickel manganese cobalt oxide (NMC 811)",
            "criticalRawMaterials": "cobalt, lithium, nickel, natural graphite",
            "hazardousSubstances": "none above regulatory thresholds",
            "ratedCapacity": 200, "certifiedUsableEnergy": 75, "nominalVoltage": 400,
            "carbonFootprintPerFunctionalUnit": 61.2,
            "postConsumerRecycledCobaltShare": 16, "postConsumerRecycledLithiumShare": 6,
            "postConsumerRecycledNickelShare": 6, "postConsumerRecycledLeadShare": 0,
            "remainingCapacity": 198, "stateOfCertifiedEnergy": 99.1,
        },
    },
    {
        "gtin": "04006381333931", "lot": "TX-2026-11", "name": "Acme organic cotton work shirt",
        "category": "textile", "facility_name": "Acme Textiles Porto",
        "country_of_production": "PT",
        "attributes": {
            "fibreComposition": "95% organic cotton, 5% elastane", "recycledContentShare": 20,
            "careInstructions": "Wash at 40 °C, do not tumble dry",
            "countryOfSpinning": "TR", "countryOfConfection": "PT",
            "supplierList": "Spinning: Ege Iplik (TR); confection: Acme Porto (PT)",
        },
    },
    {
        "gtin": "00012345678905", "serial": "ACME-PH-0042", "name": "Acme Fairphone-style handset",
        "category": "electronics", "facility_name": "Acme Electronics Brno",
        "country_of_production": "CZ",
        "attributes": {
            "repairabilityScore": 9.3, "sparePartsAvailabilityYears": 7,
            "energyEfficiencyClass": "A", "softwareUpdateSupportYears": 8,
            "batteryUserReplaceable": True,
            "repairManual": "https://acme.example.com/repair/ph-0042.pdf",
        },
    },
]


@transaction.atomic
def ensure_demo_products(organisation: Organisation) -> list[Product]:
    products = []
    for spec in DEMO_PRODUCTS:
        product = Product.objects.filter(gtin=spec["gtin"], lot=spec.get("lot", ""),
                                         serial=spec.get("serial", "")).first()
        products.append(product or product_create(organisation=organisation, **spec))
    return products


def ensure_demo_passports(products: list[Product]) -> list[Passport]:
    """One issued passport per demo product (signed here, synchronously: no worker needed)."""
    passports = []
    for product in products:
        passport = product.passports.order_by("-version").first()
        if passport is None:
            passport = passport_request(product=product, actor=operator(), reason="demo")
        if passport.state == Passport.State.PENDING:
            passports_sign([passport.pk])
            passport.refresh_from_db()
        passports.append(passport)
    return passports


def ensure_demo_revocation(passports: list[Passport]) -> None:
    """The textile passport is revoked (the demo shows every verdict)."""
    from passports.services.status import passport_revoke

    textile = next(p for p in passports if p.product.category == "textile")
    if textile.state == Passport.State.ISSUED:
        passport_revoke(passport=textile, actor=operator(),
                        reason="demo: fibre composition was wrong")
        textile.refresh_from_db()


def ensure_demo_entitlement(manufacturer: Organisation, partner: Organisation) -> None:
    """The recycler may read acme's `legitimate_interest` data through the API."""
    from passports.models import Entitlement

    Entitlement.objects.get_or_create(manufacturer=manufacturer, partner=partner,
                                      access_group="legitimate_interest")
