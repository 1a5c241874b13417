"""The credential configurations this service issues into EU wallets, with what wallets show of
them: names, descriptions and claim labels in the four languages of the service's pages.

Wallet-facing labels live here, not in the gettext catalogues: issuer metadata carries every
language at once, and the labels are part of the protocol contract, tested as such. The wording
follows the public page's translations (locale/) where a term is shared."""

from __future__ import annotations

from dataclasses import dataclass

from wallet.business.identity.services import BUSINESS_IDENTITY_VCT
from wallet.business.presentations import ACCESS_ROLE_VCT
from wallet.tenancy.mandates import MANDATE_VCT

PRODUCT_PASSPORT_VCT = "https://w3id.org/dpp-wallet/vct/product-passport/v1"
FORMAT = "dc+sd-jwt"
LANGUAGES = ("en", "nl", "de", "fr")  # settings.LANGUAGES, the page languages


@dataclass(frozen=True)
class Claim:
    path: tuple[str, ...]
    labels: dict[str, str]  # language -> label


@dataclass(frozen=True)
class Configuration:
    id: str  # the key in credential_configurations_supported, also its OAuth scope
    vct: str
    names: dict[str, str]
    descriptions: dict[str, str]
    claims: tuple[Claim, ...]
    anchors_only: bool = False  # only trust anchors issue it

    @property
    def scope(self) -> str:
        return self.id


def _labels(en: str, nl: str, de: str, fr: str) -> dict[str, str]:
    return {"en": en, "nl": nl, "de": de, "fr": fr}


LEGAL_NAME = _labels("Legal name", "Statutaire naam", "Firmenname", "Dénomination sociale")
NAME = _labels("Name", "Naam", "Name", "Nom")
DID = _labels("Decentralised identifier (DID)", "Decentrale identificatie (DID)",
              "Dezentraler Identifikator (DID)", "Identifiant décentralisé (DID)")

BUSINESS_IDENTITY = Configuration(
    id="business_identity", vct=BUSINESS_IDENTITY_VCT, anchors_only=True,
    names=_labels("Business identity", "Bedrijfsidentiteit", "Unternehmensidentität",
                  "Identité de l'entreprise"),
    descriptions=_labels(
        "Who the organisation is, as its business register attests",
        "Wie de organisatie is, zoals het handelsregister bevestigt",
        "Wer das Unternehmen ist, wie sein Handelsregister bestätigt",
        "L'identité de l'entreprise, attestée par son registre du commerce"),
    claims=(
        Claim(("legal_name",), LEGAL_NAME),
        Claim(("euid",), _labels("EUID", "EUID", "EUID", "EUID")),
        Claim(("registry_id",), _labels("Registration number", "Inschrijvingsnummer",
                                        "Registernummer", "Numéro d'immatriculation")),
        Claim(("registry_name",), _labels("Register", "Register", "Register", "Registre")),
        Claim(("vat_id",), _labels("VAT number", "Btw-nummer",
                                   "Umsatzsteuer-Identifikationsnummer", "Numéro de TVA")),
        Claim(("lei",), _labels("LEI", "LEI", "LEI", "LEI")),
        Claim(("address",), _labels("Registered address", "Adres", "Anschrift", "Adresse")),
        Claim(("address", "street_address"), _labels("Street", "Straat", "Straße", "Rue")),
        Claim(("address", "postal_code"), _labels("Postal code", "Postcode", "Postleitzahl",
                                                  "Code postal")),
        Claim(("address", "locality"), _labels("City", "Plaats", "Ort", "Ville")),
        Claim(("address", "country"), _labels("Country", "Land", "Land", "Pays")),
    ))

MANDATE = Configuration(
    id="mandate", vct=MANDATE_VCT,
    names=_labels("Mandate", "Machtiging", "Vollmacht", "Mandat"),
    descriptions=_labels(
        "A power to act for an organisation, within one scope",
        "Een bevoegdheid om binnen één taak namens een organisatie te handelen",
        "Eine Befugnis, in einem Bereich für ein Unternehmen zu handeln",
        "Un pouvoir d'agir au nom d'une organisation, dans un domaine"),
    claims=(
        Claim(("principal",), _labels("Represented organisation", "Vertegenwoordigde organisatie",
                                      "Vertretene Organisation", "Organisation représentée")),
        Claim(("principal", "id"), DID),
        Claim(("principal", "legal_name"), LEGAL_NAME),
        Claim(("scope",), _labels("Powers", "Bevoegdheid", "Befugnis", "Pouvoir")),
        Claim(("representative",), _labels("Representative", "Vertegenwoordiger", "Vertreter",
                                           "Représentant")),
        Claim(("representative", "name"), NAME),
    ))

ACCESS_ROLE = Configuration(
    id="access_role", vct=ACCESS_ROLE_VCT,
    names=_labels("Access role", "Toegangsrol", "Zugriffsrolle", "Rôle d'accès"),
    descriptions=_labels(
        "Entitles the holder to restricted product passport data",
        "Geeft de houder toegang tot afgeschermde gegevens van productpaspoorten",
        "Berechtigt zum Zugriff auf geschützte Daten von Produktpässen",
        "Donne accès aux données protégées des passeports produits"),
    claims=(
        Claim(("role",), _labels("Role", "Rol", "Rolle", "Rôle")),
        Claim(("access_group",), _labels("Access group", "Toegangsgroep", "Zugriffsgruppe",
                                         "Groupe d'accès")),
    ))

PRODUCT_PASSPORT = Configuration(
    id="product_passport", vct=PRODUCT_PASSPORT_VCT,
    names=_labels("Product passport", "Productpaspoort", "Produktpass", "Passeport produit"),
    descriptions=_labels(
        "The digital product passport of one product",
        "Het digitale productpaspoort van één product",
        "Der digitale Produktpass eines Produkts",
        "Le passeport numérique d'un produit"),
    claims=(
        Claim(("passport_id",), _labels("Passport identifier", "Paspoortnummer",
                                        "Kennung des Produktpasses",
                                        "Identifiant du passeport")),
        Claim(("passport_credential",), _labels("Passport link", "Link naar het paspoort",
                                                "Link zum Produktpass",
                                                "Lien vers le passeport")),
        Claim(("product_name",), _labels("Product", "Product", "Produkt", "Produit")),
        Claim(("gtin",), _labels("GTIN", "GTIN", "GTIN", "GTIN")),
        Claim(("serial_number",), _labels("Serial number", "Serienummer", "Seriennummer",
                                          "Numéro de série")),
        Claim(("lot_number",), _labels("Batch", "Partij", "Charge", "Lot")),
        Claim(("manufacturer",), _labels("Manufacturer", "Fabrikant", "Hersteller",
                                         "Fabricant")),
        Claim(("manufacturer", "id"), DID),
        Claim(("manufacturer", "name"), NAME),
        Claim(("category",), _labels("Category", "Categorie", "Kategorie", "Catégorie")),
        Claim(("characteristics",), _labels("Characteristics", "Kenmerken", "Merkmale",
                                            "Caractéristiques")),
    ))

CONFIGURATIONS: dict[str, Configuration] = {
    configuration.id: configuration
    for configuration in (BUSINESS_IDENTITY, MANDATE, ACCESS_ROLE, PRODUCT_PASSPORT)}


def offered_by(organisation) -> list[Configuration]:
    """What `organisation` can issue: business identities only when it is a trust anchor."""
    return [configuration for configuration in CONFIGURATIONS.values()
            if organisation.is_trust_anchor or not configuration.anchors_only]
