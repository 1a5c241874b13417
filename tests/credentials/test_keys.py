"""Keys: generated here, encrypted at rest, rotated without breaking old signatures."""

import os
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag
from django.core.management import call_command
from django.core.management.base import CommandError

from credentials.key_store import (
    NoSigningKey,
    create_key,
    public_key_of,
    rewrap_all_keys,
    rotate_key,
    signer_for,
)
from credentials.keys import (
    LocalSigner,
    PublicKey,
    encryption_key_from_text,
    unwrap_private_key,
    wrap_private_key,
)
from credentials.models import KeyPair
from tests.support.environment import ROOT

DID = "did:web:localhost%3A8000:orgs:keytest"
NEW_KEK = "bmV3LWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE"  # 32 bytes, base64url


@pytest.mark.django_db
def test_a_new_key_signs_and_its_public_half_verifies():
    key = create_key(DID)

    signature = signer_for(DID).sign(b"hello")

    assert key.verification_method == f"{DID}#key-1"
    assert public_key_of(key).verify(signature, b"hello")
    assert not public_key_of(key).verify(signature, b"hellO")


@pytest.mark.django_db
def test_private_key_is_stored_encrypted_only():
    create_key(DID)
    signer = signer_for(DID)
    stored = bytes(KeyPair.objects.get(controller=DID).wrapped_private_key)

    # The signer handed out keeps its private half to itself; the one inside it holds it.
    assert not hasattr(signer, "private_bytes")
    assert signer._signer.private_bytes()[-32:] not in stored
    assert "private" not in repr(signer).lower()
    assert stored[:1] == b"\x01"


def test_wrapped_key_is_bound_to_its_row_and_its_encryption_key():
    kek = encryption_key_from_text(NEW_KEK)
    wrapped = wrap_private_key(b"secret-der", kek, associated=b"did:x#key-1")

    assert unwrap_private_key(wrapped, kek, associated=b"did:x#key-1") == b"secret-der"
    with pytest.raises(InvalidTag):
        unwrap_private_key(wrapped, kek, associated=b"did:x#key-2")
    with pytest.raises(InvalidTag):
        unwrap_private_key(wrapped, os.urandom(32), associated=b"did:x#key-1")


def test_key_encryption_key_must_be_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        encryption_key_from_text("c2hvcnQ")


@pytest.mark.django_db
def test_rotation_keeps_old_key_listed_and_signs_with_the_new_one():
    first = create_key(DID)
    second = rotate_key(DID)

    first.refresh_from_db()
    assert first.retired_at is not None
    assert second.retired_at is None
    assert signer_for(DID).verification_method == f"{DID}#key-2"
    assert KeyPair.objects.filter(controller=DID).count() == 2


@pytest.mark.django_db
def test_no_key_no_signer():
    with pytest.raises(NoSigningKey):
        signer_for("did:web:localhost%3A8000:orgs:nobody")


@pytest.mark.django_db
def test_rewrap_command_moves_every_key_to_the_new_encryption_key(settings, monkeypatch):
    create_key(DID)
    create_key("did:web:localhost%3A8000:orgs:other")
    before = signer_for(DID).public_key()
    monkeypatch.setenv("OLD_KEY_ENCRYPTION_KEY", settings.KEY_ENCRYPTION_KEY)
    monkeypatch.setenv("NEW_KEY_ENCRYPTION_KEY", NEW_KEK)

    call_command("rewrap_keys")
    settings.KEY_ENCRYPTION_KEY = NEW_KEK

    signer = signer_for(DID)
    assert signer.public_key() == before
    assert before.verify(signer.sign(b"x"), b"x")


@pytest.mark.django_db
def test_rewrap_with_a_wrong_old_key_changes_nothing(monkeypatch):
    create_key(DID)
    stored = bytes(KeyPair.objects.get(controller=DID).wrapped_private_key)
    monkeypatch.setenv("OLD_KEY_ENCRYPTION_KEY", NEW_KEK)
    monkeypatch.setenv("NEW_KEY_ENCRYPTION_KEY", NEW_KEK)

    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("rewrap_keys")

    assert bytes(KeyPair.objects.get(controller=DID).wrapped_private_key) == stored
    with pytest.raises(InvalidTag):
        rewrap_all_keys(NEW_KEK, NEW_KEK)


def test_p256_signatures_are_jose_r_s_and_verify():
    signer = LocalSigner.generate("did:x#1", key_type="P-256")
    signature = signer.sign(b"data")

    assert len(signature) == 64
    assert signer.public_key().verify(signature, b"data")
    assert PublicKey.from_jwk(signer.public_key().jwk()).verify(signature, b"data")


def test_private_keys_never_reach_the_logs(tmp_path):
    # A full run of key creation with DEBUG logging: no key bytes in the output.
    code = (
        "import django, os, logging; os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
        "django.setup(); logging.getLogger().setLevel(logging.DEBUG);"
        "from credentials.keys import LocalSigner; s = LocalSigner.generate('did:x#1');"
        "import base64; print('SEED', base64.b64encode(s.private_bytes()[-32:]).decode(),"
        " file=open(os.environ['SEED_FILE'], 'w')); logging.getLogger('x').info('%r', s)"
    )
    seed_file = tmp_path / "seed"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "SEED_FILE": str(seed_file)})
    seed = seed_file.read_text().split()[1]

    assert result.returncode == 0, result.stderr
    assert seed not in result.stdout + result.stderr
    assert "LocalSigner Ed25519 did:x#1" in result.stderr
