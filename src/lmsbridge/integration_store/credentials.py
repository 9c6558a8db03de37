"""Remote credentials, encrypted at rest with a key from configuration (Fernet: AES-128-CBC with
an HMAC-SHA256 tag). On the embedded default a key is generated into a file only its owner reads."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from lmsbridge.config import Settings
from lmsbridge.errors import Intent

# One line an operator can paste; keep it in step with docs/deploy.md.
MAKE_KEY_COMMAND = (
    "export LMSBRIDGE_SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\""
)


class SecretKeyMissingError(RuntimeError):
    intent = Intent.CONFIGURATION  # a job that meets it fails at once: retrying opens nothing


def _fernet_key(material: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(material.encode())) == 32:
            return material.encode()
    except ValueError:
        pass
    # Any other string is stretched into a key, so a passphrase works too.
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())


def load_secret_key(settings: Settings, *, create: bool) -> bytes:
    if settings.secret_key:
        return _fernet_key(settings.secret_key)
    path = Path(settings.secret_key_file)
    if path.exists():
        return _fernet_key(path.read_text().strip())
    if not create or not settings.database_url.startswith("sqlite"):
        raise SecretKeyMissingError(
            "LMSBRIDGE_SECRET_KEY is not set and no key file exists at "
            f"{path}; set it (the same value in every process) to encrypt remote credentials. "
            f"Make one with: {MAKE_KEY_COMMAND}"
        )
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


class CredentialBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, credentials: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(credentials).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            value: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as error:
            raise SecretKeyMissingError(
                "cannot decrypt stored credentials: LMSBRIDGE_SECRET_KEY differs from the key "
                "they were encrypted with"
            ) from error
        return value
