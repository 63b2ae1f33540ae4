"""Logs in once and keeps the access token and device id, so transaction ids stay deduplicated across restarts."""

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from nio import AsyncClient, LoginResponse, WhoamiError, WhoamiResponse

from adapters.matrix.crypto_store import CryptoStoreDir
from adapters.matrix.device_identity import DeviceKeysLost, bot_devices, delete_devices, keys_lost
from adapters.matrix.errors import checked
from ports.topology import ChatNetworkError

log = logging.getLogger(__name__)

DEVICE_NAME = "surfaces"


@dataclass(frozen=True)
class StoredSession:
    user_id: str
    device_id: str
    access_token: str


class SessionFile:
    """The session in a file only the bot's user can read."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> StoredSession | None:
        try:
            return StoredSession(**json.loads(self._path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as error:
            raise ChatNetworkError(f"{self._path} is not a valid session file: {error}") from error

    def save(self, session: StoredSession) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(session), handle)
        temporary.replace(self._path)


async def log_in(
    client: AsyncClient,
    access_token: str | None,
    password: str | None,
    sessions: SessionFile,
    crypto: CryptoStoreDir | None = None,
) -> None:
    """An explicit token wins; else a kept session; else a password login whose session is kept.

    With encryption (`crypto`), the device logged in must have its keys in the local store, or none on the
    server yet. A device whose keys are gone is replaced: with a password, by a new device (the old one is
    deleted, one `device_replaced` line says which); without one, start-up stops with DeviceKeysLost.
    """
    if access_token:
        await _use_token(client, access_token)
        if crypto is not None and await keys_lost(client, crypto):
            raise DeviceKeysLost(_lost_message(client, crypto, "SURFACES_ACCESS_TOKEN"))
        _load_store(client, crypto)
        return
    stored = sessions.load()
    lost: list[str] = []
    # nio keeps the configured id in `client.user`; `client.user_id` is only set by a login.
    if stored is not None and stored.user_id == client.user:
        if await _use_token(client, stored.access_token, required=False):
            if crypto is None or not await keys_lost(client, crypto):
                _load_store(client, crypto)
                log.info("session_restored", extra={"device_id": stored.device_id})
                return
            if not password:
                raise DeviceKeysLost(_lost_message(client, crypto, "the kept session"))
            lost = [stored.device_id]
        else:
            log.warning("stored_session_rejected")
    if not password:
        raise ChatNetworkError("no usable access token and no password to log in with")
    response = checked("login", await client.login(password=password, device_name=DEVICE_NAME), LoginResponse)
    sessions.save(StoredSession(response.user_id, response.device_id, response.access_token))
    log.info("logged_in", extra={"device_id": response.device_id})
    if crypto is not None:
        await _retire_old_devices(client, password, lost if stored is not None else None)
    _load_store(client, crypto)


async def _retire_old_devices(client: AsyncClient, password: str, lost: list[str] | None) -> None:
    """Deletes the devices this login replaces: the one whose keys are gone, or, when the whole data directory
    was lost (`lost` None), every earlier device the bot made: nothing here can use their keys any more."""
    old = lost if lost is not None else await bot_devices(client, DEVICE_NAME)
    if not old:
        return
    await delete_devices(client, old, password)
    log.warning(
        "device_replaced",
        extra={
            "old_device_id": ",".join(old),
            "new_device_id": client.device_id,
            "reason": "the encryption keys of the old device are not in the data directory",
        },
    )


def _load_store(client: AsyncClient, crypto: CryptoStoreDir | None) -> None:
    if crypto is None:
        return
    client.load_store()
    crypto.restrict()
    log.info("crypto_store_loaded", extra={"device_id": client.device_id})


def _lost_message(client: AsyncClient, crypto: CryptoStoreDir, source: str) -> str:
    return (
        f"the encryption keys of device {client.device_id} (from {source}) are gone: "
        f"{crypto.store_file(client.user_id, client.device_id)} is missing, and the homeserver still has that "
        "device's keys, so it cannot be reused. Restore SURFACES_DATA_DIR from a backup, or set SURFACES_PASSWORD "
        "(and unset SURFACES_ACCESS_TOKEN) so the bot logs in as a new device and deletes the old one"
    )


async def _use_token(client: AsyncClient, token: str, required: bool = True) -> bool:
    client.access_token = token
    response = await client.whoami()
    if isinstance(response, WhoamiResponse) and response.user_id == client.user:
        # Not restore_login: that would load the crypto store before we know the device's keys are there.
        client.user_id = response.user_id
        client.device_id = response.device_id
        return True
    if not required:
        client.access_token = ""
        return False
    detail = response.message if isinstance(response, WhoamiError) else f"token belongs to {response.user_id}"
    raise ChatNetworkError(f"the access token was not accepted: {detail}")
