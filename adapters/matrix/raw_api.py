"""Client-server calls nio has no method for (cross-signing) or gets wrong for a bot (user-interactive auth)."""

import asyncio
import json
from typing import Any, Final

import aiohttp
from nio import AsyncClient

from ports.topology import ChatNetworkError

REQUEST_DEADLINE_S: Final = 60.0


class RawApiError(ChatNetworkError):
    def __init__(self, action: str, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.errcode = body.get("errcode")
        super().__init__(f"{action} failed: {status} {self.errcode or ''} {body.get('error', '')}".rstrip())


async def call(
    client: AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """One authenticated request with the client's token; the status and the JSON body (`{}` when not JSON)."""
    status, parsed = await call_json(client, method, path, body)
    return status, parsed if isinstance(parsed, dict) else {}


async def call_json(client: AsyncClient, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """`call` for the few endpoints whose answer is not an object (`/rooms/{id}/state` is an array)."""
    if client.client_session is None:  # nio opens it with the first request: login or whoami come first
        raise ChatNetworkError(f"{method} {path}: the client has not logged in yet")
    headers = {"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"}
    data = json.dumps(body) if body is not None else None
    try:
        async with asyncio.timeout(REQUEST_DEADLINE_S):
            response = await client.send(method, path, data, headers)
            try:
                parsed = await response.json(content_type=None)
            except ValueError:
                parsed = {}
            finally:
                response.release()
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise ChatNetworkError(f"{method} {path}: {error or type(error).__name__}") from error
    return response.status, parsed


async def call_ok(
    client: AsyncClient, action: str, method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    status, answer = await call(client, method, path, body)
    if status != 200:
        raise RawApiError(action, status, answer)
    return answer


async def call_with_password(
    client: AsyncClient, action: str, method: str, path: str, body: dict[str, Any], password: str | None
) -> dict[str, Any]:
    """A request behind user-interactive auth: tried bare first (the server may not ask), then with the password.

    Synapse lets the first upload of cross-signing keys through without auth (MSC3967); replacing them, or
    deleting a device, needs the account's password.
    """
    status, answer = await call(client, method, path, body)
    if status == 200:
        return answer
    if status != 401 or "session" not in answer:
        raise RawApiError(action, status, answer)
    if password is None:
        raise RawApiError(f"{action} (the homeserver asks for the password; SURFACES_PASSWORD is not set)", 401, answer)
    auth = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": client.user_id},
        "password": password,
        "session": answer["session"],
    }
    return await call_ok(client, action, method, path, {**body, "auth": auth})
