"""The evidence credentials in the UNTP 0.7.0 shape, and the links a passport makes to them.

Terms come from the UNTP 0.7.0 context (vocabulary.uncefact.org/untp/0.7.0/context/), not from
older UNTP versions or the spec-untp working models:
- Digital Conformity Credential: the subject is a `ConformityAttestation` (with its
  `referenceScheme` / `referenceProfile`, `issuedToParty`) holding `ConformityAssessment`s
  (`assessmentCriteria` of `Criterion`s, `conformityTopic`, `assessedProduct` or
  `assessedFacility`, `assessedPerformance`, `conformance`);
- Digital Traceability Event: the subject is a list of lifecycle events, here a `MakeEvent`
  turning `inputProduct`s into `outputProduct`s `madeAtFacility`;
- Digital Facility Record: the subject is a `Facility`.
The credential type names themselves are undefined there, as `DigitalProductPassport` is; the
service's extension context (passports.vocabulary) defines them. UNTP's `Link` type and
`Performance` type are undefined as well, so links and performances carry no `type` (a JSON-LD
processor would drop it, and the engine refuses that).

A link to a credential is UNTP's secure link: `linkURL`, `linkName`, `linkType`, `mediaType`
and `digestMultibase`, the multibase (base64url, `u`) multihash SHA-256 of the bytes served at
`linkURL` for that media type, as VC Data Integrity's resource integrity writes it."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.times import iso8601 as iso
from passports.credential import PASSPORT_CONTEXT, VALIDITY_YEARS, issuer_of

# As the UNTP 0.7.0 schema's examples write them.
LINK_TYPES = "https://test.uncefact.org/vocabulary/linkTypes/"
LINK_TYPE = {"conformity": LINK_TYPES + "dcc", "traceability": LINK_TYPES + "dte",
             "facility": LINK_TYPES + "dfr", "passport": LINK_TYPES + "dpp"}
CREDENTIAL_TYPE = {"conformity": "DigitalConformityCredential",
                   "traceability": "DigitalTraceabilityEvent",
                   "facility": "DigitalFacilityRecord"}
KIND_OF_TYPE = {**{name: kind for kind, name in CREDENTIAL_TYPE.items()},
                "DigitalProductPassport": "passport"}
JWT_MEDIA_TYPE = "application/vc+jwt"
PIECES = "H87"  # UNECE Rec 20: piece


def link(*, url: str, name: str, link_type: str, digest: str,
         media_type: str = JWT_MEDIA_TYPE) -> dict:
    return {"linkURL": url, "linkName": name, "linkType": link_type, "mediaType": media_type,
            "digestMultibase": digest}


def _named(kind: str, value: dict) -> dict:
    return {"type": [kind], "id": value["id"], "name": value["name"]}


def conformity_subject(credential, subject: dict) -> dict:
    """A ConformityAttestation with one ConformityAssessment (what `subject` says: the
    scheme, criterion, topic, metric and value, the product or facility assessed)."""
    assessment = {
        "type": ["ConformityAssessment"],
        "id": f"{credential.credential_url}#assessment",
        "name": subject["name"],
        "assessmentDate": subject["assessment_date"],
        "assessmentCriteria": [_named("Criterion", subject["criterion"])],
        "conformityTopic": [_named("ConformityTopic", subject["topic"])],
        "conformance": bool(subject.get("conformance", True)),
    }
    if subject.get("metric"):
        assessment["assessedPerformance"] = [{
            "metric": _named("PerformanceMetric", subject["metric"]),
            "measure": {"value": subject["value"], "unit": subject["unit"]}}]
    if subject.get("product"):
        assessment["assessedProduct"] = [{
            "product": {"type": ["Product"], "id": subject["product"]["id"],
                        "name": subject["product"]["name"]},
            "idVerifiedByCAB": True}]
    if subject.get("facility"):
        assessment["assessedFacility"] = [{
            "facility": {"type": ["Facility"], "id": subject["facility"]["id"],
                         "name": subject["facility"]["name"]},
            "idVerifiedByCAB": True}]
    attestation = {
        "type": ["ConformityAttestation"],
        "id": f"{credential.credential_url}#attestation",
        "name": subject["name"],
        "attestationType": "certification",
        "issuedToParty": {"type": ["Party"], "id": subject["issued_to"]["id"],
                          "name": subject["issued_to"]["name"]},
        "referenceScheme": _named("ConformityScheme", subject["scheme"]),
        "conformityAssessment": [assessment],
    }
    if subject.get("profile"):
        attestation["referenceProfile"] = _named("ConformityProfile", subject["profile"])
    return attestation


def traceability_subject(credential, subject: dict) -> list[dict]:
    """One MakeEvent: the inputs (by their resolvable GS1 Digital Link URLs) made into the
    output product at a facility."""
    def item(product: dict) -> dict:
        entry = {"product": {"type": ["Product"], "id": product["id"], "name": product["name"]},
                 "quantity": {"value": product.get("quantity", 1), "unit": PIECES}}
        if product.get("granularity"):
            entry["product"]["idGranularity"] = product["granularity"]
        return entry

    return [{
        "type": ["MakeEvent"],
        "id": f"{credential.credential_url}#event",
        "name": subject["name"],
        "eventDate": subject["event_date"],
        "inputProduct": [item(product) for product in subject["inputs"]],
        "outputProduct": [item(product) for product in subject["outputs"]],
        "madeAtFacility": {"type": ["Facility"], "id": subject["facility"]["id"],
                           "name": subject["facility"]["name"]},
    }]


def facility_subject(credential, subject: dict) -> dict:
    facility = {
        "type": ["Facility"],
        "id": subject["id"],
        "name": subject["name"],
        "countryOfOperation": {"countryCode": subject["country"]},
    }
    if subject.get("description"):
        facility["description"] = subject["description"]
    if subject.get("process"):
        facility["processCategory"] = [{"code": subject["process"]["code"],
                                        "name": subject["process"]["name"]}]
    return facility


SUBJECTS = {"conformity": conformity_subject, "traceability": traceability_subject,
            "facility": facility_subject}


def evidence_credential(credential, *, issued_at: datetime, status_list_url: str | None,
                        status_index: int | None, issuer: dict | None = None) -> dict:
    """The unsigned credential of an EvidenceCredential row."""
    document = {
        "@context": PASSPORT_CONTEXT,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE[credential.kind]],
        "id": credential.credential_url,
        "name": credential.name,
        "issuer": issuer or issuer_of(credential.organisation),
        "validFrom": iso(issued_at),
        "validUntil": iso(issued_at + timedelta(days=365 * VALIDITY_YEARS)),
        "credentialSubject": SUBJECTS[credential.kind](credential, credential.subject),
    }
    if status_list_url is not None:
        document["credentialStatus"] = {
            "type": "BitstringStatusListEntry",
            "id": f"{status_list_url}#{status_index}",
            "statusPurpose": "revocation",
            "statusListIndex": status_index,
            "statusListCredential": status_list_url,
        }
    return document


def claim_from_conformity(credential: dict) -> dict:
    """What a passport claims on the strength of a conformity credential: its first
    assessment's topic, criterion and performance (empty when it has none)."""
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    assessments = subject.get("conformityAssessment") if isinstance(subject, dict) else None
    if not isinstance(assessments, list) or not assessments or not isinstance(assessments[0],
                                                                              dict):
        return {}
    first = assessments[0]
    claim = {}
    for key, source in (("topic", "conformityTopic"), ("criterion", "assessmentCriteria")):
        values = first.get(source)
        if isinstance(values, list) and values and isinstance(values[0], dict):
            claim[key] = {"id": values[0].get("id"), "name": values[0].get("name")}
    performance = first.get("assessedPerformance")
    if isinstance(performance, list) and performance and isinstance(performance[0], dict):
        metric, measure = performance[0].get("metric") or {}, performance[0].get("measure") or {}
        claim["metric"] = {"id": metric.get("id"), "name": metric.get("name")}
        claim["value"], claim["unit"] = measure.get("value"), measure.get("unit")
    claim["date"] = first.get("assessmentDate")
    return claim


def performance_claims(passport_url: str, links) -> list[dict]:
    """UNTP `performanceClaim`s of a passport, one per conformity link, its evidence the link."""
    claims = []
    for number, item in enumerate(links, start=1):
        claim = item.claim or {}
        topic = claim.get("topic") or {"id": item.url, "name": item.name}
        criterion = claim.get("criterion") or topic
        entry = {
            "type": ["Claim"],
            "id": f"{passport_url}#claim-{number}",
            "name": topic["name"],
            "claimDate": claim.get("date") or item.created_at.date().isoformat(),
            "referenceCriteria": [_named("Criterion", criterion)],
            "conformityTopic": [_named("ConformityTopic", topic)],
            "claimedPerformance": [],
            "evidence": [link(url=item.url, name=item.name, link_type=item.link_type,
                              digest=item.digest, media_type=item.media_type)],
        }
        if claim.get("metric") and claim.get("value") is not None:
            entry["claimedPerformance"] = [{
                "metric": _named("PerformanceMetric", claim["metric"]),
                "measure": {"value": claim["value"], "unit": claim["unit"]}}]
        claims.append(entry)
    return claims


def related_documents(links) -> list[dict]:
    return [link(url=item.url, name=item.name, link_type=item.link_type, digest=item.digest,
                 media_type=item.media_type) for item in links]
