"""The bot's client in appservice mode: the as token, and the bot's user id and one fixed device on every request."""

import logging
from typing import Any
from urllib.parse import quote

from nio import AsyncClient, WhoamiResponse

from adapters.matrix.client import LeanAsyncClient, make_client
from adapters.matrix.raw_api import RawApiError, call, call_ok
from ports.topology import ChatNetworkError

log = logging.getLogger(__name__)


def with_identity(path: str, user_id: str, device_id: str | None) -> str:
    """`path` with `user_id` (and `device_id`) added to its query (appservice identity assertion).

    `user_id` always comes with `device_id`: Synapse 1.163 answers 500 to a `device_id` alone
    (/work/shared/notes/synapse-appservice-facts.md).
    """
    params = f"user_id={quote(user_id, safe='')}"
    if device_id is not None:
        params += f"&device_id={quote(device_id, safe='')}"
    return f"{path}{'&' if '?' in path else '?'}{params}"


class AppserviceClient(LeanAsyncClient):
    """Every request nio (or raw_api) makes goes out as the bot, from its device, with the as token.

    nio builds each path itself, then hands it to `send`: the identity is added there, once, for all of them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # None until `ensure_device` has made sure the device exists: naming a missing one is refused (400).
        self.appservice_device_id: str | None = None

    async def send(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        return await super().send(method, with_identity(path, self.user_id, self.appservice_device_id), *args, **kwargs)


def make_appservice_client(homeserver_url: str, user_id: str, as_token: str) -> AsyncClient:
    """The client, authenticated with the as token; it has no crypto store (no encryption in this mode)."""
    client = make_client(homeserver_url, user_id, client_class=AppserviceClient)
    client.access_token = as_token
    client.user_id = user_id  # nio sets it only on a login, which this mode never does
    return client


async def check_as_token(client: AsyncClient) -> None:
    """The homeserver takes the as token for the bot (`whoami`); the client's session is open afterwards."""
    whoami = await client.whoami()
    if not isinstance(whoami, WhoamiResponse):
        raise ChatNetworkError(f"the homeserver refused the as token: {whoami}")
    if whoami.user_id != client.user_id:
        raise ChatNetworkError(f"the as token belongs to {whoami.user_id}, not {client.user_id}")


async def ensure_device(client: AppserviceClient, device_id: str) -> None:
    """Checks the as token, then creates the bot's device once (`m.login.application_service`, MSC2778)."""
    await check_as_token(client)
    status, _ = await call(client, "GET", f"/_matrix/client/v3/devices/{quote(device_id, safe='')}")
    if status == 404:
        localpart = client.user_id.split(":", 1)[0].lstrip("@")
        body = {
            "type": "m.login.application_service",
            "identifier": {"type": "m.id.user", "user": localpart},
            "device_id": device_id,
            "initial_device_display_name": "surfaces (appservice)",
        }
        await call_ok(client, "appservice login", "POST", "/_matrix/client/v3/login", body)
        log.info("appservice_device_created", extra={"device_id": device_id})
    elif status != 200:
        raise RawApiError("read the appservice device", status, {})
    client.appservice_device_id = device_id
    client.device_id = device_id
