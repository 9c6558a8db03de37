"""Identifiers: 24 characters of the base58 alphabet, random or derived from a stable key."""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 24


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 58)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def new_id() -> str:
    """A random id (about 140 bits of entropy)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def derived_id(*parts: str) -> str:
    """The same id for the same parts, e.g. (integration, model, remote id), after every re-sync."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return _encode(int.from_bytes(digest, "big"), ID_LENGTH)


def integration_id(tool: str) -> str:
    return f"{tool}:{new_id()}"


def is_id(value: str) -> bool:
    return len(value) == ID_LENGTH and all(c in ALPHABET for c in value)
