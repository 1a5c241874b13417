"""JSON Schemas (2020-12) of the OpenID4VCI 1.0 final messages, written from the specification's
parameter definitions (section numbers below), plus the rules a schema cannot say
(`spec_rule_errors`). The specification's own published examples (tests/vectors/openid4vci,
see its MANIFEST.md) must pass them, and so must every message the service sends; requests are
checked too, since tests feed the published requests to the service."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator, FormatChecker

from tests.support.json_schemas import conformance_errors

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
ASCII_ERROR_TEXT = r"^[\x20\x21\x23-\x5B\x5D-\x7E]*$"  # §8.3.1.2 error_description charset
NON_EMPTY_STRINGS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
NON_EMPTY_STRING = {"type": "string", "minLength": 1}
URL = {"type": "string", "pattern": r"^https?://[^?#\s]+(\?[^#\s]*)?$"}
# §12.2.1: scheme, host, port, path; no query or fragment. (https in production; the tests'
# service runs on http://localhost, so http is accepted here.)
IDENTIFIER = {"type": "string", "pattern": r"^https?://[^?#\s]+$"}
LOGO = {"type": "object", "required": ["uri"],
        "properties": {"uri": {"type": "string"}, "alt_text": {"type": "string"}}}
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
PUBLIC_JWK = {"type": "object", "required": ["kty"],
              "properties": {"kty": NON_EMPTY_STRING, "kid": {"type": "string"}},
              "not": {"anyOf": [{"required": [member]} for member in PRIVATE_JWK_MEMBERS]}}
# RFC 7517 §5, with §12.2.4's "Each JWK in the set MUST have a kid".
JWKS = {"type": "object", "required": ["keys"], "properties": {"keys": {
    "type": "array", "minItems": 1, "items": {**PUBLIC_JWK, "required": ["kty", "kid"]}}}}

# §12.2.4 display of the Credential Issuer, and of a credential in credential_metadata.
ISSUER_DISPLAY = {"type": "array", "minItems": 1, "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "locale": {"type": "string"},
                                     "logo": LOGO}}}
CREDENTIAL_DISPLAY = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["name"],
    "properties": {"name": {"type": "string"}, "locale": {"type": "string"}, "logo": LOGO,
                   "description": {"type": "string"},
                   "background_color": {"type": "string"},
                   "background_image": {"type": "object", "required": ["uri"]},
                   "text_color": {"type": "string"}}}}
# Appendix C: a claims path pointer; Appendix B.2: claims description objects in metadata.
CLAIMS_PATH = {"type": "array", "minItems": 1, "items": {"anyOf": [
    {"type": "string"}, {"type": "integer", "minimum": 0}, {"type": "null"}]}}
CLAIMS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["path"],
    "properties": {
        "path": CLAIMS_PATH,
        "mandatory": {"type": "boolean"},
        "display": {"type": "array", "minItems": 1, "items": {
            "type": "object", "properties": {"name": {"type": "string"},
                                             "locale": {"type": "string"}}}},
    }}}
CREDENTIAL_DEFINITION = {"type": "object", "required": ["type"],
                         "properties": {"type": NON_EMPTY_STRINGS}}
CONFIGURATION = {
    "type": "object", "required": ["format"],
    "properties": {
        "format": NON_EMPTY_STRING,
        "scope": {"type": "string"},
        "credential_signing_alg_values_supported": {"type": "array", "minItems": 1},
        "cryptographic_binding_methods_supported": NON_EMPTY_STRINGS,
        "proof_types_supported": {
            "type": "object", "minProperties": 1, "additionalProperties": {
                "type": "object", "required": ["proof_signing_alg_values_supported"],
                "properties": {"proof_signing_alg_values_supported": NON_EMPTY_STRINGS,
                               "key_attestations_required": {"type": "object", "properties": {
                                   "key_storage": NON_EMPTY_STRINGS,
                                   "user_authentication": NON_EMPTY_STRINGS}}}}},
        "credential_metadata": {"type": "object", "properties": {
            "display": CREDENTIAL_DISPLAY, "claims": CLAIMS}},
    },
    # §12.2.4: proof_types_supported MUST be present with binding methods, omitted otherwise.
    "dependentRequired": {"cryptographic_binding_methods_supported": ["proof_types_supported"],
                          "proof_types_supported": ["cryptographic_binding_methods_supported"]},
    # Appendix A: what each format profile adds (A.1.1.2, A.1.2.2, A.1.3.2, A.2.2, A.3.2).
    "allOf": [
        {"if": {"properties": {"format": {"const": "dc+sd-jwt"}}},
         "then": {"required": ["vct"], "properties": {"vct": NON_EMPTY_STRING}}},
        {"if": {"properties": {"format": {"const": "mso_mdoc"}}},
         "then": {"required": ["doctype"], "properties": {"doctype": NON_EMPTY_STRING}}},
        {"if": {"properties": {"format": {"const": "jwt_vc_json"}}},
         "then": {"required": ["credential_definition"],
                  "properties": {"credential_definition": CREDENTIAL_DEFINITION}}},
        {"if": {"properties": {"format": {"enum": ["ldp_vc", "jwt_vc_json-ld"]}}},
         "then": {"required": ["credential_definition"], "properties": {
             "credential_definition": {**CREDENTIAL_DEFINITION, "required": ["@context", "type"],
                                       "properties": {"@context": {"type": "array"},
                                                      "type": NON_EMPTY_STRINGS}}}}},
    ],
}
CONFIGURATIONS = {"type": "object", "minProperties": 1, "additionalProperties": CONFIGURATION}
ISSUER_METADATA = {
    "type": "object",
    "required": ["credential_issuer", "credential_endpoint",
                 "credential_configurations_supported"],
    "properties": {
        "credential_issuer": IDENTIFIER,
        "authorization_servers": NON_EMPTY_STRINGS,
        "credential_endpoint": URL,
        "nonce_endpoint": URL,
        "deferred_credential_endpoint": URL,
        "notification_endpoint": URL,
        "credential_request_encryption": {
            "type": "object", "required": ["jwks", "enc_values_supported", "encryption_required"],
            "properties": {"jwks": JWKS, "enc_values_supported": NON_EMPTY_STRINGS,
                           "zip_values_supported": NON_EMPTY_STRINGS,
                           "encryption_required": {"type": "boolean"}}},
        "credential_response_encryption": {
            "type": "object",
            "required": ["alg_values_supported", "enc_values_supported", "encryption_required"],
            "properties": {"alg_values_supported": NON_EMPTY_STRINGS,
                           "enc_values_supported": NON_EMPTY_STRINGS,
                           "zip_values_supported": NON_EMPTY_STRINGS,
                           "encryption_required": {"type": "boolean"}}},
        "batch_credential_issuance": {"type": "object", "required": ["batch_size"],
                                      "properties": {"batch_size": {"type": "integer",
                                                                    "minimum": 2}}},
        "display": ISSUER_DISPLAY,
        "credential_configurations_supported": CONFIGURATIONS,
    },
}
# Format-profile examples (Appendix A) show only this member of the metadata.
CREDENTIAL_CONFIGURATIONS = {"type": "object", "required": ["credential_configurations_supported"],
                             "properties": {"credential_configurations_supported": CONFIGURATIONS}}
# RFC 8414 §2 (+ OpenID4VCI §12.3).
AUTHORIZATION_SERVER_METADATA = {
    "type": "object", "required": ["issuer"],
    "properties": {
        "issuer": IDENTIFIER,
        "authorization_endpoint": URL,
        "token_endpoint": URL,
        "grant_types_supported": NON_EMPTY_STRINGS,
        "token_endpoint_auth_methods_supported": NON_EMPTY_STRINGS,
        "scopes_supported": NON_EMPTY_STRINGS,
        "response_types_supported": NON_EMPTY_STRINGS,
        "pre-authorized_grant_anonymous_access_supported": {"type": "boolean"},
        "authorization_details_types_supported": NON_EMPTY_STRINGS,
    },
    # RFC 8414 §2: authorization_endpoint is required unless no grant type uses it; the
    # default grant types are authorization_code and implicit, which both do.
    "if": {"anyOf": [{"not": {"required": ["grant_types_supported"]}},
                     {"properties": {"grant_types_supported": {"contains": {
                         "enum": ["authorization_code", "implicit"]}}}}]},
    "then": {"required": ["authorization_endpoint"]},
}
# §4.1.1
CREDENTIAL_OFFER = {
    "type": "object", "required": ["credential_issuer", "credential_configuration_ids"],
    "properties": {
        "credential_issuer": IDENTIFIER,
        "credential_configuration_ids": {"type": "array", "minItems": 1, "uniqueItems": True,
                                         "items": {"type": "string"}},
        "grants": {"type": "object", "properties": {
            "authorization_code": {"type": "object", "properties": {
                "issuer_state": {"type": "string"},
                "authorization_server": {"type": "string"}}},
            PRE_AUTHORIZED_GRANT: {
                "type": "object", "required": ["pre-authorized_code"],
                "properties": {
                    "pre-authorized_code": NON_EMPTY_STRING,
                    "tx_code": {"type": "object", "properties": {
                        "input_mode": {"enum": ["numeric", "text"]},
                        "length": {"type": "integer", "minimum": 1},
                        "description": {"type": "string", "maxLength": 300}}},
                    "authorization_server": {"type": "string"}}},
        }},
    },
}
# §6.1 (RFC 6749 §4.1.3), the form fields as a name → value object.
TOKEN_REQUEST = {
    "type": "object", "required": ["grant_type"],
    "additionalProperties": {"type": "string"},
    "allOf": [
        {"if": {"properties": {"grant_type": {"const": PRE_AUTHORIZED_GRANT}}},
         "then": {"required": ["pre-authorized_code"],
                  "properties": {"pre-authorized_code": NON_EMPTY_STRING}}},
        {"if": {"properties": {"grant_type": {"const": "authorization_code"}}},
         "then": {"required": ["code"]}},
        # §6.1: tx_code only with the pre-authorized code grant.
        {"if": {"required": ["tx_code"]},
         "then": {"properties": {"grant_type": {"const": PRE_AUTHORIZED_GRANT}}}},
    ],
}
# RFC 9396 authorization_details of type openid_credential (§5.1.1, answered in §6.2).
AUTHORIZATION_DETAILS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["type"], "properties": {"type": NON_EMPTY_STRING},
    "if": {"properties": {"type": {"const": "openid_credential"}}},
    "then": {"required": ["credential_configuration_id"],
             "properties": {"credential_configuration_id": NON_EMPTY_STRING,
                            "claims": CLAIMS}}}}
# §6.2 (RFC 6749 §5.1)
TOKEN_RESPONSE = {
    "type": "object", "required": ["access_token", "token_type"],
    "properties": {
        "access_token": NON_EMPTY_STRING,
        "token_type": {"type": "string"},
        "expires_in": {"type": "integer", "minimum": 1},
        "authorization_details": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["type", "credential_configuration_id",
                                           "credential_identifiers"],
            "properties": {"type": {"const": "openid_credential"},
                           "credential_configuration_id": {"type": "string"},
                           "credential_identifiers": NON_EMPTY_STRINGS}}},
    },
}
# §7.2
NONCE_RESPONSE = {"type": "object", "required": ["c_nonce"],
                  "properties": {"c_nonce": NON_EMPTY_STRING}}
# §8.2 proofs: exactly one proof type, a non-empty array (Appendix F.1-F.3).
PROOFS = {"type": "object", "minProperties": 1, "maxProperties": 1,
          "properties": {"jwt": {"type": "array", "minItems": 1, "items": NON_EMPTY_STRING},
                         "di_vp": {"type": "array", "minItems": 1,
                                   "items": {"type": "object"}},
                         "attestation": {"type": "array", "minItems": 1, "maxItems": 1,
                                         "items": NON_EMPTY_STRING}},
          "additionalProperties": {"type": "array", "minItems": 1}}
RESPONSE_ENCRYPTION = {"type": "object", "required": ["jwk", "enc"],
                       "properties": {"jwk": PUBLIC_JWK, "enc": NON_EMPTY_STRING,
                                      "zip": NON_EMPTY_STRING}}
# §8.2: credential_identifier or credential_configuration_id, never both.
CREDENTIAL_REQUEST = {
    "type": "object",
    "properties": {"credential_identifier": NON_EMPTY_STRING,
                   "credential_configuration_id": NON_EMPTY_STRING,
                   "proofs": PROOFS,
                   "credential_response_encryption": RESPONSE_ENCRYPTION},
    "oneOf": [{"required": ["credential_identifier"]},
              {"required": ["credential_configuration_id"]}],
}
# Appendix F.1: the JOSE header and the claims of a `jwt` key proof.
PROOF_JWT_HEADER = {
    "type": "object", "required": ["alg", "typ"],
    "properties": {"alg": {"type": "string", "pattern": r"^(?!none$)(?!HS)"},
                   "typ": {"const": PROOF_TYP},
                   "kid": NON_EMPTY_STRING, "jwk": PUBLIC_JWK,
                   "x5c": NON_EMPTY_STRINGS, "key_attestation": NON_EMPTY_STRING,
                   "trust_chain": NON_EMPTY_STRINGS},
    # kid, jwk and x5c: each "MUST NOT be present if" one of the others is.
    "not": {"anyOf": [{"required": ["kid", "jwk"]}, {"required": ["kid", "x5c"]},
                      {"required": ["jwk", "x5c"]}]},
}
PROOF_JWT_CLAIMS = {"type": "object", "required": ["aud", "iat"],
                    "properties": {"iss": {"type": "string"}, "aud": NON_EMPTY_STRING,
                                   "iat": {"type": "number"}, "nonce": {"type": "string"}}}
# §8.3: immediate (200) and deferred (202) credential responses.
CREDENTIAL_RESPONSE = {
    "type": "object", "required": ["credentials"],
    "properties": {
        "credentials": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["credential"],
            "properties": {"credential": {"type": ["string", "object"]}}}},
        "notification_id": {"type": "string"},
    },
    "not": {"anyOf": [{"required": ["transaction_id"]}, {"required": ["interval"]}]},
}
DEFERRED_RESPONSE = {
    "type": "object", "required": ["transaction_id", "interval"],
    "properties": {"transaction_id": NON_EMPTY_STRING,
                   "interval": {"type": "number", "exclusiveMinimum": 0}},
    "not": {"anyOf": [{"required": ["credentials"]}, {"required": ["notification_id"]}]},
}
# §9.1
DEFERRED_CREDENTIAL_REQUEST = {
    "type": "object", "required": ["transaction_id"],
    "properties": {"transaction_id": NON_EMPTY_STRING,
                   "credential_response_encryption": RESPONSE_ENCRYPTION}}
# RFC 6749 §5.2, RFC 6750 §3, OpenID4VCI §8.3.1.2 and §9.3.
ERROR_RESPONSE = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "string", "pattern": r"^[\x20\x21\x23-\x5B\x5D-\x7E]+$"},
                   "error_description": {"type": "string", "pattern": ASCII_ERROR_TEXT},
                   "error_uri": {"type": "string"}},
}
# The issuer-signed JWT payload of a `dc+sd-jwt` credential (Appendix A.3.4, SD-JWT VC §3.2,
# RFC 9901 §4.1; the status claim of the Token Status List).
SD_JWT_VC_PAYLOAD = {
    "type": "object", "required": ["vct"],
    "properties": {
        "vct": NON_EMPTY_STRING, "iss": NON_EMPTY_STRING, "sub": {"type": "string"},
        "iat": {"type": "number"}, "exp": {"type": "number"}, "nbf": {"type": "number"},
        "cnf": {"type": "object", "properties": {"jwk": PUBLIC_JWK}, "minProperties": 1},
        "_sd": {"type": "array", "items": {"type": "string"}},
        "_sd_alg": NON_EMPTY_STRING,
        "status": {"type": "object", "properties": {"status_list": {
            "type": "object", "required": ["idx", "uri"],
            "properties": {"idx": {"type": "integer", "minimum": 0}, "uri": NON_EMPTY_STRING}}}},
    },
}

SCHEMAS = {"issuer_metadata": ISSUER_METADATA,
           "credential_configurations": CREDENTIAL_CONFIGURATIONS,
           "authorization_server_metadata": AUTHORIZATION_SERVER_METADATA,
           "credential_offer": CREDENTIAL_OFFER, "token_request": TOKEN_REQUEST,
           "token_response": TOKEN_RESPONSE, "nonce_response": NONCE_RESPONSE,
           "credential_request": CREDENTIAL_REQUEST, "proofs": PROOFS,
           "proof_jwt_header": PROOF_JWT_HEADER, "proof_jwt_claims": PROOF_JWT_CLAIMS,
           "credential_response": CREDENTIAL_RESPONSE, "deferred_response": DEFERRED_RESPONSE,
           "deferred_credential_request": DEFERRED_CREDENTIAL_REQUEST,
           "error_response": ERROR_RESPONSE, "sd_jwt_vc_payload": SD_JWT_VC_PAYLOAD}
_VALIDATORS = {name: Draft202012Validator(schema, format_checker=FormatChecker())
               for name, schema in SCHEMAS.items()}


def errors(name: str, document) -> list[str]:
    """Schema violations of `document` as the named message, plus the rules of the
    specification that a schema cannot express; [] when it conforms."""
    return conformance_errors(_VALIDATORS[name], document,
                              lambda conforming: spec_rule_errors(name, conforming))


def spec_rule_errors(name: str, document) -> list[str]:
    found = []
    if name == "issuer_metadata":
        found += _one_per_locale("display", document.get("display", []))
    if name in ("issuer_metadata", "credential_configurations"):
        for key, configuration in document["credential_configurations_supported"].items():
            metadata = configuration.get("credential_metadata", {})
            found += _one_per_locale(f"{key}.display", metadata.get("display", []))
            found += claims_description_errors(f"{key}.claims", metadata.get("claims", []))
            for claim in metadata.get("claims", []):
                found += _one_per_locale(f"{key}.claims.{claim['path']}",
                                         claim.get("display", []))
    if name == "token_request" and "authorization_details" in document:
        found += _authorization_details_errors(document["authorization_details"])
    return found


def claims_description_errors(where: str, claims: list) -> list[str]:
    """Appendix B.3: processing is aborted for a claim described twice, for a `null` and an
    index into the same array, and for a claim used both as an array and as an object."""
    found, seen = [], set()
    uses: dict[tuple, set[str]] = {}  # path prefix → how the next component uses it
    for claim in claims:
        path = tuple(claim["path"])
        if path in seen:
            found.append(f"{where}: {list(path)} is described twice")
        seen.add(path)
        for position, component in enumerate(path[1:], start=1):
            kind = ("all" if component is None else "index" if isinstance(component, int)
                    else "member")
            uses.setdefault(path[:position], set()).add(kind)
    for prefix, kinds in uses.items():
        if {"all", "index"} <= kinds:
            found.append(f"{where}: {list(prefix)} has both null and an index")
        if "member" in kinds and kinds & {"all", "index"}:
            found.append(f"{where}: {list(prefix)} is used as an array and as an object")
    return found


def _authorization_details_errors(raw: str) -> list[str]:
    try:
        details = json.loads(raw)
    except ValueError:
        return ["authorization_details: not JSON"]
    validator = Draft202012Validator(AUTHORIZATION_DETAILS)
    return [f"authorization_details/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(details)]


def _one_per_locale(where: str, display: list) -> list[str]:
    locales = [item.get("locale") for item in display]
    return [f"{where}: a locale appears twice"] if len(locales) != len(set(locales)) else []
