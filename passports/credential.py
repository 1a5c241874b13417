"""The passport credential: a W3C VCDM 2.0 credential in the UNTP DPP 0.7.0 shape.

Built from a product and its organisation; the public attributes go in the passport, each other
access group's attributes in a credential of its own about the same product."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from core.times import iso8601 as iso
from passports import categories
from passports.vocabulary import CONTEXT_URL
from wallet.business.identity.services import registered_identity

VC_V2 = "https://www.w3.org/ns/credentials/v2"
UNTP = "https://vocabulary.uncefact.org/untp/0.7.0/context/"
PASSPORT_CONTEXT = [VC_V2, UNTP, CONTEXT_URL]
GTIN_SCHEME = {"type": ["IdentifierScheme"], "id": "https://id.gs1.org/01/",
               "name": "Global Trade Item Number (GTIN)"}
CPC = "https://unstats.un.org/unsd/classifications/Econ/cpc/"
# UN CPC v2.1 classes per category: UNTP asks for productCategory.
CATEGORY_CLASSIFICATION = {
    "battery": ("4642", "Electric accumulators"),
    "textile": ("282", "Wearing apparel, except fur apparel"),
    "electronics": ("4722", "Telephones for cellular networks or for other wireless networks"),
    "generic": ("999", "Other products"),
}
VALIDITY_YEARS = 10


def issuer_of(organisation) -> dict:
    issuer = {"type": ["CredentialIssuer"], "id": organisation.did,
              "name": organisation.legal_name}
    also_known_as = registered_identity(organisation)
    if also_known_as:
        issuer["issuerAlsoKnownAs"] = [also_known_as]
    return issuer


def product_subject(product, characteristics: dict) -> dict:
    code, name = CATEGORY_CLASSIFICATION.get(product.category, CATEGORY_CLASSIFICATION["generic"])
    subject = {
        "type": ["Product"],
        "id": product.digital_link,
        "name": product.name,
        "idScheme": GTIN_SCHEME,
        "idGranularity": product.granularity,
        # No "type" on Classification and Country: the UNTP 0.7.0 context does not define
        # those type terms, so a JSON-LD processor would drop them (the engine refuses that).
        "productCategory": [{"code": code, "name": name,
                             "schemeId": CPC, "schemeName": "UN Central Product Classification"}],
        "producedAtFacility": {
            "type": ["Facility"],
            "id": product.facility_id or (f"{settings.PUBLIC_BASE_URL}/orgs/"
                                          f"{product.organisation.slug}/facilities/default"),
            "name": product.facility_name or product.organisation.legal_name,
        },
        "countryOfProduction": {"countryCode": product.country_of_production or "ZZ"},
        "characteristics": {"type": ["Characteristics"], **characteristics},
    }
    if product.description:
        subject["description"] = product.description
    if product.lot:
        subject["batchNumber"] = product.lot
    if product.serial:
        subject["itemNumber"] = product.serial
    if product.production_date:
        subject["productionDate"] = product.production_date.isoformat()
    return subject


def characteristics_by_group(product) -> dict[str, dict]:
    category = categories.get(product.category, product.category_version)
    groups = categories.split_by_access(category, product.attributes or {})
    return {group: categories.to_characteristics(category, values)
            for group, values in groups.items()}


def passport_credential(passport, *, issued_at: datetime, status_list_url: str | None,
                        status_index: int | None, groups: dict[str, dict] | None = None,
                        issuer: dict | None = None, links: list | None = None) -> dict:
    """The public passport credential (unsigned). `groups` are the product's characteristics
    by access group, and `links` its evidence links (passports.models.EvidenceLink), when the
    caller has them already."""
    from passports.evidence_credential import performance_claims, related_documents

    product = passport.product
    groups = characteristics_by_group(product) if groups is None else groups
    public = groups.get("public", {})
    if links is None:  # a product not saved (built to be judged, never issued) has none
        links = list(product.evidence_links.all()) if product.pk is not None else []
    credential = {
        "@context": PASSPORT_CONTEXT,
        "type": ["DigitalProductPassport", "VerifiableCredential"],
        "id": passport.credential_url,
        "name": f"Digital Product Passport: {product.name}",
        "issuer": issuer or issuer_of(product.organisation),
        "validFrom": iso(issued_at),
        "validUntil": iso(issued_at + timedelta(days=365 * VALIDITY_YEARS)),
        "credentialSubject": product_subject(product, public),
    }
    # Evidence (UNTP secure links, bound by hash): claims backed by conformity credentials,
    # and the inputs' passports and the traceability event that made the product.
    claims = [item for item in links if item.role == "claim"]
    documents = [item for item in links if item.role != "claim"]
    if claims:
        credential["credentialSubject"]["performanceClaim"] = performance_claims(
            passport.credential_url, claims)
    if documents:
        credential["credentialSubject"]["relatedDocument"] = related_documents(documents)
    if status_list_url is not None:
        credential["credentialStatus"] = {
            "type": "BitstringStatusListEntry",
            "id": f"{status_list_url}#{status_index}",
            "statusPurpose": "revocation",
            "statusListIndex": status_index,  # an integer, as the UNTP 0.7.0 schema types it
            "statusListCredential": status_list_url,
        }
    return credential


def restricted_credentials(passport, *, issued_at: datetime,
                           groups: dict[str, dict] | None = None,
                           issuer: dict | None = None) -> dict[str, dict]:
    """One credential per non-public access group that has data: group -> credential."""
    product = passport.product
    groups = characteristics_by_group(product) if groups is None else groups
    out = {}
    for group, characteristics in groups.items():
        if group == "public" or not characteristics:
            continue
        out[group] = {
            "@context": PASSPORT_CONTEXT,
            "type": ["DigitalProductPassport", "VerifiableCredential"],
            "id": f"{passport.credential_url}/{group}",
            "name": f"Restricted product data ({group}): {product.name}",
            "issuer": issuer or issuer_of(product.organisation),
            "validFrom": iso(issued_at),
            "credentialSubject": product_subject(product, characteristics),
        }
    return out
