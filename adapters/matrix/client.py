"""Builds the nio client with retry limits, so no request can retry forever."""

import json
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from nio import AsyncClient, AsyncClientConfig
from nio.store import SqliteStore

from adapters.matrix import compiled_schemas
from adapters.matrix.crypto_store import CryptoStoreDir


class LeanAsyncClient(AsyncClient):  # type: ignore[misc]  # nio is untyped
    """nio's client, parsing response bodies in less memory (docs/decisions.md).

    The largest body the bot ever reads is its full-state sync at start-up: 7 MB of JSON for 1,000 rooms,
    a 25 MB dict, and the bot's memory peak. nio parses it with `ClientResponse.json()`, which keeps the
    raw bytes on the response while the text and then the dict are built.
    """

    async def parse_body(self, transport_response: ClientResponse) -> dict[Any, Any]:
        """As nio's: the body as JSON, or `{}` when it is not JSON; the bytes are freed once decoded."""
        text = (await transport_response.content.read()).decode(transport_response.get_encoding())
        try:
            parsed: dict[Any, Any] = loads_sharing_strings(text)
        except json.JSONDecodeError:
            return {}
        return parsed


class LeanSqliteStore(SqliteStore):  # type: ignore[misc]  # nio is untyped
    """nio's olm store, without a write after every sync: nio saves the rooms a sync found newly encrypted even
    when there are none, an SQLite transaction each time (3 % of the bot's CPU in a plaintext burst, py-spy)."""

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)


# Below this, a body is parsed by plain `json.loads`: sharing strings saves memory only in the large start-up
# sync, and its per-object hook costs CPU in every small sync of a busy bot.
SHARING_FROM_CHARS = 256 * 1024


def loads_sharing_strings(text: str) -> Any:
    """`json.loads`, with equal string values in objects kept once.

    A full-state sync repeats the same values thousands of times (event types, senders, membership,
    room ids as state keys): sharing them makes the 1,000-room dict 6 MB smaller, for about 4 ms per MB
    of JSON. `json` already shares the keys.
    """
    if len(text) < SHARING_FROM_CHARS:
        return json.loads(text)
    shared: dict[str, str] = {}

    def share(obj: dict[str, Any]) -> dict[str, Any]:
        for key, value in obj.items():
            if type(value) is str:
                obj[key] = shared.setdefault(value, value)
        return obj

    return json.loads(text, object_hook=share)


def make_client(
    homeserver_url: str,
    user_id: str,
    crypto_dir: Path | None = None,
    pickle_key: str | None = None,
    client_class: type[AsyncClient] = LeanAsyncClient,
) -> AsyncClient:
    """The bot's client; with `crypto_dir` it can encrypt and decrypt (its olm store is loaded at login)."""
    compiled_schemas.install()
    store = CryptoStoreDir(crypto_dir) if crypto_dir is not None else None
    config = AsyncClientConfig(
        # nio retries 429s and timeouts forever by default; our own loops back off instead.
        max_limit_exceeded=5,
        max_timeouts=3,
        request_timeout=60,
        store_sync_tokens=False,
        encryption_enabled=store is not None,
        store=LeanSqliteStore,
        pickle_key=store.pickle_key(pickle_key) if store is not None else "",
    )
    if store is not None:
        store.prepare()
    return client_class(homeserver_url, user_id, store_path=str(store.path) if store else "", config=config)
