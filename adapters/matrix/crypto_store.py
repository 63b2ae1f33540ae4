"""Where the bot's encryption keys live: one directory in the data dir, readable by the bot's user only."""

import os
import secrets
from pathlib import Path
from typing import Final

PICKLE_KEY_FILE: Final = "pickle.key"


class CryptoStoreDir:
    """`SURFACES_DATA_DIR/crypto`: nio's SQLite store per device (olm account, sessions, devices), the pickle
    key that encrypts it when none is configured, and the bot's cross-signing keys.

    Everything is created with mode 0600 inside a 0700 directory, so the keys are never readable by
    another user of the machine, not even for the moment between creating a file and restricting it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def prepare(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.chmod(0o700)

    def store_file(self, user_id: str, device_id: str) -> Path:
        """nio's SqliteStore file name for a device (its default `{user}_{device}.db`)."""
        return self.path / f"{user_id}_{device_id}.db"

    def has_store(self, user_id: str, device_id: str) -> bool:
        return self.store_file(user_id, device_id).is_file()

    def pickle_key(self, configured: str | None) -> str:
        """The configured key, or one generated once and kept here; never the library's default."""
        if configured:
            return configured
        path = self.path / PICKLE_KEY_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        self.prepare()
        key = secrets.token_urlsafe(32)
        write_private(path, key)
        return key

    def restrict(self) -> None:
        """Mode 0600 on every file here (nio's store and its SQLite journal files are created by peewee)."""
        for child in self.path.iterdir():
            if child.is_file():
                child.chmod(0o600)


def write_private(path: Path, text: str) -> None:
    """Writes `text` atomically to a file only the bot's user can read."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
