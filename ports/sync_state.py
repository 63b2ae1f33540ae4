from typing import Protocol


class SyncState(Protocol):
    """The chat network's resume token, stored in the same transaction as the inbox rows."""

    async def get_token(self) -> str | None: ...

    async def set_token(self, token: str) -> None: ...
