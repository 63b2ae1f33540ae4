"""Catch-up: every owner message (text or file) in an active chat that has no answer yet, from the inbox
and from the timelines; with the reactions and edits still pending in the inbox."""

import logging

from ports.inbox import InboxItem
from ports.topology_reader import TopologyReader
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class FindUnanswered:
    """The timelines cover a lost database: a message with no reply relating to it is still owed an answer."""

    def __init__(self, uow: UnitOfWorkFactory, reader: TopologyReader) -> None:
        self._uow = uow
        self._reader = reader

    async def execute(self) -> list[InboxItem]:
        observed = await self._reader.observe()
        found = 0
        async with self._uow() as uow:
            for seen in observed.rooms:
                room = await uow.rooms.get(seen.room_id)
                if room is None or not room.is_active:
                    continue
                for message in seen.recent:
                    if message.sender == room.owner and message.event_id not in seen.answered:
                        found += int(await uow.inbox.record(message))
            await uow.commit()
        async with self._uow() as uow:
            pending = await uow.inbox.pending()
        log.info("catch_up_found", extra={"from_timelines": found, "pending": len(pending)})
        return pending
