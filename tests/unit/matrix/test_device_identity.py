"""Store loss: one device per bot account, never a device whose keys are gone. Against a loopback server that
speaks the few client-server endpoints involved (whoami, login, keys/query, devices, delete_devices with UIA)."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.matrix.client import make_client
from adapters.matrix.crypto_store import CryptoStoreDir
from adapters.matrix.device_identity import DeviceKeysLost
from adapters.matrix.session import DEVICE_NAME, SessionFile, StoredSession, log_in

BOT = "@bot:example.org"
PASSWORD = "bot-password"


@dataclass
class AccountServer:
    """Devices by id (name, and whether the server holds identity keys for it); tokens map to devices."""

    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    logins: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/_matrix/client/v3/account/whoami", self.whoami)
        app.router.add_post("/_matrix/client/v3/login", self.login)
        app.router.add_post("/_matrix/client/v3/keys/query", self.keys_query)
        app.router.add_get("/_matrix/client/v3/devices", self.list_devices)
        app.router.add_post("/_matrix/client/v3/delete_devices", self.delete_devices)
        return app

    def _device(self, request: web.Request) -> str | None:
        return self.tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))

    async def whoami(self, request: web.Request) -> web.Response:
        device = self._device(request)
        if device is None:
            return web.json_response({"errcode": "M_UNKNOWN_TOKEN", "error": "no"}, status=401)
        return web.json_response({"user_id": BOT, "device_id": device})

    async def login(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert body["password"] == PASSWORD
        self.logins += 1
        device = f"NEW{self.logins}"
        self.devices[device] = {"name": body.get("initial_device_display_name"), "keys": False}
        self.tokens[f"token-{device}"] = device
        return web.json_response({"user_id": BOT, "device_id": device, "access_token": f"token-{device}"})

    async def keys_query(self, request: web.Request) -> web.Response:
        wanted = (await request.json())["device_keys"][BOT]
        keys = {d: {"device_id": d} for d in wanted if self.devices.get(d, {}).get("keys")}
        return web.json_response({"device_keys": {BOT: keys}})

    async def list_devices(self, _: web.Request) -> web.Response:
        listed = [{"device_id": d, "display_name": info["name"]} for d, info in self.devices.items()]
        return web.json_response({"devices": listed})

    async def delete_devices(self, request: web.Request) -> web.Response:
        body = await request.json()
        auth = body.get("auth")
        if auth is None:
            return web.json_response({"session": "uia", "flows": [{"stages": ["m.login.password"]}]}, status=401)
        assert auth["password"] == PASSWORD and auth["session"] == "uia"
        for device in body["devices"]:
            self.devices.pop(device, None)
            self.deleted.append(device)
        return web.json_response({})


@pytest.fixture
async def server() -> AsyncIterator[tuple[AccountServer, str]]:
    account = AccountServer()
    runner = web.AppRunner(account.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield account, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def old_device(account: AccountServer, keys_on_server: bool) -> None:
    account.devices["OLD"] = {"name": DEVICE_NAME, "keys": keys_on_server}
    account.tokens["token-OLD"] = "OLD"


async def start(url: str, data: Path, token: str | None = None, password: str | None = PASSWORD) -> Any:
    crypto = CryptoStoreDir(data / "crypto")
    client = make_client(url, BOT, crypto.path)
    try:
        await log_in(client, token, password, SessionFile(data / "session.json"), crypto)
    finally:
        await client.close()
    return client


async def test_a_token_whose_device_lost_its_keys_stops_the_start_naming_what_is_missing(
    server: tuple[AccountServer, str], tmp_path: Path
) -> None:
    account, url = server
    old_device(account, keys_on_server=True)

    with pytest.raises(DeviceKeysLost) as refused:
        await start(url, tmp_path, token="token-OLD", password=None)

    assert "OLD" in str(refused.value) and "SURFACES_PASSWORD" in str(refused.value)
    assert "crypto" in str(refused.value)
    assert account.deleted == [] and account.logins == 0


async def test_a_token_whose_device_never_had_keys_gets_a_store(
    server: tuple[AccountServer, str], tmp_path: Path
) -> None:
    account, url = server
    old_device(account, keys_on_server=False)

    client = await start(url, tmp_path, token="token-OLD", password=None)

    assert client.device_id == "OLD" and client.olm is not None
    assert CryptoStoreDir(tmp_path / "crypto").has_store(BOT, "OLD")


async def test_a_kept_session_whose_keys_are_gone_becomes_a_new_device_and_the_old_one_is_deleted(
    server: tuple[AccountServer, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    account, url = server
    old_device(account, keys_on_server=True)
    SessionFile(tmp_path / "session.json").save(StoredSession(BOT, "OLD", "token-OLD"))

    with caplog.at_level(logging.WARNING):
        client = await start(url, tmp_path)

    assert client.device_id == "NEW1" and account.deleted == ["OLD"]
    assert SessionFile(tmp_path / "session.json").load() == StoredSession(BOT, "NEW1", "token-NEW1")
    replaced = [r for r in caplog.records if r.getMessage() == "device_replaced"]
    assert len(replaced) == 1
    assert (replaced[0].old_device_id, replaced[0].new_device_id) == ("OLD", "NEW1")  # type: ignore[attr-defined]


async def test_a_lost_data_directory_replaces_the_bots_earlier_devices_and_spares_others(
    server: tuple[AccountServer, str], tmp_path: Path
) -> None:
    account, url = server
    old_device(account, keys_on_server=True)
    account.devices["PHONE"] = {"name": "Element on a phone", "keys": True}

    client = await start(url, tmp_path)

    assert client.device_id == "NEW1"
    assert account.deleted == ["OLD"] and "PHONE" in account.devices


async def test_a_kept_session_with_its_store_is_reused_without_a_login(
    server: tuple[AccountServer, str], tmp_path: Path
) -> None:
    account, url = server
    first = await start(url, tmp_path)
    account.devices[first.device_id]["keys"] = True  # the first start uploaded them

    again = await start(url, tmp_path)

    assert again.device_id == first.device_id and account.logins == 1 and account.deleted == []
    store_file = CryptoStoreDir(tmp_path / "crypto").store_file(BOT, first.device_id)
    assert store_file.stat().st_mode & 0o077 == 0
