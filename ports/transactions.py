from typing import Protocol


class TransactionLog(Protocol):
    """Homeserver transactions already taken in, stored with the inbox rows they brought: a replay is recognised."""

    async def is_known(self, txn_id: str) -> bool: ...

    async def record(self, txn_id: str) -> None:
        """Notes the transaction as taken in; the unit of work's commit makes it so."""
        ...
