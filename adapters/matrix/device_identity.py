"""One device per bot account, and never a device whose keys are gone: what the homeserver knows of our devices."""

import logging

from nio import AsyncClient

from adapters.matrix.crypto_store import CryptoStoreDir
from adapters.matrix.raw_api import call_ok, call_with_password
from ports.topology import ChatNetworkError

log = logging.getLogger(__name__)


class DeviceKeysLost(ChatNetworkError):
    """The device's encryption keys are gone and no password is configured to start as a new device."""


async def keys_lost(client: AsyncClient, store: CryptoStoreDir) -> bool:
    """True when the homeserver holds identity keys for the logged-in device but no local store has them.

    Such a device can never decrypt again what people send it, and reusing its id with new keys would make
    their clients warn about a changed key: the bot must become a new device instead. A device with no
    keys on the server (a bot from before encryption, or one that never finished its first start) is
    simply given a store.
    """
    if store.has_store(client.user_id, client.device_id):
        return False
    return await device_has_keys(client, client.device_id)


async def device_has_keys(client: AsyncClient, device_id: str) -> bool:
    answer = await call_ok(
        client,
        "query own device keys",
        "POST",
        "/_matrix/client/v3/keys/query",
        {"device_keys": {client.user_id: [device_id]}},
    )
    return device_id in answer.get("device_keys", {}).get(client.user_id, {})


async def bot_devices(client: AsyncClient, display_name: str) -> list[str]:
    """The account's devices that the bot made (by their display name), other than the current one."""
    answer = await call_ok(client, "list devices", "GET", "/_matrix/client/v3/devices")
    devices = answer.get("devices", [])
    return sorted(
        device["device_id"]
        for device in devices
        if isinstance(device, dict)
        and device.get("display_name") == display_name
        and device.get("device_id") != client.device_id
    )


async def delete_devices(client: AsyncClient, device_ids: list[str], password: str | None) -> None:
    """Deletes the devices (their keys and tokens with them); the homeserver asks for the password."""
    if not device_ids:
        return
    await call_with_password(
        client, "delete old devices", "POST", "/_matrix/client/v3/delete_devices", {"devices": device_ids}, password
    )
