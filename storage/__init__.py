"""Storage: the models, the Store interface, and the one place that knows which database is used."""

from __future__ import annotations

from config import ConfigError, Settings
from storage.base import PostPage, Store
from storage.crypto import CredentialCipher, load_or_create_key


def build_store(settings: Settings) -> Store:
    """The Store named by `DATABASE_URL`, with its credential cipher; not yet opened."""
    if settings.is_sqlite:
        from storage.sqlite import SQLiteStore

        key = settings.encryption_key or load_or_create_key(settings.data_folder)
        return SQLiteStore(settings.sqlite_path, CredentialCipher(key))
    if not settings.encryption_key:
        raise ConfigError(
            "ENCRYPTION_KEY: required with MongoDB, so every process reads the same credentials; "
            "make one with python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
    from storage.mongo import MongoStore

    return MongoStore(settings.database_url, CredentialCipher(settings.encryption_key))


__all__ = ["PostPage", "Store", "build_store"]
