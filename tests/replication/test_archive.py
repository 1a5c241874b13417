"""Backup and restore of the service itself (issue #26, docs/backup.md): an encrypted archive
of one consistent snapshot, restored into a fresh database where every passport verifies."""

from __future__ import annotations

import io
import json
import re

import pytest

from core.encryption_key import new_encryption_key_text
from replication.archive import (
    CHUNK_BYTES,
    MAGIC,
    SALT_BYTES,
    ArchiveError,
    OpeningReader,
    SealingWriter,
)
from tests.support.instance import Instance

pytestmark = pytest.mark.django_db

LIST_PASSPORTS = """
import json
from passports.models import Passport
print(json.dumps([[str(p.pk), p.state, p.jwt, p.product.digital_link]
                  for p in Passport.objects.exclude(jwt="").select_related("product")]))
"""


def _sealed(plain: bytes, key: bytes) -> bytes:
    out = io.BytesIO()
    writer = SealingWriter(out, key)
    writer.write(plain)
    writer.close()
    return out.getvalue()


def _opened(sealed: bytes, key: bytes) -> bytes:
    return OpeningReader(io.BytesIO(sealed), key).read()


def test_a_sealed_archive_opens_only_whole_unchanged_and_with_its_key():
    key, other = b"k" * 32, b"o" * 32
    plain = bytes(range(256)) * (CHUNK_BYTES // 128) + b"end"  # two chunks and a last one
    sealed = _sealed(plain, key)

    assert _opened(sealed, key) == plain
    assert plain[:4096] not in sealed
    assert _sealed(plain, key) != sealed  # a fresh salt per archive
    changed = bytearray(sealed)
    changed[len(sealed) // 2] ^= 1
    frame = 4 + CHUNK_BYTES + 16
    header = len(MAGIC) + SALT_BYTES
    for broken, why in [
        (sealed, "cannot be opened"),  # with the other key
        (bytes(changed), "cannot be opened"),
        (sealed[:header + 2 * frame], "truncated"),  # the last chunk cut off
        (sealed[:header] + sealed[header + frame:], "cannot be opened"),  # a chunk left out
        (sealed + b"x", "after its end"),
        (b"not an archive at all" * 4, "not an archive"),
    ]:
        with pytest.raises(ArchiveError, match=why):
            _opened(broken, other if broken is sealed else key)


def _passports(instance: Instance) -> list:
    return json.loads(instance.python(LIST_PASSPORTS).strip().splitlines()[-1])


def test_an_archive_restores_into_a_fresh_database_where_every_passport_verifies(
        tmp_path, instances):
    original = instances.make("original", redis_database=None)
    original.manage("demo")
    issued = _passports(original)
    archive_key = new_encryption_key_text()
    archive = tmp_path / "service.archive"
    original.manage("backup_archive", str(archive), env={"BACKUP_ARCHIVE_KEY": archive_key})
    assert b"BEGIN" not in archive.read_bytes() and issued[0][2].encode() not in \
        archive.read_bytes()  # sealed: no credential, no key readable in it
    original.drop()  # the database is gone

    # A fresh instance at the same address, configured with the original KEY_ENCRYPTION_KEY
    # (kept apart from the archive): first with a wrong archive key, then a wrong KEK.
    kek = original.env["KEY_ENCRYPTION_KEY"]
    fresh = instances.make("restored", redis_database=None, migrate=False, port=original.port,
                           env={"KEY_ENCRYPTION_KEY": kek})
    wrong_key = fresh.manage("restore_archive", str(archive), check=False,
                             env={"BACKUP_ARCHIVE_KEY": new_encryption_key_text()})
    assert wrong_key.returncode == 1 and "cannot be opened" in wrong_key.stderr
    wrong_kek = fresh.manage("restore_archive", str(archive), check=False, env={
        "BACKUP_ARCHIVE_KEY": archive_key, "KEY_ENCRYPTION_KEY": new_encryption_key_text()})
    assert wrong_kek.returncode == 1 and "KEY_ENCRYPTION_KEY is not the one" in wrong_kek.stderr

    restored = fresh.manage("restore_archive", str(archive),
                            env={"BACKUP_ARCHIVE_KEY": archive_key})
    assert f"{len(issued)} of {len(issued)} passports verify" in restored.stdout
    assert _passports(fresh) == issued
    again = fresh.manage("restore_archive", str(archive), check=False,
                         env={"BACKUP_ARCHIVE_KEY": archive_key})
    assert again.returncode == 1 and "not empty" in again.stderr  # never over a live one

    fresh.start()
    states = set()
    for passport_id, state, jwt, link in issued:
        credential = fresh.request("GET", f"/passports/{passport_id}",
                                   headers={"Accept": "application/vc+jwt"})
        assert credential.status == 200 and credential.text == jwt
        verdict = fresh.request("POST", "/api/v1/verify/", body=json.dumps(
            {"passport": passport_id}).encode(), headers={
            "Content-Type": "application/json"}).json()
        proof = next(c for c in verdict["checks"] if c["check"] == "proof")
        assert proof["ok"] and verdict["verified"] == (state == "issued"), verdict
        page = fresh.request("GET", re.sub(r"^https?://[^/]+", "", link),
                             headers={"Accept": "text/html"})
        badge = {"issued": "Verified", "revoked": "Revoked"}[state]
        assert page.status == 200 and f"<span>{badge}</span>" in page.text
        states.add(state)
    assert states == {"issued", "revoked"}  # the demo revokes one of its passports
