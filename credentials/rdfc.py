"""The RDF of an expanded JSON-LD document and its RDFC-1.0 canonical N-Quads, for the documents
credentials are: one default graph of node objects, values and references. It gives pyld's
result byte for byte (`jsonld.canonicalize` used pyld alone before, and pyld stays the
reference: tests/credentials/test_rdfc_differential.py), in a fifth of pyld's time.

What pyld spends its time on, and what is done instead:

* pyld builds a node map (JSON-LD 1.1 API §7.2), then a dict of three dicts per triple
  (§8.2), then copies and serialises those dicts again for every blank node they mention
  (RDFC-1.0 §4.6). Here `triples` walks the expanded document once and writes each triple as
  three N-Quads terms ('<iri>', '_:b0', '"literal"^^<datatype>'), keeping exactly what pyld's
  node map and to_rdf keep: a value once per subject and property (pyld's compare_values: 1 and
  1.0 alike, true and 1 not), pyld's own test of an absolute IRI, the same literal forms
  (language-tagged strings and strings typed xsd:double or rdf:langString are converted by
  pyld's own `_object_to_rdf`). Where pyld would drop a triple for an IRI that fails that
  test, the document is refused instead (`refuse_dropped`; so is it on the pyld path).
* `canonical_nquads` is RDFC-1.0 (§4.4) on those strings: first-degree hashes over lines
  joined from the terms, the n-degree path (§4.8) only for blank nodes whose first-degree hash
  is shared, with pyld's own permutation order, and pyld's list of a blank node's quads (a quad
  whose subject and object are one blank node counts twice, as in pyld).

A document with anything else (@list, @graph, @reverse, @included, @index, @direction, @json
literals, blank-node properties, numbers that are not finite) raises `Unsupported`, and the
caller canonicalises it with pyld as before. Blank node labels differ from pyld's before
canonicalisation, which RDFC-1.0's result does not depend on.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable

from pyld.canon import permutations
from pyld.jsonld import JsonLdProcessor
from pyld.nquads import escape

from credentials.errors import MalformedCredential

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"

# pyld's test of an absolute IRI (pyld.jsonld._is_absolute_iri), the same pattern and re.match.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
_ESCAPED = re.compile(r'[\\\t\n\r"]')  # what pyld.nquads.escape changes
_TO_RDF_OPTIONS = {"processingMode": "json-ld-1.1", "produceGeneralizedRdf": False}
_UNSEEN = object()
_PYLD = JsonLdProcessor()  # only its stateless _object_to_rdf is used


class Unsupported(Exception):
    """The document uses a JSON-LD feature this module leaves to pyld."""


# --- JSON-LD 1.1 API §7.2 Node Map Generation and §8.2 Deserialize JSON-LD to RDF ---------------

def triples(expanded: list) -> list[tuple[str, str, str]]:
    """The RDF triples pyld's to_rdf makes of `expanded` (pyld's expanded form, default graph
    only), as (subject, predicate, object) N-Quads terms. Blank nodes are labelled _:b0, _:b1...
    in an order of their own. Raises Unsupported (see the module's doc), and
    MalformedCredential where pyld would drop a triple (see refuse_dropped)."""
    walk = _Walk()
    if type(expanded) is not list:
        raise Unsupported("not an expanded document")
    for node in expanded:
        if type(node) is not dict or "@value" in node or "@list" in node:
            raise Unsupported("a top-level item that is not a node object")
        walk.node(node)
    refuse_dropped(walk.dropped)
    return walk.triples


def refuse_dropped(iris: Iterable[str]) -> None:
    """Refuse a document some of whose triples RDF cannot carry: pyld's to_rdf drops every
    triple with an IRI that is not absolute by its pattern (whitespace, a scheme that does not
    start with a letter...), so the data they hold would be left out of the canonical form
    and of the signature. (Relative IRIs, without a colon, are refused before, when the
    document is expanded: jsonld._refuse_lossy.)"""
    dropped = sorted(set(iris))
    if dropped:
        raise MalformedCredential("IRIs that RDF cannot carry would be dropped by "
                                  "canonicalisation: " + ", ".join(dropped))


class _Walk:
    """One pass over an expanded document (pyld's _create_node_map and _graph_to_rdf in one)."""

    __slots__ = ("count", "dropped", "iris", "labels", "seen", "triples")

    def __init__(self):
        self.triples: list[tuple[str, str, str]] = []
        # (subject, node-map property, value key): pyld's node map keeps each value once per
        # subject and property (add_value with allowDuplicate False), across every place the
        # subject occurs in the document.
        self.seen: set[tuple] = set()
        self.labels: dict[str, str] = {}  # the document's blank node ids -> ours
        self.iris: dict[str, str | None] = {}  # id -> its N-Quads term, None if pyld drops it
        self.count = 0
        self.dropped: list[str] = []  # IRIs pyld's to_rdf would drop

    def label(self, id_: str | None) -> str:
        """A blank node's label: a fresh one, or the one given to this id of the document."""
        if id_ is not None:
            label = self.labels.get(id_)
            if label is not None:
                return label
        label = f"_:b{self.count}"
        self.count += 1
        if id_ is not None:
            self.labels[id_] = label
        return label

    def term(self, id_: str) -> str | None:
        """The term of a (relabelled) node id or IRI: None for what pyld's to_rdf drops (an
        IRI that is not absolute, by its pattern)."""
        if id_[:2] == "_:":
            return id_
        term = self.iris.get(id_, _UNSEEN)
        if term is _UNSEEN:
            term = self.iris[id_] = f"<{id_}>" if _ABSOLUTE_IRI.match(id_) else None
        if term is None:
            self.dropped.append(id_)
        return term

    def node(self, node: dict) -> str:
        """Adds the triples of a node object and of the nodes inside it; returns its id."""
        id_ = node.get("@id")
        if id_ is None:
            # A fresh blank node: nothing else in the document adds to it, so only its own
            # arrays of several values can hold a value twice.
            id_ = subject = f"_:b{self.count}"
            self.count += 1
            seen = None
        elif type(id_) is not str:
            raise Unsupported("an @id that is not a string")
        else:
            if id_[:2] == "_:":
                id_ = self.label(id_)
            subject = self.term(id_)
            seen = self.seen
        out, iris = self.triples, self.iris
        for key, values in sorted(node.items()):
            if key == "@id":
                continue
            if type(values) is not list:
                raise Unsupported(f"{key}: not an array")
            marks = seen if seen is not None or len(values) < 2 else set()
            if key == "@type":
                for type_ in values:
                    if type(type_) is not str:
                        raise Unsupported("a @type that is not a string")
                    if type_[:2] == "_:":
                        type_ = self.label(type_)
                    if marks is not None:
                        mark = (id_, "@type", type_)
                        if mark in marks:
                            continue
                        marks.add(mark)
                    object_ = iris.get(type_, _UNSEEN) if type_[:2] != "_:" else type_
                    if object_ is _UNSEEN:
                        object_ = self.term(type_)
                    if subject is not None and object_ is not None:
                        out.append((subject, RDF_TYPE, object_))
                continue
            if key[:1] == "@" or key[:2] == "_:":
                raise Unsupported(f"{key} in a node object")
            predicate = iris.get(key, _UNSEEN)
            if predicate is _UNSEEN:
                predicate = self.term(key)
            keep = subject is not None and predicate is not None
            for value in values:
                if type(value) is not dict:
                    raise Unsupported(f"{key}: a value that is not an object")
                if "@value" in value:
                    mark, object_ = _literal(value)
                else:
                    if "@list" in value or "@set" in value:
                        raise Unsupported("@list")
                    mark = self.node(value)
                    object_ = mark if mark[:2] == "_:" else iris.get(mark, _UNSEEN)
                    if object_ is _UNSEEN:
                        object_ = self.term(mark)
                if marks is not None:
                    mark = (id_, key, mark)
                    if mark in marks:
                        continue
                    marks.add(mark)
                if keep and object_ is not None:
                    out.append((subject, predicate, object_))
        return id_


def _literal(value: dict) -> tuple[tuple, str]:
    """(what pyld's compare_values tells apart: the value, with booleans apart from numbers,
    its type and language; the literal's N-Quads term, as pyld's _object_to_rdf and
    serialize_nquad write it: language-tagged strings and xsd:double or rdf:langString
    datatypes by pyld itself)."""
    raw = value["@value"]
    if len(value) == 1:
        datatype = language = None
    else:
        datatype = value.get("@type")
        language = value.get("@language")
        if len(value) != 1 + (datatype is not None) + (language is not None):
            raise Unsupported("@index or @direction in a value object")
        if datatype is not None and (type(datatype) is not str or datatype == "@json"
                                     or datatype[:2] == "_:"):
            raise Unsupported("a @json, blank-node or non-string datatype")
    kind = type(raw)
    mark = (kind is bool, raw, datatype, language)
    if language is None and datatype != RDF_LANGSTRING:
        # serialize_nquad writes no datatype for xsd:string; None: the value's own
        suffix = None if datatype is None else "" if datatype == XSD_STRING \
            else f"^^<{datatype}>"
        double = datatype == XSD_DOUBLE
        if kind is str and not double:  # (pyld turns a string typed xsd:double into a number)
            text = escape(raw) if _ESCAPED.search(raw) else raw
            return mark, f'"{text}"{suffix or ""}'
        if kind is bool and not double:
            return mark, f'"{"true" if raw else "false"}"{_or(suffix, XSD_BOOLEAN)}'
        if kind is int and abs(raw) < 10**21 or kind is float and math.isfinite(raw):
            # pyld: a float with a fraction is a double, and so is any number typed
            # xsd:double; an integer or a float without a fraction (5.0) below 1e21 is an
            # integer, above it a double
            if not double and abs(raw) < 10**21 and (kind is int or raw.is_integer()):
                return mark, f'"{int(raw)}"{_or(suffix, XSD_INTEGER)}'
            return mark, f'"{canonical_double(float(raw))}"{_or(suffix, XSD_DOUBLE)}'
    if kind not in (str, bool, int, float):
        raise Unsupported(f"a {kind.__name__} @value")
    if kind is float and not math.isfinite(raw):
        raise Unsupported("a number that is not finite")
    literal = _PYLD._object_to_rdf(value, None, [], _TO_RDF_OPTIONS)
    return mark, _literal_term(literal)


def canonical_double(number: float) -> str:
    """The canonical xsd:double of a finite float as pyld writes it (pyld.jsonld.
    _canonicalize_double: 15 digits after the point, then trailing zeros of the mantissa but
    one, the exponent's + and leading zeros removed), without its regular expression."""
    mantissa, exponent = f"{number:1.15E}".split("E")
    mantissa = mantissa.rstrip("0")
    if mantissa[-1] == ".":
        mantissa += "0"
    sign = "-" if exponent[0] == "-" else ""
    return f"{mantissa}E{sign}{exponent[1:].lstrip('0') or '0'}"


def _or(suffix: str | None, datatype: str) -> str:
    return suffix if suffix is not None else f"^^<{datatype}>"


def _literal_term(literal: dict) -> str:
    """An RDF literal of pyld's as pyld.nquads.serialize_nquad writes it."""
    text = f'"{escape(literal["value"])}"'
    datatype = literal["datatype"]
    if datatype == RDF_LANGSTRING:
        return text + ("@" + literal["language"] if literal.get("language") else "")
    return text if datatype == XSD_STRING else f"{text}^^<{datatype}>"


# --- RDFC-1.0 (https://www.w3.org/TR/rdf-canon/) ----------------------------------------------

def canonical_nquads(triples_: list[tuple[str, str, str]]) -> str:
    """§4.4 Canonicalization Algorithm of a default graph's triples (terms as `triples` writes
    them): the canonical N-Quads, one line per triple in code point order, as pyld writes
    them (a triple given twice is written twice, as pyld does)."""
    return _Canonicalizer(triples_).run()


class _Issuer:
    """§4.5 Issue Identifier: `existing` maps old ids to issued ones, `order` as issued."""

    __slots__ = ("existing", "order", "prefix")

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.existing: dict[str, str] = {}
        self.order: list[str] = []

    def issue(self, old: str) -> str:
        issued = self.existing.get(old)
        if issued is None:
            issued = self.existing[old] = f"{self.prefix}{len(self.order)}"
            self.order.append(old)
        return issued

    def copy(self) -> _Issuer:
        copied = _Issuer(self.prefix)
        copied.existing, copied.order = dict(self.existing), list(self.order)
        return copied


class _Canonicalizer:
    def __init__(self, triples_: list[tuple[str, str, str]]):
        self.triples = triples_
        # §4.4.3 step 2: blank node -> the triples it is in. As pyld: one entry per position,
        # so a triple whose subject and object are that blank node is listed twice.
        self.mentions: dict[str, list[tuple[str, str, str]]] = {}
        for triple in triples_:
            if triple[0][0] == "_":
                self.mentions.setdefault(triple[0], []).append(triple)
            if triple[2][0] == "_":
                self.mentions.setdefault(triple[2], []).append(triple)
        self.first_degree: dict[str, str] = {}
        self.canonical = _Issuer("_:c14n")

    def run(self) -> str:
        # Steps 3-5: blank nodes with a first-degree hash of their own get canonical ids in the
        # order of their hashes. (pyld repeats step 5 until nothing changes; first-degree hashes
        # do not depend on issued ids, so its second round never issues anything.)
        by_hash: dict[str, list[str]] = {}
        for node in self.mentions:
            by_hash.setdefault(self.hash_first_degree(node), []).append(node)
        shared = []
        for _hash, nodes in sorted(by_hash.items()):
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                shared.append(nodes)
        # Step 6: the others, by their n-degree hashes.
        for nodes in shared:
            results = []
            for node in nodes:
                if node in self.canonical.existing:
                    continue
                issuer = _Issuer("_:b")
                issuer.issue(node)
                results.append(self.hash_n_degree(node, issuer))
            for _hash, issuer in sorted(results, key=lambda result: result[0]):
                for existing in issuer.order:
                    self.canonical.issue(existing)
        # Step 7: the triples with canonical ids, in code point order.
        issued = self.canonical.existing
        lines = []
        for subject, predicate, object_ in self.triples:
            if subject[0] == "_":
                subject = issued[subject]
            if object_[0] == "_":
                object_ = issued[object_]
            lines.append(f"{subject} {predicate} {object_} .\n")
        lines.sort()
        return "".join(lines)

    def hash_first_degree(self, node: str) -> str:
        """§4.6 Hash First Degree Quads: SHA-256 of the node's quads in N-Quads, sorted, with
        the node itself as _:a and every other blank node as _:z."""
        hash_ = self.first_degree.get(node)
        if hash_ is not None:
            return hash_
        lines = []
        for subject, predicate, object_ in self.mentions[node]:
            if subject[0] == "_":
                subject = "_:a" if subject == node else "_:z"
            if object_[0] == "_":
                object_ = "_:a" if object_ == node else "_:z"
            lines.append(f"{subject} {predicate} {object_} .\n")
        lines.sort()
        hash_ = self.first_degree[node] = hashlib.sha256(
            "".join(lines).encode("utf-8")).hexdigest()
        return hash_

    def hash_related(self, related: str, predicate: str, issuer: _Issuer,
                     position: str) -> str:
        """§4.7 Hash Related Blank Node."""
        id_ = self.canonical.existing.get(related) or issuer.existing.get(related) \
            or self.hash_first_degree(related)
        text = position + predicate + id_ if position != "g" else position + id_
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        """§4.8 Hash N-Degree Quads, step by step as pyld does it (its permutation order, the
        same early exits), so that ties resolve as they do there."""
        related_by_hash: dict[str, list[str]] = {}
        for subject, predicate, object_ in self.mentions[node]:
            if subject[0] == "_" and subject != node:
                related_by_hash.setdefault(
                    self.hash_related(subject, predicate, issuer, "s"), []).append(subject)
            if object_[0] == "_" and object_ != node:
                related_by_hash.setdefault(
                    self.hash_related(object_, predicate, issuer, "o"), []).append(object_)
        data = hashlib.sha256()
        canonical = self.canonical.existing
        for hash_, related_nodes in sorted(related_by_hash.items()):
            data.update(hash_.encode("utf-8"))
            chosen_path = ""
            chosen_issuer = None
            for permutation in permutations(related_nodes):
                issuer_copy = issuer.copy()
                path = ""
                recursion = []
                skip = False
                for related in permutation:
                    if related in canonical:
                        path += canonical[related]
                    else:
                        if related not in issuer_copy.existing:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related)
                    path += f"<{result_hash}>"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data.update(chosen_path.encode("utf-8"))
            issuer = chosen_issuer
        return data.hexdigest(), issuer
