"""Gives a room still called "Chat N" a title after its first exchange."""

import logging

from domain.catalog import Catalog
from domain.model.room import ChatRoom
from ports.platform import PlatformClient, PlatformError
from ports.topology import ChatNetworkError, ChatTopology
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

TITLE_LIMIT = 40


def title_from(text: str, limit: int = TITLE_LIMIT) -> str:
    """The first non-empty line, trimmed at a word boundary to `limit` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = " ".join(line.split()).lstrip("#>*-` ").strip()
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(" ,.;:") + "…"


class TitleRoom:
    """Asks the agent for a title when it offers one, else uses the first line; never fails the answer."""

    def __init__(
        self, uow: UnitOfWorkFactory, topology: ChatTopology, platform: PlatformClient, catalog: Catalog
    ) -> None:
        self._uow = uow
        self._topology = topology
        self._platform = platform
        self._catalog = catalog

    def wants_title(self, room: ChatRoom) -> bool:
        return room.message_count == 0 and room.name == self._catalog.text("chat_name", number=room.chat_number)

    async def execute(self, room: ChatRoom, question: str, answer: str) -> None:
        try:
            title = await self._platform.suggest_title(room.context, question, answer) or title_from(question)
            if not title:
                return
            await self._topology.set_room_name(room.room_id, title)
        except (PlatformError, ChatNetworkError) as error:
            log.warning("title_failed", extra={"room_id": room.room_id, "error": str(error)})
            return
        async with self._uow() as uow:
            stored = await uow.rooms.get(room.room_id)
            if stored is not None:
                stored.name = title
                await uow.rooms.save(stored)
                await uow.commit()
