"""OpenAPI: the API-key security scheme, problem responses, and examples of every credential
format (real, verifiable ones, signed once per process by a published example did:key)."""

from __future__ import annotations

import hashlib
from functools import cache

from credentials.dids import did_key_for, did_key_verification_method
from credentials.keys import LocalSigner
from credentials.signing import envelope
from credentials.suites import get_suite
from passports.api import media

# Examples -------------------------------------------------------------------------------------

EXAMPLE_SEED = hashlib.sha256(b"dpp-wallet public OpenAPI example key; never trusted").digest()
EXAMPLE_TIME = "2026-01-01T00:00:00Z"
EXAMPLE_IAT = 1767225600  # EXAMPLE_TIME in seconds
EXAMPLE_SUBJECT = "https://id.gs1.org/01/09506000134352/21/SN-0001"


def example_signer() -> LocalSigner:
    """A did:key whose private key is public by construction: examples only."""
    probe = LocalSigner.from_ed25519_seed(EXAMPLE_SEED)
    did = did_key_for(probe.public_key())
    return LocalSigner.from_ed25519_seed(EXAMPLE_SEED, did_key_verification_method(did))


def _issuer(signer: LocalSigner) -> str:
    return signer.verification_method.split("#", 1)[0]


def example_credential(signer: LocalSigner) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "id": "urn:uuid:0b8a3f2e-6d1c-4a59-9f1e-4c1d2b3a5e70",
        "issuer": _issuer(signer),
        "name": "Example product credential",
        "validFrom": EXAMPLE_TIME,
        "credentialSubject": {"id": EXAMPLE_SUBJECT, "name": "75 kWh Li-ion battery pack"},
    }


def example_credential_v1(signer: LocalSigner) -> dict:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "id": "urn:uuid:0b8a3f2e-6d1c-4a59-9f1e-4c1d2b3a5e71",
        "issuer": _issuer(signer),
        "issuanceDate": EXAMPLE_TIME,
        "credentialSubject": {"id": EXAMPLE_SUBJECT},
    }


@cache
def credential_examples() -> dict[str, dict | str]:
    """format → a secured example credential (or presentation) of that format."""
    signer = example_signer()
    credential, credential_v1 = example_credential(signer), example_credential_v1(signer)
    vc_jwt = get_suite("vc+jwt").secure(credential, signer)
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiablePresentation"], "verifiableCredential": [vc_jwt]}
    return {
        "vc+jwt": vc_jwt,
        "EnvelopedVerifiableCredential": envelope(vc_jwt),
        "eddsa-rdfc-2022": get_suite("eddsa-rdfc-2022").secure(credential, signer,
                                                               created=EXAMPLE_TIME),
        "eddsa-jcs-2022": get_suite("eddsa-jcs-2022").secure(credential, signer,
                                                             created=EXAMPLE_TIME),
        "Ed25519Signature2018": get_suite("Ed25519Signature2018").secure(
            credential_v1, signer, created=EXAMPLE_TIME),
        "jwt-vc": get_suite("jwt-vc").secure(credential_v1, signer),
        "dc+sd-jwt": get_suite("dc+sd-jwt").secure(
            {"vct": "https://w3id.org/dpp-wallet/vct/example", "gtin": "09506000134352",
             "product_name": "75 kWh Li-ion battery pack"}, signer, disclosable=["gtin"],
            iat=EXAMPLE_IAT),
        "vp+jwt": get_suite("vp+jwt").secure(presentation, signer,
                                             challenge="6e62f66e-67de-11eb-b490-ef3eeefa55f2",
                                             domain="verifier.example"),
    }


PRESENTATION_FORMATS = ("vp+jwt",)


def _examples(values: dict) -> dict:
    return {name.replace("+", "_"): {"summary": name, "value": value}
            for name, value in values.items()}


def add_credential_examples(result, generator, request, public):
    """Spectacular postprocessing hook: examples of each credential format on the operations
    that take or give credentials."""
    formats = credential_examples()
    credentials = {k: v for k, v in formats.items() if k not in PRESENTATION_FORMATS}
    presentations = {k: v for k, v in formats.items() if k in PRESENTATION_FORMATS}
    compact = {k: v for k, v in formats.items() if isinstance(v, str)}

    def content(path: str, method: str = "post", where: str = "requestBody") -> dict:
        operation = result.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            return {}
        if where == "requestBody":
            return operation.get("requestBody", {}).get("content", {})
        return operation.get("responses", {}).get(where, {}).get("content", {})

    verify = content("/api/v1/verify/")
    if media.JSON in verify:
        verify[media.JSON]["examples"] = _examples(
            {**{name: {"credential": value} for name, value in credentials.items()},
             **{name: {"presentation": value, "challenge": "6e62f66e-67de-11eb-b490-"
                                                          "ef3eeefa55f2",
                       "domain": "verifier.example"} for name, value in presentations.items()},
             "passport id": {"passport": "5f0c6a9e-2f6b-4a8e-9a37-0c2d7c1e9b11"},
             "product (GS1 keys)": {"gtin": "09506000134352", "serial": "SN-0001"}})
    for media_type, name in ((media.VC_JWT, "vc+jwt"), (media.SD_JWT, "dc+sd-jwt"),
                             (media.VP_JWT, "vp+jwt")):
        if media_type in verify:
            verify[media_type]["examples"] = _examples({name: compact[name]})
    for media_type in (media.VC_JSON, media.LD_JSON):
        if media_type in verify:
            verify[media_type]["examples"] = _examples(
                {k: v for k, v in credentials.items() if isinstance(v, dict)})

    vc_api = content("/credentials/verify")
    if media.JSON in vc_api:
        vc_api[media.JSON]["examples"] = _examples(
            {name: {"verifiableCredential": value} for name, value in credentials.items()})
    vp_api = content("/presentations/verify")
    if media.JSON in vp_api:
        vp_api[media.JSON]["examples"] = _examples(
            {name: {"verifiablePresentation": value,
                    "options": {"challenge": "6e62f66e-67de-11eb-b490-ef3eeefa55f2",
                                "domain": "verifier.example"}}
             for name, value in presentations.items()})

    for path in ("/api/v1/passports/{passport_id}/credential",
                 "/api/v1/passports/{passport_id}/credential/{access_group}"):
        served = content(path, "get", "200")
        if media.VC_JWT in served:
            served[media.VC_JWT]["example"] = formats["vc+jwt"]
        for media_type in (media.VC_JSON, media.LD_JSON, media.JSON):
            if media_type in served:
                served[media_type]["examples"] = _examples({
                    "vc+jwt (enveloped)": formats["EnvelopedVerifiableCredential"],
                    "eddsa-rdfc-2022 (embedded proof)": formats["eddsa-rdfc-2022"]})
    return result

