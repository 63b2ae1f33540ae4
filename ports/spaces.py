from typing import Protocol

from domain.model.ids import UserId
from domain.model.space import UserSpace


class SpaceRepository(Protocol):
    """Stores each person's Space record; changes are kept only when the unit of work commits."""

    async def get(self, owner: UserId) -> UserSpace | None: ...

    async def add(self, space: UserSpace) -> None: ...

    async def save(self, space: UserSpace) -> None: ...

    async def list(self) -> list[UserSpace]:
        """Every Space record, by owner."""
        ...
