"""The chat rooms, each bound to one upstream conversation."""

from typing import Any, Final

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import ROOMS, RoomRow
from domain.model.context import ChatContext
from domain.model.ids import AgentId, PlatformChatId, RoomId, UserId
from domain.model.room import ChatRoom, RoomStatus
from ports.rooms import RoomRepository


class SqlAlchemyRoomRepository(RoomRepository):
    """`RoomRepository` over one `AsyncSession`; the unit of work commits, never this."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, room_id: RoomId) -> ChatRoom | None:
        row = (await self._session.execute(_GET, {"b_room_id": room_id})).first()
        return None if row is None else _to_domain(row)

    async def add(self, room: ChatRoom) -> None:
        # A plain INSERT, so a duplicate room id or platform_chat_id fails at flush/commit.
        self._session.add(_to_row(room))

    async def save(self, room: ChatRoom) -> None:
        await self._session.merge(_to_row(room))

    async def count_answer(self, room_id: RoomId) -> None:
        # Incremented in SQL: no read, no ORM merge, and two writers cannot lose a count.
        await self._session.execute(_COUNT_ANSWER, {"b_room_id": room_id})

    async def for_owner(self, owner: UserId) -> list[ChatRoom]:
        query = select(RoomRow).where(RoomRow.owner == owner).order_by(RoomRow.chat_number)
        return [_to_domain(row) for row in await self._session.scalars(query)]

    async def all(self) -> list[ChatRoom]:
        # Sorted here rather than in SQL: PostgreSQL compares text by the database's locale,
        # which need not be the code point order SQLite and the fake use.
        rooms = [_to_domain(row) for row in await self._session.scalars(select(RoomRow))]
        return sorted(rooms, key=lambda room: (room.owner, room.chat_number, room.room_id))


# Built once: run for every message (see tables.ROOMS).
_GET: Final = select(ROOMS).where(ROOMS.c.room_id == bindparam("b_room_id"))
_COUNT_ANSWER: Final = (
    update(ROOMS).where(ROOMS.c.room_id == bindparam("b_room_id")).values(message_count=ROOMS.c.message_count + 1)
)


def _to_row(room: ChatRoom) -> RoomRow:
    return RoomRow(
        room_id=room.room_id,
        owner=room.owner,
        space_id=room.space_id,
        chat_number=room.chat_number,
        name=room.name,
        agent_id=room.context.agent_id,
        platform_chat_id=room.context.platform_chat_id,
        status=room.status.value,
        message_count=room.message_count,
        archived_notice_sent=room.archived_notice_sent,
    )


def _to_domain(row: RoomRow | Row[Any]) -> ChatRoom:
    return ChatRoom(
        room_id=RoomId(row.room_id),
        owner=UserId(row.owner),
        space_id=RoomId(row.space_id),
        chat_number=row.chat_number,
        name=row.name,
        context=ChatContext(
            agent_id=AgentId(row.agent_id),
            platform_chat_id=PlatformChatId(row.platform_chat_id),
        ),
        status=RoomStatus(row.status),
        message_count=row.message_count,
        archived_notice_sent=row.archived_notice_sent,
    )
