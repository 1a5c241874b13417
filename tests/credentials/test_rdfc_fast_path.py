"""credentials/rdfc.py, the engine's own JSON-LD-to-RDF and RDFC-1.0, against pyld (the
reference) byte for byte: its canonicaliser on random and deliberately symmetric graphs (the
n-degree path), checked with oxigraph as well; its triples on documents that use every value
form pyld writes its own way; and the documents it leaves to pyld, which must still come out as
pyld's."""

import copy
import hashlib
import math
import random
import struct

import pytest
from pyld import jsonld as pyld
from pyld.canon import URDNA2015

from credentials import contexts, jsonld, rdfc
from credentials.dids import StaticKeyResolver
from credentials.encoding import multibase_encode
from credentials.errors import MalformedCredential, UndefinedTerms
from credentials.suites import get_suite
from tests.support.credential_fixtures import battery_passport, did_key_signer, load_json
from tests.support.rdf_references import oxigraph_rdfc

EX = "https://ex.org/v#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


# --- the canonicaliser alone -------------------------------------------------------------------

def iri(number: int) -> dict:
    return {"type": "IRI", "value": f"https://ex.org/i{number}"}


def blank(number: int) -> dict:
    return {"type": "blank node", "value": f"_:n{number}"}


def literal(value: str, datatype: str = XSD + "string", language: str | None = None) -> dict:
    made = {"type": "literal", "value": value, "datatype": datatype}
    if language:
        made["language"] = language
    return made


def term(component: dict) -> str:
    if component["type"] == "IRI":
        return f"<{component['value']}>"
    if component["type"] == "blank node":
        return component["value"]
    return rdfc._literal_term(component)


def canonical_by_both(triples: list[tuple[dict, dict, dict]]) -> tuple[str, str]:
    """(pyld's URDNA2015, unchanged, of the triples; rdfc's of the same triples as terms)."""
    dataset = {"@default": [{"subject": copy.deepcopy(s), "predicate": copy.deepcopy(p),
                             "object": copy.deepcopy(o)} for s, p, o in triples]}
    by_pyld = URDNA2015().main(dataset, {"format": "application/n-quads"})
    by_rdfc = rdfc.canonical_nquads([(term(s), term(p), term(o)) for s, p, o in triples])
    return by_pyld, by_rdfc


def predicate(number: int) -> dict:
    return {"type": "IRI", "value": f"https://ex.org/p{number}"}


def random_graph(rng: random.Random) -> list[tuple[dict, dict, dict]]:
    """A few blank nodes linked by one or two predicates, few other terms: many blank nodes
    share their first-degree hash."""
    nodes = rng.randrange(2, 9)
    predicates = rng.choice([1, 1, 2])
    made = set()
    for _ in range(rng.randrange(nodes, 3 * nodes + 1)):
        subject = blank(rng.randrange(nodes)) if rng.random() < 0.9 else iri(0)
        kind = rng.random()
        if kind < 0.8:
            object_ = blank(rng.randrange(nodes))
        elif kind < 0.85:
            object_ = iri(rng.randrange(2))
        else:
            object_ = rng.choice([literal("x"), literal("1", XSD + "integer"),
                                  literal("é\"\\\n", XSD + "string"),
                                  literal("y", RDF + "langString", "en")])
        made.add(tuple(tuple(sorted(part.items()))
                       for part in (subject, predicate(rng.randrange(predicates)), object_)))
    return [tuple(dict(part) for part in triple) for triple in sorted(made)]


def permutation_graph(rng: random.Random) -> list[tuple[dict, dict, dict]]:
    """Blank nodes each with the same number of links out and in (a union of random
    permutations): every node has the same first-degree hash, all go the n-degree way."""
    nodes = rng.randrange(2, 8)
    made = set()
    for _ in range(rng.randrange(1, 3)):
        targets = list(range(nodes))
        rng.shuffle(targets)
        made.update((i, j) for i, j in enumerate(targets))
    return [(blank(i), predicate(0), blank(j)) for i, j in sorted(made)]


def cycle(length: int, first: int = 0) -> list:
    return [(blank(first + i), predicate(0), blank(first + (i + 1) % length))
            for i in range(length)]


def complete(size: int) -> list:
    return [(blank(i), predicate(0), blank(j)) for i in range(size) for j in range(size)
            if i != j]


SYMMETRIC = {
    "two equal cycles": cycle(3) + cycle(3, first=3),
    "a cycle of six": cycle(6),
    "complete graph of five": complete(5),
    "two equal stars": [(blank(0), predicate(0), blank(i)) for i in (1, 2, 3)]
    + [(blank(4), predicate(0), blank(i)) for i in (5, 6, 7)],
    "a self-loop (pyld lists its triple twice)": [(blank(0), predicate(0), blank(0)),
                                                   (blank(0), predicate(1), blank(1)),
                                                   (blank(1), predicate(1), blank(0))],
    "equal children of one IRI": [(iri(0), predicate(0), blank(i)) for i in range(4)]
    + [(blank(i), predicate(1), literal("same")) for i in range(4)],
    "no blank nodes": [(iri(0), predicate(0), iri(1)), (iri(1), predicate(1), literal("a"))],
}


@pytest.mark.parametrize("name", list(SYMMETRIC))
def test_symmetric_graphs_canonicalise_as_pyld_does(name):
    by_pyld, by_rdfc = canonical_by_both(SYMMETRIC[name])
    assert by_rdfc == by_pyld


def test_random_graphs_canonicalise_as_pyld_and_oxigraph_do():
    rng = random.Random(2015)
    n_degree = 0
    for number in range(1000):
        triples = random_graph(rng) if number % 2 else permutation_graph(rng)
        by_pyld, by_rdfc = canonical_by_both(triples)
        assert by_rdfc == by_pyld
        if not any(s == o for s, _, o in triples):  # a self-loop: pyld hashes its triple twice
            assert oxigraph_rdfc(by_rdfc) == by_rdfc
        canonicalizer = rdfc._Canonicalizer([(term(s), term(p), term(o))
                                             for s, p, o in triples])
        hashes = [canonicalizer.hash_first_degree(node) for node in canonicalizer.mentions]
        n_degree += len(hashes) != len(set(hashes))
    assert n_degree > 500  # most graphs took the n-degree path


def test_a_relabelled_graph_canonicalises_alike():
    triples = complete(4) + cycle(3, first=4) + [(blank(0), predicate(1), blank(4))]
    relabelled = [(term(s), term(p), term(o)) for s, p, o in triples]
    renamed = {f"_:n{i}": f"_:other{7 - i}" for i in range(7)}
    shuffled = [tuple(renamed.get(part, part) for part in triple) for triple in relabelled]
    random.Random(1).shuffle(shuffled)
    assert rdfc.canonical_nquads(shuffled) == rdfc.canonical_nquads(relabelled)


def test_doubles_are_written_as_pyld_writes_them():
    rng = random.Random(1e21)
    numbers = [0.0, -0.0, 1.0, 0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123.456,
               -2.5e-10, 100.0, 1e100]
    numbers += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
                for _ in range(20000)]
    numbers += [rng.uniform(-1e6, 1e6) for _ in range(5000)]
    for number in numbers:
        if math.isfinite(number):
            assert rdfc.canonical_double(number) == pyld._canonicalize_double(number)


# --- JSON-LD to RDF ---------------------------------------------------------------------------

CONTEXT = {
    "@vocab": EX, "xsd": XSD, "rdf": RDF, "id": "@id", "type": "@type",
    "ref": {"@id": EX + "ref", "@type": "@id"},
    "double": {"@id": EX + "double", "@type": "xsd:double"},
    "integer": {"@id": EX + "integer", "@type": "xsd:integer"},
    "string": {"@id": EX + "string", "@type": "xsd:string"},
    "langString": {"@id": EX + "langString", "@type": "rdf:langString"},
    "english": {"@id": EX + "english", "@language": "en"},
    "date": {"@id": EX + "date", "@type": "xsd:date"},
    "list": {"@id": EX + "list", "@container": "@list"},
    "indexed": {"@id": EX + "indexed", "@container": "@index"},
    "graph": {"@id": EX + "graph", "@container": "@graph"},
    "rtl": {"@id": EX + "rtl", "@direction": "rtl"},
    "json": {"@id": EX + "json", "@type": "@json"},
    "knownBy": {"@reverse": EX + "knows"},
}


def document(**members) -> dict:
    return {"@context": CONTEXT, "id": "https://ex.org/doc", "type": "Thing", **members}


def reference(document_: dict) -> str:
    """Plain pyld (no base: undefined relative IRIs stay relative, as in the engine)."""
    return pyld.normalize(copy.deepcopy(document_), {
        "algorithm": "URDNA2015", "format": "application/n-quads", "base": None,
        "documentLoader": contexts.document_loader})


def takes_the_fast_path(document_: dict) -> bool:
    try:
        rdfc.triples(jsonld.expand(document_))
    except rdfc.Unsupported:
        return False
    return True


FAST = {
    "nested blank nodes": document(part={"name": "a", "part": {"name": "b"}},
                                   other=[{"name": "c"}, {"name": "c"}]),
    "one IRI node in two places, its values merged once": document(
        a={"id": "https://ex.org/n", "name": ["x", "y"]},
        b={"id": "https://ex.org/n", "name": ["y", "z"], "type": ["T", "U"]},
        c={"id": "https://ex.org/n", "type": "T"}),
    "values pyld tells apart, or not": document(
        value=[1, 1.0, True, "1", {"@value": "1", "@type": "xsd:integer"}, False, 0, 0.0],
        integer=["1", 1], string=[True, 7, "s"]),
    "strings to escape": document(name=["quote\" backslash\\ tab\t nl\n cr\r", "\x01\x1f\x7f",
                                        "é 电池 😀", "", " "]),
    "numbers": document(
        value=[1.5, -0.0, 5.0, 1e300, 2.5e-7, 10**21, 10**22, 123456789012, -17, 0.1 + 0.2],
        double=["1.50", "abc", "1e3", 3, True, 2.5, 5.0, -0.0, 1e-300, 10**22,
                12345678901234567890]),
    "typed and language strings": document(
        langString=["no language", 1], english=["hello", ""], date="2026-01-01",
        name={"@value": "hallo", "@language": "de"},
        upper={"@value": "x", "@language": "EN-gb"}),
    "blank node ids of the document: a cycle, a self-loop, a shared node": document(
        ref=["_:a", "_:s"],
        has=[{"id": "_:a", "ref": "_:b"}, {"id": "_:b", "ref": "_:a"},
             {"id": "_:s", "ref": "_:s"}, {"id": "_:a", "name": "a"}]),
    "equal anonymous children (n-degree path)": document(
        child=[{"name": "same", "child": {"name": "leaf"}} for _ in range(4)]),
    "rdf:type as a property and as @type": document(**{"rdf:type": {"id": "https://ex.org/T"},
                                                       "type": "https://ex.org/T"}),
    "empty values, an empty node, a reference": document(
        name=[], part={}, ref="https://ex.org/elsewhere"),
    "a top-level array of nodes": {"@context": CONTEXT, "@graph": [
        {"id": "https://ex.org/1", "name": "one"}, {"name": "two", "ref": "https://ex.org/1"}]},
}

SLOW = {
    "@list": document(list=[1, "two", {"name": "three"}]),
    "@index": document(indexed={"a": "x", "b": {"name": "y"}}),
    "named graph": document(graph={"name": "inside"}),
    "@direction": document(rtl="مرحبا"),
    "@json": document(json={"b": [1, 2], "a": None}),
    "@reverse": document(knownBy={"id": "https://ex.org/friend"}),
    "a value with @index": document(name={"@value": "x", "@index": "i"}),
}


@pytest.mark.parametrize("name", list(FAST))
def test_documents_rdfc_converts_give_pyld_s_canonical_form(name):
    assert takes_the_fast_path(FAST[name])
    canonical = jsonld.canonicalize(FAST[name])
    assert canonical == reference(FAST[name])
    assert canonical == jsonld.canonicalize_with_pyld(FAST[name])


@pytest.mark.parametrize("name", list(SLOW))
def test_documents_rdfc_leaves_to_pyld_still_give_pyld_s_canonical_form(name):
    assert not takes_the_fast_path(SLOW[name])
    assert jsonld.canonicalize(SLOW[name]) == reference(SLOW[name])


def test_the_duplicate_triples_pyld_keeps_are_kept():
    """1 and "1"^^xsd:integer are different JSON-LD values but one RDF triple: pyld writes
    it twice, and so must the engine (the signature covers pyld's bytes)."""
    canonical = jsonld.canonicalize(document(value=[1, {"@value": "1",
                                                        "@type": "xsd:integer"}]))
    line = f'<https://ex.org/doc> <{EX}value> "1"^^<{XSD}integer> .\n'
    assert canonical.count(line) == 2


DROPPING = {
    "an object": document(ref=["https://ex.org/a b", "https://ex.org/ok"]),
    "a subject": document(part={"id": "https://ex.org/c d", "name": "x",
                                "part": {"name": "kept"}}),
    "a type": document(type=["Thing", "https://ex.org/T x"]),
    "a scheme not starting with a letter": document(ref="1ex:thing"),
    "a subject, in a document rdfc leaves to pyld": document(
        list=[1], part={"id": "https://ex.org/c d", "name": "x"}),
}


@pytest.mark.parametrize("name", list(DROPPING))
def test_iris_pyld_would_drop_are_refused(name):
    """An IRI with a colon passes the relative-IRI check of expansion, but pyld's to_rdf drops
    every triple it is in when it does not match its pattern of an absolute IRI (a space, a
    scheme starting with a digit): the data would not be signed. Both paths refuse it."""
    dropped = {"https://ex.org/a b", "https://ex.org/c d", "https://ex.org/T x", "1ex:thing"}
    quads = reference(DROPPING[name])
    assert not any(iri in quads for iri in dropped)  # what pyld itself does: drop
    for canonicalize in (jsonld.canonicalize, jsonld.canonicalize_with_pyld):
        with pytest.raises(MalformedCredential, match="RDF cannot carry") as caught:
            canonicalize(DROPPING[name])
        assert any(iri in caught.value.detail for iri in dropped)


def test_a_proof_over_a_canonical_form_that_dropped_data_does_not_verify():
    """A credential signed elsewhere over pyld's canonical form, whose subject's id has a
    space: its claims are in no triple, so they could be changed and the signature would
    still hold. The verifier refuses it."""
    signer = did_key_signer()
    passport = battery_passport()
    passport["issuer"]["id"] = signer.verification_method.split("#")[0]
    passport["credentialSubject"]["id"] = "https://example.com/product 1"
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
             "created": "2026-01-01T00:00:00Z", "verificationMethod":
             signer.verification_method, "proofPurpose": "assertionMethod"}
    hash_data = (hashlib.sha256(reference({**proof, "@context": passport["@context"]})
                                .encode()).digest()
                 + hashlib.sha256(reference(passport).encode()).digest())
    secured = {**passport, "proof": {**proof, "proofValue":
                                     multibase_encode(signer.sign(hash_data))}}
    secured["credentialSubject"]["name"] = "changed after signing"

    result = get_suite("eddsa-rdfc-2022").verify(secured, StaticKeyResolver())

    assert not result.ok
    assert "RDF cannot carry" in result.errors[0]


def test_the_checks_still_refuse_before_any_triple():
    passport = battery_passport()
    passport["credentialSubject"]["undefinedTerm"] = "x"
    with pytest.raises(UndefinedTerms):
        jsonld.canonicalize(passport)
    untyped = battery_passport()
    untyped["type"] = [*untyped["type"], "NotDefinedAnywhere"]
    with pytest.raises(UndefinedTerms):
        jsonld.canonicalize(untyped)
    relative = load_json("eddsa-rdfc-2022/unsigned.json")
    relative["id"] = "relative/path"
    with pytest.raises(MalformedCredential):
        jsonld.canonicalize(relative)
