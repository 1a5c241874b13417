"""The eddsa-jcs-2022 fast paths give what the reference paths give:

- jcs.canonicalize (orjson, numbers rewritten) and jcs.reference (RFC 8785 rule by rule): the
  same bytes, or the same refusal, on the W3C and RFC 8785 vectors, the UNTP samples, 1,000
  generated passports of every category, doubles of every magnitude and awkward strings.
- jsonld.check_terms (one expansion per document shape) and jsonld.expand: the same verdict,
  and the same error, on the samples, generated passports and broken ones."""

import copy
import math
import random
import re
import struct

import orjson
import pytest

from credentials import jcs, jsonld
from credentials.errors import CredentialError
from tests.credentials.generated import all_categories, mutated, passports
from tests.support.credential_fixtures import battery_passport, battery_passport_v1, load_json

SAMPLES = ["eddsa-jcs-2022/unsigned.json", "eddsa-jcs-2022/signedJCS.json",
           "eddsa-jcs-2022/proofConfigJCS.json", "eddsa-jcs-2022/w3c/signedJCS.json",
           "eddsa-rdfc-2022/unsigned.json", "eddsa-rdfc-2022/signedDataInt.json",
           "untp-0.7.0/DigitalProductPassport_battery_instance.json"]


def same(value):
    """canonicalize and reference agree: equal bytes, or both refuse with the same words."""
    try:
        expected = jcs.reference(value)
    except ValueError as exc:
        with pytest.raises(type(exc), match=None) as raised:
            jcs.canonicalize(value)
        assert str(raised.value) == str(exc)
        return
    assert jcs.canonicalize(value) == expected


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_vectors_and_samples_canonicalise_as_the_reference_does(sample):
    same(load_json(sample))


def test_the_w3c_vector_is_reproduced_byte_for_byte():
    from tests.support.credential_fixtures import load_text

    unsigned = load_json("eddsa-jcs-2022/unsigned.json")
    assert jcs.canonicalize(unsigned) == load_text("eddsa-jcs-2022/canonDocJCS.txt").encode()


@pytest.mark.parametrize("category", all_categories())
def test_generated_passports_canonicalise_as_the_reference_does(db, category):
    for document in passports(category, 1000):
        same(document)


def test_doubles_of_every_magnitude_are_written_as_ecmascript_writes_them():
    rng = random.Random(8785)
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(20000)]
    values += [float(rng.randint(-2**53, 2**53)) for _ in range(5000)]
    values += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(20000)]
    values += [round(rng.uniform(0, 1000), rng.randint(0, 6)) for _ in range(5000)]
    values += [1e21, 1e-7, 1e-6, 1e16, 100.0, -0.0, 5e-324, 1.7976931348623157e308]
    values = [v for v in values if math.isfinite(v)]
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        same(chunk)
        same({f"k{i}": v for i, v in enumerate(chunk)})


@pytest.mark.parametrize("value", [
    {"\U0001f600": 1, "\ufb33": 2, "a": 3},  # names beyond U+FFFF: UTF-16 order
    {"emoji": "\U0001f600 in a value"}, {"a": None, "b": [None]}, {"n": float("nan")},
    [float("inf")], {"big": 2**53 + 1}, {"big": 2**60}, {"huge": 2**70}, {1: "name"},
    {"s": "\ud800"}, ["\x00\x1f\x7f\u2028\u2029\ue000\uffff"], {"t": (1, 2.0)},
    {"text": "a:1e5, b:[100.0]"}, {"x": [1, 2.0, -3.5e-9, 4e22]}, {"set": {1, 2}},
    {"sub": type("Text", (str,), {})("subclass")}, True, None, 0, -0.0, "", [], {},
])
def test_awkward_values_canonicalise_or_are_refused_as_the_reference_does(value):
    same(value)


# The pattern the class-based search replaced (a look-behind scanned at every byte of the
# output): the oracle that the search finds exactly what it found.
LOOK_BEHIND = re.compile(rb"(?<![^:,\[])-?[0-9]+(?:\.0(?![^,\]}])|(?:\.[0-9]+)?[eE])")


def class_search(out: bytes) -> bool:
    classes = out.translate(jcs._CLASSES)
    return bool(jcs._NOT_ECMASCRIPT_AT_START.match(classes)
                or jcs._NOT_ECMASCRIPT_AFTER_COLON.search(classes)
                or jcs._NOT_ECMASCRIPT_AFTER_COMMA.search(classes))


def test_the_number_search_finds_what_the_look_behind_found():
    rng = random.Random(20)
    pieces = ["1", "0", "100.0", "1e21", "1E5", "-2.50", "0.8", "3.0,", ":", ",", "[", "]", "}",
              "{", "-", ".", "e", "E", '"', " ", "a", "\u00e9", "\U0001f600", "x"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
             for _ in range(20000)]
    values = [rng.choice([rng.uniform(-1, 1) * 10 ** rng.randint(-25, 25), rng.randint(-9, 9),
                          float(rng.randint(0, 99)), text]) for text in texts]
    for value in [*texts, *values, {"k": values[:50]}, values[:200]]:
        for out in (orjson.dumps(value), value.encode() if isinstance(value, str) else b""):
            assert class_search(out) == bool(LOOK_BEHIND.search(out)), out
    for value in values:
        same(value)
        same({"a": value, "b": [value, value]})


# --- check_terms --------------------------------------------------------------------------------

def outcome(check, document):
    """"ok", or the error's type and words (pyld lets a ValueError through for some relative
    IRIs; the verifier names it too)."""
    try:
        check(document)
        return "ok"
    except CredentialError as exc:
        return type(exc).__name__, exc.detail
    except Exception as exc:  # noqa: BLE001 - compared, whatever it is
        return type(exc).__name__, str(exc)


def test_the_samples_pass_both_checks():
    for document in (battery_passport(), battery_passport_v1(),
                     load_json("eddsa-jcs-2022/unsigned.json")):
        assert outcome(jsonld.check_terms, document) == outcome(jsonld.expand, document) == "ok"


BREAKAGES = [
    lambda d, rng: d["credentialSubject"].update({"undefinedTerm": "x"}),
    lambda d, rng: d["credentialSubject"].update({"id": "relative/id"}),
    lambda d, rng: d.update({"type": [*d["type"], "UndefinedType"]}),
    lambda d, rng: d["credentialSubject"].update({"type": ["Product", "Nope"]}),
    lambda d, rng: d["credentialSubject"]["characteristics"].update({"mystery": 1}),
    lambda d, rng: d.update({"@context": [*d["@context"], "https://unknown.example/ctx"]}),
    lambda d, rng: d["issuer"].update({"id": "no-colon"}),
    lambda d, rng: d.update({"@context": [*d["@context"], {"extra": "https://e.example/x"}],
                             "extra": 1}),
    lambda d, rng: d["credentialSubject"].update({"@id": "_:b0"}),
    lambda d, rng: d.update({"credentialSubject": [d["credentialSubject"],
                                                   {"id": "https://e.example", "odd": 1}]}),
]


@pytest.mark.parametrize("category", all_categories())
def test_generated_and_broken_passports_are_judged_as_expansion_judges_them(db, category):
    rng = random.Random(f"terms-{category}")
    documents = passports(category, 300, seed=3)
    cases = list(documents)
    for document in documents[:100]:
        broken = copy.deepcopy(document)
        rng.choice(BREAKAGES)(broken, rng)
        cases.append(broken)
        cases.append(mutated(document, rng))
    verdicts = set()
    for document in cases:
        expected = outcome(jsonld.expand, document)
        assert outcome(jsonld.check_terms, document) == expected
        assert outcome(jsonld.check_terms, document) == expected  # again, remembered
        verdicts.add(expected if expected == "ok" else expected[0])
    assert {"ok", "UndefinedTerms", "MalformedCredential"} <= verdicts


def test_a_shape_is_expanded_once(db, monkeypatch):
    documents = passports("battery", 50, seed=11)
    jsonld.check_terms(documents[0])
    expansions = []
    real_expand = jsonld.expand
    monkeypatch.setattr(jsonld, "expand", lambda d: expansions.append(d) or real_expand(d))

    for document in documents:
        jsonld.check_terms(document)

    shapes = {jsonld._shape(d, *jsonld._vocabulary()) for d in documents}
    assert len(expansions) == len(shapes) - 1 < len(documents)
