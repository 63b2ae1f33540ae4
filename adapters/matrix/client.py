"""Builds the nio client with retry limits, so no request can retry forever."""

from nio import AsyncClient, AsyncClientConfig


def make_client(homeserver_url: str, user_id: str) -> AsyncClient:
    config = AsyncClientConfig(
        # nio retries 429s and timeouts forever by default; our own loops back off instead.
        max_limit_exceeded=5,
        max_timeouts=3,
        request_timeout=60,
        store_sync_tokens=False,
        encryption_enabled=False,
    )
    return AsyncClient(homeserver_url, user_id, config=config)
