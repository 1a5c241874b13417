"""Encrypted archives of the whole service (docs/backup.md): `manage.py backup_archive` writes
one, `manage.py restore_archive` restores it into a fresh database.

What an archive holds: a manifest and one consistent snapshot of the database (every table,
the key store among them: private keys stay wrapped under KEY_ENCRYPTION_KEY inside it).
PostgreSQL: `pg_dump --format=custom`, which reads every table in one transaction snapshot;
SQLite (the embedded mode): SQLite's online backup, which copies one consistent state. The
KEY_ENCRYPTION_KEY itself is NOT in the archive: it is kept apart, so the archive and its key
alone open no private key. The manifest carries a check value of it (an HMAC, which tells
nothing of the key) so a restore refuses a wrong one before it writes anything.

The archive is encrypted and authenticated with BACKUP_ARCHIVE_KEY (32 random bytes,
base64url, from the environment, never a setting): per archive a fresh salt derives an
AES-256-GCM key (HKDF-SHA256), and the stream is cut into chunks sealed one by one with their
number and a last-chunk flag in the nonce, so a changed, reordered, truncated or extended
archive is refused, as is a wrong key."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from core.encryption_key import encryption_key_from_text

MAGIC = b"DPPARCH1"
SALT_BYTES = 32
CHUNK_BYTES = 1 << 20  # plaintext per sealed chunk
FORMAT = 1
ARCHIVE_KEY_VARIABLE = "BACKUP_ARCHIVE_KEY"
MANIFEST = "manifest.json"
POSTGRES_DUMP = "database.pgdump"
SQLITE_COPY = "database.sqlite3"
_KEK_CHECK_LABEL = b"dpp-wallet archive: KEY_ENCRYPTION_KEY check"


class ArchiveError(Exception):
    """Why an archive was not written or restored; nothing was changed when it is raised
    before the restore began writing (every check comes first)."""


def archive_key(text: str | None = None) -> bytes:
    """The 32 key bytes of BACKUP_ARCHIVE_KEY (or `text`); ArchiveError naming the fault."""
    text = os.environ.get(ARCHIVE_KEY_VARIABLE) if text is None else text
    if not text:
        raise ArchiveError(f"set {ARCHIVE_KEY_VARIABLE} (32 random bytes, base64url; "
                           f"`manage.py make_secrets` prints one)")
    try:
        return encryption_key_from_text(text)
    except ValueError as exc:
        raise ArchiveError(str(exc).replace("KEY_ENCRYPTION_KEY", ARCHIVE_KEY_VARIABLE)) from None


def key_encryption_key_check(kek_text: str) -> str:
    return hmac.new(encryption_key_from_text(kek_text), _KEK_CHECK_LABEL,
                    hashlib.sha256).hexdigest()


# --- the sealed stream -------------------------------------------------------------------------

def _aead(key: bytes, salt: bytes) -> AESGCM:
    return AESGCM(HKDF(hashes.SHA256(), 32, salt=salt, info=b"dpp-wallet archive v1")
                  .derive(key))


def _nonce(number: int, last: bool) -> bytes:
    return number.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class SealingWriter(io.RawIOBase):
    """A write-only stream that seals what is written into `out` (see the module's doc)."""

    def __init__(self, out, key: bytes):
        super().__init__()
        salt = os.urandom(SALT_BYTES)
        self._header = MAGIC + salt
        self._aead = _aead(key, salt)
        self._out = out
        self._buffer = bytearray()
        self._number = 0
        out.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:  # keep one back: the last chunk is flagged
            self._seal(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._number, last), chunk, self._header)
        self._out.write(len(sealed).to_bytes(4, "big") + sealed)
        self._number += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


class OpeningReader(io.RawIOBase):
    """A read-only stream of what a SealingWriter sealed; ArchiveError for a wrong key or an
    archive changed in any way."""

    def __init__(self, source, key: bytes):
        super().__init__()
        header = source.read(len(MAGIC) + SALT_BYTES)
        if len(header) != len(MAGIC) + SALT_BYTES or not header.startswith(MAGIC):
            raise ArchiveError("not an archive of this service")
        self._header, self._source = header, source
        self._aead = _aead(key, header[len(MAGIC):])
        self._number, self._plain, self._ended = 0, b"", False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> None:
        length = self._source.read(4)
        if len(length) != 4:
            raise ArchiveError("the archive is truncated")
        sealed = self._source.read(int.from_bytes(length, "big"))
        for last in (False, True):
            try:
                self._plain = self._aead.decrypt(_nonce(self._number, last), sealed,
                                                 self._header)
            except InvalidTag:
                continue
            self._number += 1
            if last:
                if self._source.read(1):
                    raise ArchiveError("the archive has data after its end")
                self._ended = True
            return
        raise ArchiveError(f"the archive cannot be opened with this {ARCHIVE_KEY_VARIABLE}, "
                           f"or it was changed")

    def readinto(self, buffer) -> int:
        while not self._plain and not self._ended:
            self._next_chunk()
        taken = self._plain[:len(buffer)]
        buffer[:len(taken)] = taken
        self._plain = self._plain[len(taken):]
        return len(taken)


# --- writing -----------------------------------------------------------------------------------

def _engine(alias: str = "default") -> str:
    engine = connections[alias].vendor
    if engine not in ("postgresql", "sqlite"):
        raise ArchiveError(f"archives of a {engine} database are not supported")
    return engine


def _postgres_env(db: dict) -> tuple[list[str], dict]:
    """pg_dump / pg_restore connection options; the password goes in the environment only."""
    options = ["--host", db["HOST"] or "127.0.0.1", "--port", str(db["PORT"] or 5432),
               "--username", db["USER"] or "postgres", "--no-password"]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return options, env


def _run(command: list[str], env: dict) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ArchiveError(f"{command[0]} is not installed (PostgreSQL's client tools)") from None
    if done.returncode != 0:
        raise ArchiveError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _snapshot(directory: Path, engine: str) -> Path:
    db = settings.DATABASES["default"]
    if engine == "postgresql":
        path = directory / POSTGRES_DUMP
        options, env = _postgres_env(db)
        _run(["pg_dump", *options, "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(path), db["NAME"]], env)
        return path
    path = directory / SQLITE_COPY
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)  # one consistent state, also while in use
    finally:
        target.close()
    return path


def _latest_migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.order_by("id").values_list(
            "app", "name"):
        latest[app] = name
    return latest


def write_archive(destination: Path, key: bytes) -> dict:
    """Write an encrypted archive of the database to `destination` (a new file, written
    under a temporary name and renamed when complete); the manifest."""
    engine = _engine()
    destination = Path(destination)
    if destination.exists():
        raise ArchiveError(f"{destination} exists: an archive is never overwritten")
    manifest = {"format": FORMAT, "created_at": timezone.now().isoformat(), "engine": engine,
                "public_base_url": settings.PUBLIC_BASE_URL,
                "migrations": _latest_migrations(),
                "key_encryption_key_check": key_encryption_key_check(
                    settings.KEY_ENCRYPTION_KEY)}
    partial = destination.with_name(destination.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="dpp-archive-") as work:
        snapshot = _snapshot(Path(work), engine)
        try:
            with open(partial, "wb") as out:
                sealed = SealingWriter(out, key)
                with tarfile.open(fileobj=sealed, mode="w|") as tar:
                    body = json.dumps(manifest, indent=1).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size = len(body)
                    tar.addfile(info, io.BytesIO(body))
                    tar.add(snapshot, arcname=snapshot.name)
                sealed.close()
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


# --- restoring ---------------------------------------------------------------------------------

SIGNATURE_CHECKS = ("proof", "issuer", "schema")
LIVE_STATES = ("issued", "superseded")


@dataclass
class Restored:
    manifest: dict
    keys: int = 0
    passports: int = 0
    verified: int = 0
    not_verified: list[str] = field(default_factory=list)


def _open(source: Path, key: bytes, directory: Path) -> tuple[dict, Path]:
    """Decrypt and unpack the archive into `directory`: (its manifest, the snapshot)."""
    manifest, snapshot = None, None
    with open(source, "rb") as raw, tarfile.open(fileobj=OpeningReader(raw, key),
                                                 mode="r|") as tar:
        for member in tar:
            if not member.isfile() or member.name not in (MANIFEST, POSTGRES_DUMP, SQLITE_COPY):
                raise ArchiveError(f"unexpected member {member.name!r} in the archive")
            extracted = tar.extractfile(member)
            if member.name == MANIFEST:
                manifest = json.loads(extracted.read())
            else:
                snapshot = directory / member.name
                with open(snapshot, "wb") as out:
                    shutil.copyfileobj(extracted, out)
    if manifest is None or snapshot is None:
        raise ArchiveError("the archive lacks its manifest or its database")
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"archive format {manifest.get('format')} is not supported")
    return manifest, snapshot


def _check_target(manifest: dict) -> str:
    engine = _engine()
    if manifest["engine"] != engine:
        raise ArchiveError(f"the archive holds a {manifest['engine']} database; DATABASE_URL "
                           f"names a {engine} one (restore into the same engine)")
    if connection.introspection.table_names():
        raise ArchiveError("the target database is not empty: restore into a fresh database "
                           "(a new DATABASE_URL), never over a live one")
    if not hmac.compare_digest(manifest["key_encryption_key_check"],
                               key_encryption_key_check(settings.KEY_ENCRYPTION_KEY)):
        raise ArchiveError("KEY_ENCRYPTION_KEY is not the one the archived keys are wrapped "
                           "under: configure the archived instance's KEY_ENCRYPTION_KEY "
                           "(kept apart from the archive) before restoring")
    return engine


def _load(snapshot: Path, engine: str) -> None:
    db = settings.DATABASES["default"]
    if engine == "postgresql":
        options, env = _postgres_env(db)
        connection.close()
        _run(["pg_restore", *options, "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", "--dbname", db["NAME"], str(snapshot)], env)
        return
    connection.ensure_connection()
    source = sqlite3.connect(snapshot)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


def restore_archive(source: Path, key: bytes, *, verify) -> Restored:
    """Restore the archive at `source` into the configured (empty) database, then bring its
    schema up to this code's migrations and check every key unwraps and every issued passport
    verifies (`verify(passport) -> verdict`)."""
    from django.core.management import call_command

    from credentials.key_store import keys_opening
    from passports.models import Passport

    with tempfile.TemporaryDirectory(prefix="dpp-restore-") as work:
        manifest, snapshot = _open(Path(source), key, Path(work))
        engine = _check_target(manifest)
        _load(snapshot, engine)
    call_command("migrate", verbosity=0, interactive=False)
    restored = Restored(manifest)
    restored.keys, failed = keys_opening(settings.KEY_ENCRYPTION_KEY)
    if failed:
        raise ArchiveError(f"{len(failed)} private keys do not open with KEY_ENCRYPTION_KEY: "
                           f"{', '.join(failed[:5])}")
    for passport in Passport.objects.exclude(jwt="").iterator(chunk_size=500):
        restored.passports += 1
        verdict = verify(passport)
        signed_well = all(check["ok"] for check in verdict["checks"]
                          if check["check"] in SIGNATURE_CHECKS)
        # An issued or superseded passport verifies; a revoked or suspended one is signed as
        # it was, and its verdict says what it is.
        if signed_well and (verdict["verified"] or passport.state not in LIVE_STATES):
            restored.verified += 1
        else:
            restored.not_verified.append(f"{passport.pk}: {'; '.join(verdict['errors'])}")
    return restored
