"""Credentials encrypted at rest with Fernet; the key comes from settings or the data folder."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from logs import register_secret

KEY_FILE_NAME = "herald.key"


class CredentialError(Exception):
    """A stored credential cannot be decrypted with the configured key."""


class CredentialCipher:
    """Encrypts and decrypts account credentials; never logs or shows them.

    Every credential passes through here, so each plaintext is registered with the log redactor
    on its way: from then on no log line of this process can carry it."""

    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        register_secret(key if isinstance(key, str) else key.decode("ascii"))

    def encrypt(self, plaintext: str) -> str:
        """The ciphertext of `plaintext`, as URL-safe text."""
        register_secret(plaintext)
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of a stored credential; CredentialError if the key does not fit."""
        try:
            plaintext = self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise CredentialError(
                "a stored credential cannot be decrypted: "
                "ENCRYPTION_KEY differs from the one it was saved with"
            ) from None
        register_secret(plaintext)
        return plaintext

    def __repr__(self) -> str:
        return "CredentialCipher(<hidden>)"


def load_or_create_key(data_dir: Path) -> str:
    """The key kept in `data_dir`, generated once with owner-only permissions if missing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = Fernet.generate_key().decode("ascii")
    # Written aside, then linked into place: two processes starting at once agree on one key,
    # and neither can read a half-written file.
    temporary = data_dir / f".{KEY_FILE_NAME}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        temporary.unlink()
    return key
