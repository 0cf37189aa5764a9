"""Keyed hashes that let a person find their own anonymous rows without storing who they are.

The key (SYMMETRY_SECRET_KEY) never enters the database, so the hashes cannot be recomputed
from it; a per-row nonce makes two anonymous rows of one person unlinkable to each other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def keyed_hash(key: str, *parts: str) -> str:
    """HMAC-SHA256 of the parts, hex-encoded. An empty key is refused: a hash anyone could
    recompute would tie an anonymous row to a person."""
    if not key:
        raise ValueError("keyed_hash needs the secret key (SYMMETRY_SECRET_KEY)")
    message = "\x1f".join(parts).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def nonce() -> str:
    """A fresh random nonce for one anonymous row."""
    return secrets.token_hex(16)


def matches(key: str, expected: str, *parts: str) -> bool:
    """True when the keyed hash of `parts` is `expected` (compared in constant time)."""
    return hmac.compare_digest(keyed_hash(key, *parts), expected)
