from typing import Protocol

from domain.model.ids import UserId
from domain.model.snapshot import Snapshot


class SnapshotRepository(Protocol):
    """Snapshots by (owner, label); saving an existing label replaces it. Kept only on commit."""

    async def get(self, owner: UserId, label: str) -> Snapshot | None: ...

    async def save(self, snapshot: Snapshot) -> None: ...

    async def for_owner(self, owner: UserId) -> list[Snapshot]:
        """The owner's snapshots ordered by label."""
        ...
