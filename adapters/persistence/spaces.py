"""The Space records, one per person."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import SpaceRow
from domain.model.ids import RoomId, UserId
from domain.model.space import UserSpace
from ports.spaces import SpaceRepository


class SqlAlchemySpaceRepository(SpaceRepository):
    """`SpaceRepository` over one `AsyncSession`; the unit of work commits, never this."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, owner: UserId) -> UserSpace | None:
        row = await self._session.get(SpaceRow, owner)
        return None if row is None else _to_domain(row)

    async def add(self, space: UserSpace) -> None:
        # A plain INSERT, so an owner that already exists fails at flush/commit.
        self._session.add(_to_row(space))

    async def save(self, space: UserSpace) -> None:
        await self._session.merge(_to_row(space))

    async def list(self) -> list[UserSpace]:
        rows = await self._session.scalars(select(SpaceRow).order_by(SpaceRow.owner))
        return [_to_domain(row) for row in rows]


def _to_row(space: UserSpace) -> SpaceRow:
    return SpaceRow(
        owner=space.owner,
        display_name=space.display_name,
        space_id=space.space_id,
        chats_created=space.chats_created,
    )


def _to_domain(row: SpaceRow) -> UserSpace:
    return UserSpace(
        owner=UserId(row.owner),
        display_name=row.display_name,
        space_id=None if row.space_id is None else RoomId(row.space_id),
        chats_created=row.chats_created,
    )
