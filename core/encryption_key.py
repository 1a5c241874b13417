"""The text form of KEY_ENCRYPTION_KEY (32 random bytes, base64url): made, read and checked in
one place, so the settings refuse at start exactly what the key store would refuse later."""

import base64
import binascii
import os

KEY_BYTES = 32
# Fewer distinct bytes than this in 32 random ones has a chance below 1e-12: a hand-made key.
_MIN_DISTINCT_BYTES = 16


def new_encryption_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).rstrip(b"=").decode()


def encryption_key_from_text(text: str) -> bytes:
    """The 32 key bytes; ValueError (its message names what is wrong, never the value) for
    anything else."""
    try:
        key = base64.b64decode(text.translate(str.maketrans("-_", "+/")) + "=" * (-len(text) % 4),
                               validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("KEY_ENCRYPTION_KEY must be base64url") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"KEY_ENCRYPTION_KEY must decode to exactly {KEY_BYTES} bytes, "
                         f"not {len(key)}")
    return key


def check_new_encryption_key_text(text: str) -> None:
    """What the settings ask of the key at start: well formed, and drawn at random (a key typed
    by hand, such as 43 times "A", is refused)."""
    if len(set(encryption_key_from_text(text))) < _MIN_DISTINCT_BYTES:
        raise ValueError("KEY_ENCRYPTION_KEY is not random (too few distinct bytes)")
