"""The engine's evidence follower on its own: what it follows, how far, and what it refuses,
with a fetch and a verifier of the test's own (documents in a dict, verdicts by their text)."""

from __future__ import annotations

import json

import pytest

from credentials import evidence
from credentials.errors import CredentialError
from credentials.evidence import EvidenceFollower, digest_matches, digest_multibase

ISSUER = {"id": "did:web:example.com:orgs:lab", "name": "Lab", "trusted": True,
          "legal_person": {"name": "Lab B.V.", "anchor": "did:web:example.com:orgs:register",
                           "anchor_name": "Register"}}


def credential(url: str, links: list[str] = (), documents=None) -> dict:
    related = []
    for target in links:
        related.append({"linkURL": target, "linkName": target, "mediaType": "application/vc+jwt",
                        "digestMultibase": digest_multibase(documents[target])
                        if documents and target in documents else None})
    return {"id": url, "type": ["VerifiableCredential", "DigitalProductPassport"],
            "credentialSubject": {"name": url, "relatedDocument": related}}


class World:
    """URL -> bytes (a credential as JSON); verify() says verified unless told otherwise."""

    def __init__(self):
        self.documents: dict[str, bytes] = {}
        self.fetched: list[str] = []
        self.failing: dict[str, str] = {}

    def add(self, url: str, links=()) -> dict:
        document = credential(url, links, self.documents)
        self.documents[url] = json.dumps(document).encode()
        return document

    def fetch(self, url: str, max_bytes: int) -> bytes:
        self.fetched.append(url)
        if url not in self.documents:
            raise CredentialError(f"{url} answered 404")
        if len(self.documents[url]) > max_bytes:
            raise CredentialError(f"{url} is larger than {max_bytes} bytes")
        return self.documents[url]

    def verify(self, secured) -> dict:
        document = secured if isinstance(secured, dict) else json.loads(secured)
        error = self.failing.get(document["id"])
        return {"verified": error is None, "errors": [error] if error else [],
                "warnings": [], "issuer": ISSUER, "credential": document}

    def follower(self, **limits) -> EvidenceFollower:
        return EvidenceFollower(fetch=self.fetch, verify=self.verify, cache_seconds=0, **limits)


@pytest.fixture(autouse=True)
def fresh():
    evidence.clear_caches()


def test_every_link_is_verified_with_its_issuer_and_anchor():
    world = World()
    world.add("https://a.example/cell")
    top = world.add("https://b.example/battery", ["https://a.example/cell"])
    tree = world.follower().tree(top)
    [cell] = tree["links"]
    assert tree["verified"] and tree["count"] == 1
    assert cell["hash"] == "match" and cell["kind"] == "passport"
    assert cell["issuer"] == {"id": ISSUER["id"], "name": "Lab B.V.", "trusted": True,
                              "anchor": "did:web:example.com:orgs:register",
                              "anchor_name": "Register"}


def test_a_failed_branch_is_red_and_so_is_the_tree_above():
    world = World()
    world.add("https://a.example/cell")
    world.add("https://a.example/module", ["https://a.example/cell"])
    top = world.add("https://b.example/battery", ["https://a.example/module"])
    world.failing["https://a.example/cell"] = "status: revoked"
    tree = world.follower().tree(top)
    [module] = tree["links"]
    assert not tree["verified"] and not module["verified"]
    assert module["links"][0]["errors"] == ["status: revoked"]


def test_changed_bytes_are_a_hash_mismatch():
    world = World()
    world.add("https://a.example/cell")
    top = world.add("https://b.example/battery", ["https://a.example/cell"])
    world.documents["https://a.example/cell"] += b" "
    [cell] = world.follower().tree(top)["links"]
    assert cell["hash"] == "mismatch" and not cell["verified"]


def test_depth_count_and_bytes_are_bounded_and_say_so():
    world = World()
    world.add("https://x.example/4")
    for level in (3, 2, 1):
        world.add(f"https://x.example/{level}", [f"https://x.example/{level + 1}"])
    top = world.add("https://x.example/0", ["https://x.example/1"])
    deep = world.follower(max_depth=2).tree(top)
    assert "https://x.example/3" not in world.fetched
    assert any("deeper than 2" in e for e in deep["links"][0]["links"][0]["errors"])
    world.fetched.clear()
    many = world.add("https://x.example/many", [f"https://x.example/{n}" for n in range(1, 5)])
    counted = world.follower(max_links=2, max_depth=1).tree(many)
    assert counted["count"] == 2 and "more than 2" in counted["stopped"]
    assert not counted["verified"]
    small = world.follower(max_total_bytes=10).tree(top)
    assert not small["verified"]
    assert "larger than 10 bytes" in small["links"][0]["errors"][0]


def test_a_loop_is_not_followed_and_an_unreachable_link_is_red():
    world = World()
    world.documents["https://x.example/a"] = json.dumps(
        credential("https://x.example/a", [])).encode()
    top = world.add("https://x.example/top", ["https://x.example/top", "https://x.example/gone"])
    tree = world.follower().tree(top)
    loop, gone = tree["links"]
    assert any("leads back" in e for e in loop["errors"])
    assert gone["errors"] == ["fetch: https://x.example/gone answered 404"]


def test_a_link_to_a_document_that_is_no_credential_is_listed_not_fetched():
    world = World()
    top = world.add("https://x.example/top")
    top["credentialSubject"]["relatedDocument"] = [
        {"linkURL": "https://x.example/report.pdf", "linkName": "Test report",
         "mediaType": "application/pdf"}]
    [report] = world.follower().tree(top)["links"]
    assert report["followed"] is False and report["verified"]
    assert world.fetched == []


def test_digests_in_both_multibase_forms():
    from credentials.encoding import b58encode

    data = b"credential bytes"
    import hashlib

    z = "z" + b58encode(b"\x12\x20" + hashlib.sha256(data).digest())
    assert digest_matches(digest_multibase(data), data) and digest_matches(z, data)
    assert not digest_matches(digest_multibase(b"other"), data)
    assert not digest_matches("mAAAA", data)
