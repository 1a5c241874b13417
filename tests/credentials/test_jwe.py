"""Compact JWE, ECDH-ES on P-256 with A128GCM / A256GCM: the published vectors (RFC 7518
Appendix C, the OpenID4VP 1.0 §8.3 example), round trips, and every refusal named."""

import json

import pytest

from credentials import jose, jwe
from credentials.encoding import b64url_encode

# RFC 7518 Appendix C: Alice's ephemeral key, Bob's static key, apu "Alice", apv "Bob".
ALICE = {"kty": "EC", "crv": "P-256", "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
         "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
         "d": "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"}
BOB = {"kty": "EC", "crv": "P-256", "x": "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
       "y": "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
       "d": "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"}
RFC_DERIVED_KEY = "VqqN6vgjbSBcIijNcacQGg"
# RFC 7518 Appendix C: Z, the ECDH-ES key agreement output.
RFC_Z = bytes([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251,
               49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196])

# OpenID4VP 1.0 §8.3: the Verifier's key "ac" and a response encrypted to it.
OID4VP_KEY = {"kty": "EC", "kid": "ac", "use": "enc", "crv": "P-256", "alg": "ECDH-ES",
              "x": "YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk",
              "y": "Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk",
              "d": "Et-3ce0omz8_TuZ96Df9lp0GAaaDoUnDe6X-CRO7Aww"}
OID4VP_RESPONSE = (
    "eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTEyOEdDTSIsImtpZCI6ImFjIiwiZXBrIjp7Imt"
    "0eSI6IkVDIiwieCI6Im5ubVZwbTNWM2piaGNhZlFhUkJrU1ZOSGx3Wkh3dC05ck9wSnVmeVlJdWsiLCJ5I"
    "joicjRmakRxd0p5czlxVU9QLV9iM21SNVNaRy0tQ3dPMm1pYzVWU05UWU45ZyIsImNydiI6IlAtMjU2In1"
    "9..uAYcHRUSSn2X0WPX.yVzlGSYG4qbg0bq18JcUiDRw56yVnbKR8E7S7YlEtzT00RqE3Pw5oTpUG3hdLN"
    "4taHZ9gC1kwak8JOnJgQ.1wR024_3-qtAlx1oFIUpQQ")


def public(jwk: dict) -> dict:
    return {k: v for k, v in jwk.items() if k != "d"}


def test_rfc7518_appendix_c_concat_kdf_from_z():
    derived = jwe.concat_kdf(RFC_Z, "A128GCM", 16, apu=b"Alice", apv=b"Bob")

    assert b64url_encode(derived) == RFC_DERIVED_KEY


@pytest.mark.parametrize("mine, theirs", [(ALICE, BOB), (BOB, ALICE)])
def test_rfc7518_appendix_c_both_sides_agree_on_the_published_key(mine, theirs):
    key = jwe.EcdhKey.from_jwk(mine)

    derived = jwe.agreed_key(key, public(theirs), "A128GCM", apu=b"Alice", apv=b"Bob")

    assert b64url_encode(derived) == RFC_DERIVED_KEY


def test_rfc7518_appendix_c_as_a_whole_jwe_alice_to_bob():
    bob = jwe.EcdhKey.from_jwk(BOB)

    token = jwe.encrypt(b"Live long and prosper.", public(BOB), apu=b"Alice", apv=b"Bob",
                        ephemeral=jwe.EcdhKey.from_jwk(ALICE))
    opened = jwe.decrypt(token, bob)

    assert opened.plaintext == b"Live long and prosper."
    assert opened.header == {"alg": "ECDH-ES", "enc": "A128GCM", "epk": public(ALICE),
                             "apu": "QWxpY2U", "apv": "Qm9i"}
    assert token.split(".")[1] == ""  # direct key agreement: no encrypted key


def test_the_openid4vp_encrypted_response_example_decrypts():
    opened = jwe.decrypt(OID4VP_RESPONSE, jwe.EcdhKey.from_jwk(OID4VP_KEY))

    assert opened.header["kid"] == "ac" and opened.header["enc"] == "A128GCM"
    assert json.loads(opened.plaintext) == {"vp_token": {"example_credential_id":
                                                         ["eyJhb...YMetA"]}}


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_round_trip_to_a_generated_key(enc):
    key = jwe.EcdhKey.generate(kid="k1")

    token = jwe.encrypt(b'{"vp_token": {}}', key.public_jwk(), enc=enc)
    opened = jwe.decrypt(token, key)

    assert opened.plaintext == b'{"vp_token": {}}'
    assert opened.header["kid"] == "k1" and opened.header["enc"] == enc
    assert "d" not in opened.header["epk"]


def test_the_published_jwk_is_public_and_says_what_it_is_for():
    jwk = jwe.EcdhKey.generate(kid="k1").public_jwk()

    assert set(jwk) == {"kty", "crv", "x", "y", "use", "alg", "kid"}
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "enc", "ECDH-ES")


def test_a_wrapped_key_unwraps_only_with_its_encryption_key_and_kid():
    key = jwe.EcdhKey.generate(kid="k1")
    kek = bytes(range(32))
    wrapped = key.wrap(kek)

    again = jwe.EcdhKey.unwrap(wrapped, kek, "k1")

    assert again.public_jwk() == key.public_jwk()
    with pytest.raises(jwe.JweError, match="cannot be unwrapped"):
        jwe.EcdhKey.unwrap(wrapped, bytes(32), "k1")
    with pytest.raises(jwe.JweError, match="cannot be unwrapped"):
        jwe.EcdhKey.unwrap(wrapped, kek, "k2")  # the kid is bound as associated data
    assert repr(key) == "<EcdhKey P-256 kid='k1'>"  # no key material


# --- tampering and refusals --------------------------------------------------------------------

def _key_and_token(**options):
    key = jwe.EcdhKey.generate(kid="k1")
    return key, jwe.encrypt(b"secret presentation", key.public_jwk(), **options)


def _with_part(token: str, index: int, value: str) -> str:
    parts = token.split(".")
    parts[index] = value
    return ".".join(parts)


def _flip(text: str) -> str:
    return text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]


@pytest.mark.parametrize("part", [2, 3, 4])  # iv, ciphertext, tag
def test_any_changed_byte_fails_the_tag(part):
    key, token = _key_and_token()
    tampered = _with_part(token, part, _flip(token.split(".")[part]))

    with pytest.raises(jwe.JweError, match="tampered") as refused:
        jwe.decrypt(tampered, key)

    assert refused.value.code == "jwe_decryption_failed"


def test_a_changed_header_fails_the_tag_because_it_is_the_aad():
    key, token = _key_and_token(apu=b"Alice")
    header = jose.loads_json(jose.b64url_decode_strict(token.split(".")[0]))
    header["apu"] = "Qm9i"  # still well formed, another PartyUInfo

    with pytest.raises(jwe.JweError, match="tampered"):
        jwe.decrypt(_with_part(token, 0, _encode(header)), key)


def test_a_response_for_another_key_is_refused():
    _, token = _key_and_token()
    stranger = jwe.EcdhKey.generate(kid="k1")  # same kid, other key

    with pytest.raises(jwe.JweError, match="another key"):
        jwe.decrypt(token, stranger)


def _encode(header: dict) -> str:
    return jose.b64url(jose.encode_json(header)).decode("ascii")


def _header_of(token: str) -> dict:
    return jose.loads_json(jose.b64url_decode_strict(token.split(".")[0]))


@pytest.mark.parametrize("change, message", [
    ({"alg": "RSA-OAEP"}, "alg"),
    ({"alg": "ECDH-ES+A128KW"}, "alg"),
    ({"alg": "dir"}, "alg"),
    ({"enc": "A192GCM"}, "enc"),
    ({"enc": "A128CBC-HS256"}, "enc"),
    ({"zip": "DEF"}, "zip"),
    ({"crit": ["exp"], "exp": 1}, "crit"),
    ({"kid": "other"}, "kid"),
    ({"kid": 7}, "kid"),
    ({"apu": 5}, "apu"),
    ({"epk": None}, "epk"),
    ({"epk": {"kty": "OKP", "crv": "X25519", "x": "WPX7wnwq10hFNK9aDSyG1QlLswE_CJY14LdhcFUIVVc"}},
     "only EC P-256"),
    ({"epk": {"kty": "EC", "crv": "P-384", "x": "a", "y": "b"}}, "only EC P-256"),
    ({"epk": {"kty": "EC", "crv": "P-256", "x": b64url_encode(bytes(32)),
              "y": b64url_encode(bytes(31) + b"\x01")}}, "not on the P-256 curve"),
    ({"epk": {**public(ALICE), "d": ALICE["d"]}}, "public key"),
])
def test_a_header_outside_the_profile_is_refused_before_any_decryption(change, message):
    key, token = _key_and_token()
    header = {**_header_of(token), **change}
    if change.get("epk", "") is None:
        header.pop("epk")

    with pytest.raises(jwe.JweError, match=message):
        jwe.decrypt(_with_part(token, 0, _encode(header)), key)


def test_an_enc_the_caller_does_not_allow_is_refused():
    key, token = _key_and_token(enc="A256GCM")

    with pytest.raises(jwe.JweError, match="enc"):
        jwe.decrypt(token, key, allowed_enc=("A128GCM",))


@pytest.mark.parametrize("token, message", [
    ("a.b.c", "5 parts"),
    ("!!.a.b.c.d", "bad protected header"),
    (b"bytes", "not a string"),
])
def test_malformed_tokens_are_refused(token, message):
    with pytest.raises(jwe.JweError, match=message):
        jwe.decrypt(token, jwe.EcdhKey.generate(kid="k1"))


def test_an_encrypted_key_or_odd_iv_and_tag_are_refused():
    key, token = _key_and_token()

    with pytest.raises(jwe.JweError, match="encrypted key must be empty"):
        jwe.decrypt(_with_part(token, 1, "AAAA"), key)
    with pytest.raises(jwe.JweError, match="IV must be 12 bytes"):
        jwe.decrypt(_with_part(token, 2, b64url_encode(bytes(16))), key)
    with pytest.raises(jwe.JweError, match="tag must be 16 bytes"):
        jwe.decrypt(_with_part(token, 4, b64url_encode(bytes(8))), key)


def test_peek_header_never_raises():
    _, token = _key_and_token()

    assert jwe.peek_header(token)["kid"] == "k1"
    assert jwe.peek_header("x.y") is None
    assert jwe.peek_header("!!.a.b.c.d") is None
    assert jwe.peek_header(None) is None


def test_encrypting_refuses_what_it_cannot_do():
    key = jwe.EcdhKey.generate(kid="k1")

    with pytest.raises(jwe.JweError, match="enc"):
        jwe.encrypt(b"x", key.public_jwk(), enc="A192GCM")
    with pytest.raises(jwe.JweError, match="RSA-OAEP"):
        jwe.encrypt(b"x", {**key.public_jwk(), "alg": "RSA-OAEP"})
    with pytest.raises(jwe.JweError, match="only EC P-256"):
        jwe.encrypt(b"x", {"kty": "RSA", "n": "x", "e": "AQAB"})
