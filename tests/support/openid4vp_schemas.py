"""JSON Schemas (2020-12) of the OpenID4VP 1.0 final messages, written from the specification's
parameter definitions (section numbers below), plus the rules a schema cannot say
(`spec_rule_errors`). The specification's published examples (tests/vectors/openid4vp, see its
MANIFEST.md) must pass them, and so must every message the verifier sends."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from cryptography import x509
from jsonschema import Draft202012Validator

from tests.support.json_schemas import conformance_errors

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
ENCRYPTED_RESPONSE_MODES = ("direct_post.jwt", "dc_api.jwt")
NON_EMPTY_STRING = {"type": "string", "minLength": 1}
NON_EMPTY_STRINGS = {"type": "array", "minItems": 1, "items": NON_EMPTY_STRING}
IDENTIFIER = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"}  # §6.1, §6.3: ids
URL_SAFE = {"type": "string", "pattern": r"^[A-Za-z0-9._~-]+$"}  # §5.2: nonce and state
OAUTH_ERROR_CODE = {"type": "string", "pattern": r"^[\x20\x21\x23-\x5B\x5D-\x7E]+$"}
OAUTH_ERROR_TEXT = {"type": "string", "pattern": r"^[\x20\x21\x23-\x5B\x5D-\x7E]*$"}
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
PUBLIC_JWK = {"type": "object", "required": ["kty"], "properties": {"kty": NON_EMPTY_STRING},
              "not": {"anyOf": [{"required": [member]} for member in PRIVATE_JWK_MEMBERS]}}
COMPACT_JWS = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$"}
COMPACT_JWE = {"type": "string",
               "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"
                          r"\.[A-Za-z0-9_-]+$"}

# §7: a claims path pointer. JSON credentials: strings, non-negative integers, null (§7.1);
# mdoc: exactly namespace and data element identifier (§7.2).
CLAIMS_PATH = {"type": "array", "minItems": 1, "items": {"anyOf": [
    {"type": "string"}, {"type": "integer", "minimum": 0}, {"type": "null"}]}}
MDOC_CLAIMS_PATH = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string"}}
# §6.3 Claims Query (+ Appendix B.2.4 intent_to_retain for mdocs).
CLAIMS_QUERY = {
    "type": "object", "required": ["path"],
    "properties": {"id": IDENTIFIER, "path": CLAIMS_PATH,
                   "values": {"type": "array", "minItems": 1,
                              "items": {"type": ["string", "integer", "boolean"]}},
                   "intent_to_retain": {"type": "boolean"}},
}
# §6.1 Credential Query, with the `meta` of each format profile (Appendix B.1.1, B.2.3, B.3.5).
CREDENTIAL_QUERY = {
    "type": "object", "required": ["id", "format", "meta"],
    "properties": {
        "id": IDENTIFIER,
        "format": NON_EMPTY_STRING,
        "multiple": {"type": "boolean"},
        "meta": {"type": "object"},
        "trusted_authorities": {"type": "array", "minItems": 1, "items": {   # §6.1.1
            "type": "object", "required": ["type", "values"],
            "properties": {"type": NON_EMPTY_STRING, "values": NON_EMPTY_STRINGS}}},
        "require_cryptographic_holder_binding": {"type": "boolean"},
        "claims": {"type": "array", "minItems": 1, "items": CLAIMS_QUERY},
        "claim_sets": {"type": "array", "minItems": 1, "items": {
            "type": "array", "minItems": 1, "items": IDENTIFIER}},
    },
    # §6.4.1: claim_sets MUST NOT be present if claims is absent.
    "dependentRequired": {"claim_sets": ["claims"]},
    "allOf": [
        {"if": {"properties": {"format": {"const": "dc+sd-jwt"}}},
         "then": {"properties": {"meta": {"required": ["vct_values"],
                                          "properties": {"vct_values": NON_EMPTY_STRINGS}}}}},
        {"if": {"properties": {"format": {"const": "mso_mdoc"}}},
         "then": {"properties": {
             "meta": {"required": ["doctype_value"],
                      "properties": {"doctype_value": NON_EMPTY_STRING}},
             "claims": {"items": {"properties": {"path": MDOC_CLAIMS_PATH}}}}}},
        {"if": {"properties": {"format": {"enum": ["jwt_vc_json", "ldp_vc"]}}},
         "then": {"properties": {"meta": {"required": ["type_values"], "properties": {
             "type_values": {"type": "array", "minItems": 1, "items": NON_EMPTY_STRINGS}}}}}},
    ],
}
# §6 DCQL query, §6.2 Credential Set Query.
DCQL_QUERY = {
    "type": "object", "required": ["credentials"],
    "properties": {
        "credentials": {"type": "array", "minItems": 1, "items": CREDENTIAL_QUERY},
        "credential_sets": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["options"],
            "properties": {"options": {"type": "array", "minItems": 1, "items": {
                "type": "array", "minItems": 1, "items": IDENTIFIER}},
                "required": {"type": "boolean"}}}},
    },
}
# §11.1 and Appendix B: vp_formats_supported, with each format profile's parameters.
VP_FORMATS_SUPPORTED = {
    "type": "object", "minProperties": 1, "additionalProperties": {"type": "object"},
    "properties": {
        "dc+sd-jwt": {"type": "object", "properties": {"sd-jwt_alg_values": NON_EMPTY_STRINGS,
                                                       "kb-jwt_alg_values": NON_EMPTY_STRINGS}},
        "jwt_vc_json": {"type": "object", "properties": {"alg_values": NON_EMPTY_STRINGS}},
        "ldp_vc": {"type": "object", "properties": {"proof_type_values": NON_EMPTY_STRINGS,
                                                    "cryptosuite_values": NON_EMPTY_STRINGS}},
        "mso_mdoc": {"type": "object", "properties": {
            "issuerauth_alg_values": {"type": "array", "minItems": 1,
                                      "items": {"type": "integer"}},
            "deviceauth_alg_values": {"type": "array", "minItems": 1,
                                      "items": {"type": "integer"}}}},
    },
}
# §5.1 client_metadata: jwks ("Each JWK in the set MUST have a kid"), the enc values, formats.
CLIENT_METADATA = {
    "type": "object",
    "properties": {
        "jwks": {"type": "object", "required": ["keys"], "properties": {"keys": {
            "type": "array", "minItems": 1,
            "items": {**PUBLIC_JWK, "required": ["kty", "kid"]}}}},
        "encrypted_response_enc_values_supported": NON_EMPTY_STRINGS,
        "vp_formats_supported": VP_FORMATS_SUPPORTED,
    },
}
# §5: the Authorization Request parameters, as the claims of a Request Object.
# `response_mode` is not required: §5.2 calls it REQUIRED, but §5.6 gives `vp_token` a
# default mode (fragment) and the published requests of §5.4 and §5.9.3 carry none.
REQUEST_OBJECT = {
    "type": "object", "required": ["response_type", "nonce"],
    "properties": {
        "response_type": {"enum": ["vp_token", "vp_token id_token", "code"]},
        "client_id": NON_EMPTY_STRING,
        "nonce": URL_SAFE,
        "state": URL_SAFE,
        "response_mode": NON_EMPTY_STRING,
        "response_uri": NON_EMPTY_STRING,
        "redirect_uri": NON_EMPTY_STRING,
        "dcql_query": DCQL_QUERY,
        "scope": NON_EMPTY_STRING,
        "client_metadata": CLIENT_METADATA,
        "request_uri_method": {"enum": ["get", "post"]},
        "transaction_data": NON_EMPTY_STRINGS,
        "verifier_info": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["format", "data"],
            "properties": {"format": NON_EMPTY_STRING, "data": {"type": ["object", "string"]},
                           "credential_ids": NON_EMPTY_STRINGS}}},
        "wallet_nonce": NON_EMPTY_STRING,
        "expected_origins": NON_EMPTY_STRINGS,
        "iss": {"type": "string"}, "aud": {"type": ["string", "array"]},
        "iat": {"type": "number"}, "exp": {"type": "number"},
    },
    # §5.1: a dcql_query or a scope standing for one, not both.
    "oneOf": [{"required": ["dcql_query"]}, {"required": ["scope"]}],
    "allOf": [
        # §5.2 client_id is REQUIRED; Appendix A.2: omitted in unsigned requests over the DC API.
        {"if": {"not": {"properties": {"response_mode": {"enum": ["dc_api", "dc_api.jwt"]}},
                        "required": ["response_mode"]}},
         "then": {"required": ["client_id"]}},
        # §8.2: response_uri with direct_post (and .jwt), and then never redirect_uri.
        {"if": {"properties": {"response_mode": {"enum": ["direct_post", "direct_post.jwt"]}},
                "required": ["response_mode"]},
         "then": {"required": ["response_uri"], "not": {"required": ["redirect_uri"]}}},
    ],
}
# §5, RFC 9101 §10.8: the JOSE header of a Request Object.
REQUEST_OBJECT_HEADER = {
    "type": "object", "required": ["typ", "alg"],
    "properties": {"typ": {"const": REQUEST_OBJECT_TYP},
                   "alg": {"type": "string", "pattern": r"^(?!none$)(?!HS)"},
                   "kid": NON_EMPTY_STRING, "x5c": NON_EMPTY_STRINGS, "jwt": COMPACT_JWS,
                   "trust_chain": NON_EMPTY_STRINGS},
}
# §5.4, §5.10 (RFC 9101 §5.2): the link that sends the Request Object by reference.
AUTHORIZATION_REQUEST_BY_REFERENCE = {
    "type": "object", "required": ["client_id", "request_uri"],
    "properties": {"client_id": NON_EMPTY_STRING, "request_uri": NON_EMPTY_STRING,
                   "request_uri_method": {"enum": ["get", "post"]}},
}
# §8.1: the VP Token, keyed by Credential Query id, each an array of presentations.
VP_TOKEN = {
    "type": "object", "minProperties": 1,
    "propertyNames": IDENTIFIER,
    "additionalProperties": {"type": "array", "minItems": 1,
                             "items": {"anyOf": [NON_EMPTY_STRING, {"type": "object"}]}},
}
# §8.1, §8.3: the Authorization Response parameters (the form of direct_post, or the payload
# of an encrypted response) carrying a VP Token.
AUTHORIZATION_RESPONSE = {
    "type": "object", "required": ["vp_token"],
    "properties": {"vp_token": VP_TOKEN, "state": URL_SAFE, "id_token": COMPACT_JWS},
    "not": {"required": ["error"]},
}
# §8.2, RFC 6749 §4.1.2.1: the Authorization Error Response.
AUTHORIZATION_ERROR_RESPONSE = {
    "type": "object", "required": ["error"],
    "properties": {"error": OAUTH_ERROR_CODE, "error_description": OAUTH_ERROR_TEXT,
                   "error_uri": {"type": "string"}, "state": {"type": "string"}},
    "not": {"required": ["vp_token"]},
}
# §8.3.1: the direct_post.jwt form: one `response` parameter holding the JWE.
ENCRYPTED_RESPONSE = {"type": "object", "required": ["response"],
                      "properties": {"response": COMPACT_JWE}}
# §8.3, RFC 7516 §4.1, RFC 7518 §4.6.1: the header of the JWE.
RESPONSE_JWE_HEADER = {
    "type": "object", "required": ["alg", "enc"],
    "properties": {"alg": NON_EMPTY_STRING, "enc": NON_EMPTY_STRING, "kid": NON_EMPTY_STRING,
                   "epk": PUBLIC_JWK, "apu": {"type": "string"}, "apv": {"type": "string"}},
    "if": {"properties": {"alg": {"pattern": "^ECDH-ES"}}}, "then": {"required": ["epk"]},
}
# §8.2: what the Response Endpoint answers once it processed a response.
ABSOLUTE_URI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:"}  # RFC 3986 §4.3
RESPONSE_ENDPOINT_ANSWER = {"type": "object", "properties": {"redirect_uri": ABSOLUTE_URI}}
# RFC 6749 §5.2: an OAuth error body (the Response Endpoint's refusals, the request_uri's 404).
ERROR_RESPONSE = {"type": "object", "required": ["error"],
                  "properties": {"error": OAUTH_ERROR_CODE,
                                 "error_description": OAUTH_ERROR_TEXT}}
# Appendix B.3.6 (RFC 9901 §4.3): the claims of a Key Binding JWT.
KB_JWT_CLAIMS = {"type": "object", "required": ["iat", "aud", "nonce", "sd_hash"],
                 "properties": {"iat": {"type": "number"}, "aud": NON_EMPTY_STRING,
                                "nonce": NON_EMPTY_STRING, "sd_hash": NON_EMPTY_STRING}}

SCHEMAS = {"dcql_query": DCQL_QUERY, "client_metadata": CLIENT_METADATA,
           "request_object": REQUEST_OBJECT, "request_object_header": REQUEST_OBJECT_HEADER,
           "authorization_request_by_reference": AUTHORIZATION_REQUEST_BY_REFERENCE,
           "vp_token": VP_TOKEN, "authorization_response": AUTHORIZATION_RESPONSE,
           "authorization_error_response": AUTHORIZATION_ERROR_RESPONSE,
           "encrypted_response": ENCRYPTED_RESPONSE, "response_jwe_header": RESPONSE_JWE_HEADER,
           "response_endpoint_answer": RESPONSE_ENDPOINT_ANSWER,
           "error_response": ERROR_RESPONSE, "kb_jwt_claims": KB_JWT_CLAIMS}
_VALIDATORS = {name: Draft202012Validator(schema) for name, schema in SCHEMAS.items()}


def errors(name: str, document) -> list[str]:
    """Schema violations of `document` as the named message, plus the rules of the
    specification that a schema cannot express; [] when it conforms."""
    return conformance_errors(_VALIDATORS[name], document,
                              lambda conforming: spec_rule_errors(name, conforming))


def spec_rule_errors(name: str, document) -> list[str]:
    if name == "dcql_query":
        return dcql_rule_errors(document)
    if name == "request_object":
        found = dcql_rule_errors(document["dcql_query"]) if "dcql_query" in document else []
        keys = document.get("client_metadata", {}).get("jwks", {}).get("keys", [])
        if document.get("response_mode") in ENCRYPTED_RESPONSE_MODES:
            # §8.3: "The alg parameter MUST be present in the JWKs."
            found += [f"client_metadata.jwks: key {key.get('kid')} has no alg"
                      for key in keys if "alg" not in key]
        return found
    return []


def dcql_rule_errors(query: dict) -> list[str]:
    """§6.1-§6.3: ids unique where they must be, and every id a set refers to defined."""
    found = []
    ids = [credential["id"] for credential in query["credentials"]]
    found += [f"credentials: id {i!r} used twice" for i in _duplicates(ids)]
    for credential in query["credentials"]:
        claims = credential.get("claims", [])
        claim_ids = [claim["id"] for claim in claims if "id" in claim]
        found += [f"{credential['id']}.claims: id {i!r} used twice"
                  for i in _duplicates(claim_ids)]
        if "claim_sets" in credential:
            if len(claim_ids) != len(claims):  # §6.3: id REQUIRED when claim_sets is present
                found.append(f"{credential['id']}.claims: every claim needs an id with "
                             f"claim_sets")
            found += [f"{credential['id']}.claim_sets: {i!r} is no claim id"
                      for option in credential["claim_sets"] for i in option
                      if i not in claim_ids]
    for credential_set in query.get("credential_sets", []):
        found += [f"credential_sets: {i!r} is no credential query id"
                  for option in credential_set["options"] for i in option if i not in ids]
    return found


def request_object_binding_errors(header: dict, claims: dict) -> list[str]:
    """§5.9.3: what the Client Identifier Prefix demands of the signed Request Object."""
    prefix, _, value = claims.get("client_id", "").partition(":")
    if prefix in ("x509_hash", "x509_san_dns") and not header.get("x5c"):
        return [f"{prefix}: the request needs the certificate chain in x5c"]
    if prefix == "x509_hash":
        leaf = base64.b64decode(header["x5c"][0])
        expected = base64.urlsafe_b64encode(hashlib.sha256(leaf).digest()).rstrip(b"=")
        if value != expected.decode():
            return ["x509_hash: not the SHA-256 of the leaf certificate in x5c"]
    if prefix == "x509_san_dns":
        return x509_san_dns_errors(header, claims, value)
    if prefix == "decentralized_identifier" and not header.get("kid", "").startswith(value):
        return ["decentralized_identifier: kid must name a key of the DID"]
    return []


def x509_san_dns_errors(header: dict, claims: dict, dns_name: str) -> list[str]:
    """§5.9.3 x509_san_dns: the DNS name is a dNSName SAN of the leaf in x5c; and, for a Wallet
    that does not list the Verifier as trusted, the FQDN of where the response goes (the
    `redirect_uri`, or the `response_uri` in a direct_post request, which has no redirect_uri)
    is that name."""
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
            .get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    if dns_name not in names:
        return [f"x509_san_dns: {dns_name} is not a dNSName SAN of the leaf certificate in x5c "
                f"({', '.join(names) or 'none'})"]
    answer_at = claims.get("response_uri") or claims.get("redirect_uri")
    if answer_at is not None and urlsplit(answer_at).hostname != dns_name:
        return [f"x509_san_dns: the response goes to {answer_at}, not to {dns_name}"]
    return []


def _duplicates(values: list) -> list:
    return sorted({value for value in values if values.count(value) > 1})
