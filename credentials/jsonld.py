"""JSON-LD expansion and RDF canonicalisation (RDFC-1.0 / URDNA2015) on pyld, with bundled
contexts only, refusing documents that pyld would silently shorten.

Two things pyld does not do for us:

* **Safety.** pyld drops properties whose term no context defines, and leaves undefined types
  (and other IRIs) relative, after which `to_rdf` drops the triples carrying them. Dropped data
  is unsigned data, so `expand` and `canonicalize` raise `UndefinedTerms` naming every dropped
  term and every type that is not an absolute IRI, and `MalformedCredential` for other relative
  IRIs. `base` is None, so pyld's default base (http://example.org/base/) never makes an
  undefined type look absolute.
* **Speed.** Most of pyld's time on a UNTP passport goes into processing contexts: the
  type- and property-scoped contexts of the 119 KB UNTP context are reprocessed for every node,
  and each one is first canonicalised to JSON as a cache key. Processing a context is a pure
  function of (active context, local context, flags), and pyld's active contexts are immutable
  once built, so `_EngineProcessor` memoises `_process_context` on that key. Likewise the
  expansion of a JSON object is a pure function of (active context, property, flags, the
  object's JSON): `_expand` remembers it, so passports of one product line expand little but
  the objects on the way to what differs (never an expansion that dropped a term). to_rdf
  checks each subject's and property's IRI once, the input is copied through orjson, and a
  proof configuration that recurs (one key, one second) is canonicalised once. Everything is
  per thread, in bounded LRU caches, and private to this module: other pyld callers in the
  process are unaffected. After expansion, `canonicalize` hands the expanded document to
  `credentials.rdfc` (its own node map, triples and RDFC-1.0 on N-Quads strings, pyld's
  bytes in a fifth of the time); a document using what that module leaves to pyld (@list,
  named graphs, @json...) takes pyld's node map, to_rdf and URDNA2015 here
  (`canonicalize_with_pyld`). tests/credentials/test_rdfc_differential.py holds the results
  to plain pyld, the pyld path and oxigraph on the W3C vector, the UNTP samples and 1,000
  generated passports of every category; test_rdfc_fast_path.py covers rdfc on its own.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from typing import Any

import orjson
from cachetools import LRUCache
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver
from pyld.jsonld import KEYWORDS, RDF_TYPE, JsonLdError, JsonLdProcessor

from credentials import contexts, rdfc
from credentials.errors import CredentialError, MalformedCredential, UndefinedTerms

# Bounds of the per-thread caches. A UNTP battery passport needs ~100 processed contexts; pyld's
# resolver keeps each remote context and each scoped context it met (keyed by URL or JSON). The
# bounds leave room for several document shapes without growing without limit.
PROCESSED_CONTEXTS_MAX = 4096
RESOLVED_CONTEXTS_MAX = 1024
CHECKED_SHAPES_MAX = 4096  # check_terms: shapes of documents that expanded without complaint
EXPANDED_IRIS_MAX = 65536  # (active context, string, flags) -> IRI: ~900 asked per passport
RECURRING_MAX = 256  # canonical forms of recurring documents (proof configurations)
# JSON objects' expansions (~120 objects per UNTP passport, most small), bounded by the bytes
# of their JSON and expanded JSON: a batch of distinct passports adds a few large ones each.
EXPANDED_OBJECTS_BYTES = 32 * 1024 * 1024

# pyld's test of an absolute IRI (or blank node) in to_rdf, the same pattern.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")

_OPTIONS = {
    "algorithm": "URDNA2015",  # RDFC-1.0 is URDNA2015 under its standard name
    "format": "application/n-quads",
    "base": None,  # no default base: undefined relative IRIs stay relative, so we see them
    "processingMode": "json-ld-1.1",
    "extractAllScripts": False,
}


# --- public API --------------------------------------------------------------------------------

def expand(document: dict) -> list:
    """The expanded form of `document`. Raises UnknownContext for a context that is not bundled or
    registered, UndefinedTerms for dropped terms and non-IRI types, MalformedCredential for
    anything else pyld rejects."""
    return _run(lambda processor, options: processor.expand(document, options))


def check_terms(document: dict) -> None:
    """What `expand` checks (contexts known, no term dropped, types and ids absolute IRIs),
    without expanding a document shaped like one this thread expanded without complaint.

    Whether expansion drops or refuses something depends on the document's shape, not on most
    of its values: its keys, its contexts, its types (they select type-scoped contexts) and,
    of every other string, only whether it is a term of some context, a blank node, has a
    colon (an absolute or compact IRI: absolute once expanded) or not (relative). `_shape`
    keeps exactly that, so two documents of one shape expand alike; the first is expanded, the
    shape remembered if it passed, and a document that fails is expanded itself for the error.
    A document with a context of its own (not a URL) is always expanded."""
    memo = _caches()[2]
    try:
        key = _shape(document, *_vocabulary())
    except (_OwnContext, TypeError):  # TypeError: not plain JSON
        key = None
    if key is not None and key in memo:
        return
    expand(document)
    if key is not None:
        memo[key] = True


def canonicalize(document: dict) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of `document`, with the same checks as `expand`:
    its expansion's triples canonicalised by `credentials.rdfc`, or by pyld for a document
    using what that module leaves to pyld (both give pyld's bytes)."""
    expanded = expand(document)
    try:
        triples = rdfc.triples(expanded)
    except rdfc.Unsupported:
        return canonicalize_with_pyld(document)
    return rdfc.canonical_nquads(triples)


def canonicalize_with_pyld(document: dict) -> str:
    """`canonicalize` by pyld's node map, to_rdf and (a leaner) URDNA2015: the path of any
    document `credentials.rdfc` does not take."""
    return _run(lambda processor, options: processor.normalize(document, options))


def canonicalize_recurring(document: dict) -> str:
    """`canonicalize`, remembered by the document's exact JSON for documents that come back
    unchanged: a Data Integrity proof configuration is the same for every credential one key
    signs within a second (a signing batch), and canonicalising it costs as much as a fifth of
    a UNTP passport's. Only what `canonicalize` returned is kept, never an error; a document
    that is not plain JSON is canonicalised each time."""
    try:
        key = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return canonicalize(document)
    memo = _caches()[5]
    canonical = memo.get(key)
    if canonical is None:
        canonical = memo[key] = canonicalize(document)
    return canonical


def clear_caches() -> None:
    """Forget processed contexts (this thread's; other threads notice via the generation)."""
    global _generation
    _generation += 1


# --- shapes, for check_terms ---------------------------------------------------------------------

class _OwnContext(Exception):
    """The document carries a context object: its shape alone does not say what it defines."""


_NO_TERM = "\u2400 no term"  # a string no context defines, without a colon: stays relative
_OPAQUE_KEYWORDS = frozenset({"@id", "@value", "@index"})  # values judged like other strings


def _shape(value: Any, terms: frozenset, type_keys: frozenset) -> Any:
    """A hashable summary of `value` (see check_terms): objects become ("{", their members),
    arrays ("[", the set of their items' shapes: expansion judges items one by one)."""
    if isinstance(value, dict):
        members = []
        for key, item in value.items():
            if type(item) is str and key[:1] != "@" and key not in type_keys:
                # the commonest member, classified here as below (a call less per string)
                if item in terms or item[:1] == "@" or not item:
                    members.append((key, item))
                elif item.startswith("_:"):
                    members.append((key, "_:b"))
                else:
                    members.append((key, "x:x" if ":" in item else _NO_TERM))
            elif key == "@context":
                if not (isinstance(item, str) or isinstance(item, list)
                        and all(isinstance(entry, str) for entry in item)):
                    raise _OwnContext
                members.append((key, _frozen(item)))
            elif key in type_keys or key[:1] == "@" and key not in _OPAQUE_KEYWORDS \
                    and key not in _NESTING_KEYWORDS:
                members.append((key, _frozen(item)))  # verbatim: types pick scoped contexts
            else:
                members.append((key, _shape(item, terms, type_keys)))
        return "{", frozenset(members)
    if isinstance(value, list):
        return "[", frozenset(_shape(item, terms, type_keys) for item in value)
    if isinstance(value, str):
        if value in terms or value[:1] == "@" or not value:
            return value
        if value.startswith("_:"):
            return "_:b"
        return "x:x" if ":" in value else _NO_TERM
    if value is True or value is False or value is None:
        return value
    if isinstance(value, int):
        return _INTEGER
    if isinstance(value, float):
        return _DOUBLE
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _frozen(value: Any) -> Any:
    """`value` as it is, made hashable (arrays keep their order here)."""
    if isinstance(value, dict):
        return "{", frozenset((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, list):
        return "[", tuple(_frozen(item) for item in value)
    if isinstance(value, str | int | float | bool) or value is None:
        return type(value).__name__, value  # 1, 1.0 and True stay apart
    raise TypeError(f"not a JSON value: {type(value).__name__}")


_INTEGER, _DOUBLE = "\u2400 integer", "\u2400 double"  # no term is spelt so
_NESTING_KEYWORDS = frozenset({"@graph", "@list", "@set", "@included", "@nest", "@reverse"})


def _vocabulary() -> tuple[frozenset, frozenset]:
    """(every string in any known context: a value that is one may expand as a term, e.g. of
    a @vocab-typed term, so shapes keep it; the keys some context makes an alias of @type,
    whose values shapes keep, with @type itself)."""
    token = _caches()[3]
    if _TERMS.get("token") != token:
        terms: set[str] = set()
        type_keys: set[str] = {"@type"}
        for url in contexts.manifest():
            try:
                _context_strings(contexts._parsed(url), terms, type_keys)
            except CredentialError:
                continue  # listed but not loadable: expansion will say so
        _TERMS.update(token=token, vocabulary=(frozenset(terms), frozenset(type_keys)))
    return _TERMS["vocabulary"]


def _context_strings(node: Any, strings: set[str], type_keys: set[str]) -> None:
    if isinstance(node, dict):
        strings.update(node)
        for key, item in node.items():
            if item == "@type" or isinstance(item, dict) and item.get("@id") == "@type":
                type_keys.add(key)
            _context_strings(item, strings, type_keys)
    elif isinstance(node, list):
        for item in node:
            _context_strings(item, strings, type_keys)
    elif isinstance(node, str):
        strings.add(node)


_TERMS: dict[str, Any] = {}


# --- the processor -----------------------------------------------------------------------------

class _EngineProcessor(JsonLdProcessor):
    """pyld's processor with memoised context processing and a record of what it dropped."""

    def __init__(self, memo: LRUCache, iris: LRUCache, subtrees: LRUCache):
        super().__init__(on_property_dropped=self._dropped)
        self._memo = memo
        self._iris = iris
        self._subtrees = subtrees
        self._nodes: list[tuple[Any, dict]] = []  # (active context, element) being expanded
        self._document_contexts: set[int] = set()  # inline contexts of this call's document
        self.dropped: list[str] = []

    def _dropped(self, expanded_property: str | None) -> None:
        if expanded_property is not None:
            self.dropped.append(expanded_property)  # an undefined term expands to itself
            return
        # None: a term mapped to null or a keyword look-alike ("@foo"); name it from the element
        active_ctx, element = self._nodes[-1]
        self.dropped.extend(key for key in element if key != "@context"
                            and self._expand_iri(active_ctx, key, vocab=True) is None)

    def _expand(self, active_ctx, active_property, element, options, inside_list=False,
                inside_index=False, type_scoped_ctx=None):
        """pyld's, memoised for JSON objects: the expansion of an object is a pure function
        of the active context (immutable once built), the active property, the two flags, the
        type-scoped context and the object's JSON. Passports of one product line share most
        of their objects (the issuer, the conformity claims, the characteristics' shapes), so
        a new passport expands little but the objects on the way to what differs. Not kept:
        an expansion that dropped a term (the refusal must see it every time), an object with
        a context of its own (see _prepare_nested_context) or a null (orjson writes NaN as
        null too), and errors. A hit is a fresh copy: pyld adds to what it gets back."""
        uid = active_ctx.get("_uuid") if type(element) is dict else None
        scoped = type_scoped_ctx.get("_uuid") if type_scoped_ctx is not None else None
        if uid is None or (type_scoped_ctx is not None and scoped is None) or \
                options.get("isFrame") or active_property == "@default":
            return super()._expand(active_ctx, active_property, element, options, inside_list,
                                   inside_index, type_scoped_ctx)
        try:
            text = orjson.dumps(element)
        except TypeError:  # not plain JSON (a big integer, a key that is not text)
            text = b"null"
        if b"null" in text or b'"@context"' in text:
            return super()._expand(active_ctx, active_property, element, options, inside_list,
                                   inside_index, type_scoped_ctx)
        key = (uid, active_property, inside_list, inside_index, scoped, text)
        hit = self._subtrees.get(key)
        if hit is not None:
            return orjson.loads(hit.text)
        dropped = len(self.dropped)
        expanded = super()._expand(active_ctx, active_property, element, options, inside_list,
                                   inside_index, type_scoped_ctx)
        if len(self.dropped) == dropped:
            remembered = orjson.dumps(expanded)
            # The entry's size: both texts (the object's is in the key).
            entry = _Sized(remembered, len(remembered) + len(text))
            if entry.size <= EXPANDED_OBJECTS_BYTES // 64:  # no one object crowds out the rest
                self._subtrees[key] = entry
        return expanded

    def _expand_object(self, active_ctx, active_property, expanded_active_property, element,
                       *args, **kwargs):
        self._nodes.append((active_ctx, element))
        try:
            return super()._expand_object(active_ctx, active_property, expanded_active_property,
                                          element, *args, **kwargs)
        finally:
            self._nodes.pop()

    def _prepare_nested_context(self, active_ctx, element, options):
        if "@context" in element and isinstance(_context_key(element["@context"]), int):
            self._document_contexts.add(id(element["@context"]))
        return super()._prepare_nested_context(active_ctx, element, options)

    def _process_context(self, active_ctx, local_ctx, options, override_protected=False,
                         propagate=True, validate_scoped=True, cycles=None):
        uid = active_ctx.get("_uuid")
        if uid is None or cycles is not None:
            # A context still being built, or pyld checking scoped contexts while building
            # one: only happens on a miss, and the results are never asked for again.
            return super()._process_context(active_ctx, local_ctx, options, override_protected,
                                            propagate, validate_scoped, cycles)
        if id(local_ctx) in self._document_contexts:
            # The document's own inline context is a fresh copy each call: key it by value.
            context_key = json.dumps(local_ctx, sort_keys=True, separators=(",", ":"))
        else:
            context_key = _context_key(local_ctx)
        key = (uid, context_key, override_protected, propagate, validate_scoped,
               options.get("base"))
        hit = self._memo.get(key)
        # The entry holds local_ctx itself, so an id() in the key cannot be reused meanwhile.
        if hit is not None:
            return hit[1]
        processed = super()._process_context(active_ctx, local_ctx, options, override_protected,
                                             propagate, validate_scoped, cycles)
        self._memo[key] = (local_ctx, processed)
        return processed

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None,
                    defined=None):
        """pyld's, memoised outside context processing: the expansion of a string in a built
        (immutable, see the module's doc) active context is a pure function of the two and
        the flags; pyld asks it ~900 times for one UNTP passport. Errors are not kept."""
        uid = active_ctx.get("_uuid") if local_ctx is None and isinstance(value, str) else None
        if uid is None:
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (uid, value, base, vocab)
        try:
            return self._iris[key]
        except KeyError:
            pass
        expanded = super()._expand_iri(active_ctx, value, base, vocab)
        self._iris[key] = expanded
        return expanded

    def _graph_to_rdf(self, graph, issuer, options):
        """pyld's, with each subject's and property's IRI checked once instead of once per
        value (the same pattern and order; a fresh component dict per triple, as URDNA2015
        relabels them in place), refusing the document where pyld drops a triple for an IRI
        that is not absolute (rdfc.refuse_dropped)."""
        triples = []
        dropped = []
        generalized = options["produceGeneralizedRdf"]
        for id_, node in sorted(graph.items()):
            if not _ABSOLUTE_IRI.match(id_):
                dropped.append(id_)  # a relative subject: pyld drops its triples
                continue
            subject_type = "blank node" if id_.startswith("_:") else "IRI"
            for property, items in sorted(node.items()):
                if property == "@type":
                    property = RDF_TYPE
                elif property in KEYWORDS:
                    continue
                if not _ABSOLUTE_IRI.match(property):
                    dropped.append(property)
                    continue
                if property.startswith("_:"):
                    if not generalized:
                        dropped.append(property)  # not RDF: pyld drops the triples
                        continue
                    predicate_type = "blank node"
                else:
                    predicate_type = "IRI"
                for item in items:
                    rdf_object = self._object_to_rdf(item, issuer, triples, options)
                    if rdf_object is not None:  # None: a relative IRI
                        triples.append({"subject": {"type": subject_type, "value": id_},
                                        "predicate": {"type": predicate_type,
                                                      "value": property},
                                        "object": rdf_object})
                    else:
                        dropped.append(item["@id"] if isinstance(item, dict) else item)
        rdfc.refuse_dropped(dropped)
        return triples

    def expand(self, input_, options):
        if isinstance(input_, dict) and "contextResolver" in options \
                and "expandContext" not in options:
            expanded = self._expand_document(input_, options)
        else:
            expanded = super().expand(input_, options)
        _refuse_lossy(expanded, self.dropped)
        return expanded

    def _expand_document(self, document: dict, options: dict) -> list:
        """pyld's expand of a document in memory (what _run gives it: a loader and a resolver
        set, no expandContext), with the copy that keeps the caller's document untouched made
        through orjson rather than copy.deepcopy (a tenth of a passport's expansion)."""
        options = {"isFrame": False, "keepFreeFloatingNodes": False,
                   "extractAllScripts": False, "processingMode": "json-ld-1.1", "base": "",
                   **options}
        expanded = self._expand(self._get_initial_context(options), None,
                                _json_copy(document), options, inside_list=False)
        if isinstance(expanded, dict) and "@graph" in expanded and len(expanded) == 1:
            expanded = expanded["@graph"]
        elif expanded is None:
            expanded = []
        return JsonLdProcessor.arrayify(expanded)

    def normalize(self, input_, options):
        """pyld's normalize for JSON-LD input and URDNA2015 only, with a faster URDNA2015."""
        to_rdf_options = {k: v for k, v in options.items() if k != "format"}  # a dataset, please
        dataset = self.to_rdf(input_, {**to_rdf_options, "produceGeneralizedRdf": False})
        return _URDNA2015().main(dataset, options)


class _URDNA2015(URDNA2015):
    """pyld's URDNA2015, minus a deep copy per blank-node component (a flat two-key dict)."""

    def modify_first_degree_component(self, id_, component, key):
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}


class _Sized:
    """A remembered expansion's JSON text and the bytes it and its key hold."""

    __slots__ = ("size", "text")

    def __init__(self, text: bytes, size: int):
        self.text, self.size = text, size

    def __len__(self) -> int:
        return self.size


def _json_copy(document: Any) -> Any:
    """A deep copy of a JSON document: through orjson when that gives the same document back
    (not for NaN or the infinities, which it writes as null, nor for non-JSON values)."""
    try:
        text = orjson.dumps(document)
    except TypeError:
        return copy.deepcopy(document)
    return copy.deepcopy(document) if b"null" in text else orjson.loads(text)


def _context_key(local_ctx) -> Any:
    """URLs by value (the document's @context is a fresh list each call); context objects by
    identity (they live in the cached term definitions, so the same object comes back)."""
    if isinstance(local_ctx, str):
        return local_ctx
    if isinstance(local_ctx, list) and all(isinstance(item, str) for item in local_ctx):
        return tuple(local_ctx)
    return id(local_ctx)


# --- the checks --------------------------------------------------------------------------------

def _refuse_lossy(expanded: list, dropped: list[str]) -> None:
    bad_types: list[str] = []
    relative: list[str] = []
    _scan(expanded, bad_types, relative)
    if dropped or bad_types:
        raise UndefinedTerms(dropped + bad_types)
    if relative:
        raise MalformedCredential("relative IRIs would be dropped by canonicalisation: "
                                  + ", ".join(sorted(set(relative))))


def _scan(node: Any, bad_types: list[str], relative: list[str]) -> None:
    """Collect node types that are not absolute IRIs and relative @id values (depth first, in
    document order). Value objects and strings are passed over without a call each: an
    expanded passport holds a few hundred."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, list) or isinstance(item, dict) and "@value" not in item:
                _scan(item, bad_types, relative)
        return
    if not isinstance(node, dict) or "@value" in node:
        return  # value objects: pyld itself rejects a non-IRI datatype
    for key, value in node.items():
        if key == "@type":
            bad_types.extend(t for t in value if isinstance(t, str) and not _absolute(t))
        elif key == "@id":
            if isinstance(value, str) and not _absolute(value):
                relative.append(value)
        elif isinstance(value, list) or isinstance(value, dict) and "@value" not in value:
            _scan(value, bad_types, relative)


def _absolute(iri: str) -> bool:
    return ":" in iri  # what pyld's to_rdf accepts; blank nodes (_:b0) included


# --- running pyld ------------------------------------------------------------------------------

_generation = 0
_local = threading.local()


def _caches() -> tuple[LRUCache, LRUCache, LRUCache, tuple, LRUCache, LRUCache, LRUCache]:
    """This thread's (processed-context memo, resolved-context cache, shapes that passed
    check_terms, the token they belong to, the memo of expanded IRIs, canonical forms of
    recurring documents, expanded objects), emptied whenever contexts are registered or
    `clear_caches` is called."""
    registered = tuple(contexts._registered.items())  # register() may replace a URL's document
    token = (_generation, tuple((url, id(document)) for url, document in registered))
    if getattr(_local, "token", None) != token:
        _local.token = token
        _local.registered = registered  # keeps the documents alive, so their ids stay theirs
        _local.memo = LRUCache(maxsize=PROCESSED_CONTEXTS_MAX)
        _local.resolved = LRUCache(maxsize=RESOLVED_CONTEXTS_MAX)
        _local.shapes = LRUCache(maxsize=CHECKED_SHAPES_MAX)
        _local.iris = LRUCache(maxsize=EXPANDED_IRIS_MAX)
        _local.recurring = LRUCache(maxsize=RECURRING_MAX)
        _local.subtrees = LRUCache(maxsize=EXPANDED_OBJECTS_BYTES, getsizeof=len)
    return (_local.memo, _local.resolved, _local.shapes, token, _local.iris, _local.recurring,
            _local.subtrees)


def _load_static(url: str, options=None) -> dict:
    """The bundled loader, tagged 'static' so the context resolver keeps what it resolved."""
    return {**contexts.document_loader(url, options), "tag": "static"}


def _run(operation):
    memo, resolved, _, _, iris, _, subtrees = _caches()
    processor = _EngineProcessor(memo, iris, subtrees)
    options = {**_OPTIONS, "documentLoader": _load_static,
               "contextResolver": ContextResolver(resolved, _load_static)}
    try:
        return operation(processor, options)
    except JsonLdError as exc:
        raise _translate(exc) from None


def _translate(exc: JsonLdError) -> CredentialError:
    """The first CredentialError in the cause chain (UnknownContext from the loader), else the
    innermost pyld message as MalformedCredential."""
    cause: BaseException | None = exc
    innermost = exc
    while cause is not None:
        if isinstance(cause, CredentialError):
            return cause
        if isinstance(cause, JsonLdError):
            innermost = cause
        cause = cause.__cause__
    message = innermost.args[0] if innermost.args else type(innermost).__name__
    code = getattr(innermost, "code", None)
    return MalformedCredential(f"JSON-LD: {message}" + (f" ({code})" if code else ""))
