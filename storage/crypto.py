"""Credentials encrypted at rest with Fernet; the key comes from settings or the data folder."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from logs import register_secret

log = logging.getLogger(__name__)

KEY_FILE_NAME = "herald.key"
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
OTHERS = 0o077  # the permission bits of the file's group and of everyone else


def make_owner_only(paths: Iterable[Path]) -> list[Path]:
    """Those of `paths` that were open to others and are now owner-only.

    Only what exists and belongs to the user Herald runs as is changed (nobody else's file is
    Herald's to change); the owner's own bits stay as they were."""
    tightened: list[Path] = []
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            continue
        mode = stat.S_IMODE(status.st_mode)
        if status.st_uid == os.geteuid() and mode & OTHERS:
            path.chmod(mode & ~OTHERS)
            tightened.append(path)
    return tightened


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
                "a stored credential cannot be decrypted: ENCRYPTION_KEY differs from the one it was saved with"
            ) from None
        register_secret(plaintext)
        return plaintext

    def __repr__(self) -> str:
        return "CredentialCipher(<hidden>)"


def load_or_create_key(data_dir: Path) -> str:
    """The key kept in `data_dir`, generated once with owner-only permissions if missing.

    A new `data_dir` is made owner-only (0700); a key file found open to others is made
    owner-only, and the log says so."""
    return kept_in_data_dir(data_dir, KEY_FILE_NAME, lambda: Fernet.generate_key().decode("ascii"), "encryption key")


def kept_in_data_dir(data_dir: Path, file_name: str, make: Callable[[], str], what: str) -> str:
    """A secret kept in `data_dir/file_name`, made by `make` the first time and written owner-only
    (0600, in a 0700 folder); one found open to others is made owner-only and the log says so
    (naming `what`, never the secret)."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
    path = data_dir / file_name
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        pass
    else:
        if make_owner_only([path]):
            log.info("The %s %s was readable by others; it is now readable by its owner only", what, path)
        return secret
    secret = make()
    # Written aside, then linked into place: two processes starting at once agree on one secret,
    # and neither can read a half-written file.
    temporary = data_dir / f".{file_name}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        secret = path.read_text().strip()
    finally:
        temporary.unlink()
    return secret
