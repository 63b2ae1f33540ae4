"""Messages that arrived before their key: read before the domain sees them, waiting a bounded time for the key."""

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from nio import AsyncClient

from adapters.matrix.encrypted_events import decrypt
from adapters.matrix.event_mapping import to_room_event
from adapters.matrix.key_maintenance import KeyArrivals
from domain.model.messages import EncryptedMessage, RoomEvent, RoomRenamed, UnreadableMessage
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class DecryptingHandler:
    """Hands the domain readable messages only: an `EncryptedMessage` is decrypted, or, when its key has not come
    within `wait_s`, becomes an `UnreadableMessage` (the person is told once; a key that comes later still finds
    the message done in the inbox, so it is never answered twice).

    The wait runs in the room's own queue, so the room's later messages wait behind it: answers keep the order
    of the questions (SPEC §2.2). Keys normally come in the same sync as the message or the next one.
    """

    def __init__(
        self,
        client: AsyncClient,
        handle: Callable[[RoomEvent], Awaitable[None]],
        arrivals: KeyArrivals,
        uow: UnitOfWorkFactory,
        wait_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._handle = handle
        self._arrivals = arrivals
        self._uow = uow
        self._wait_s = wait_s
        self._clock = clock

    async def __call__(self, event: RoomEvent) -> None:
        if not isinstance(event, EncryptedMessage):
            await self._handle(event)
            return
        readable = await self._read(event)
        if readable is None:
            await self._mark_done(event)  # a notice, an edit of a notice: nothing the bot acts on
            return
        await self._handle(readable)

    async def _read(self, message: EncryptedMessage) -> RoomEvent | None:
        deadline = self._clock() + self._wait_s
        waited = False
        while True:
            decrypted = decrypt(self._client, message)
            if decrypted is not None:
                if waited:
                    log.info("late_key_arrived", extra={"room_id": message.room_id, "event_id": message.event_id})
                mapped = to_room_event(message.room_id, decrypted, self._client.user_id)
                if mapped is None or isinstance(mapped, RoomRenamed):
                    return None
                return dataclasses.replace(mapped, event_id=message.event_id, room_id=message.room_id)
            remaining = deadline - self._clock()
            if remaining <= 0:
                log.warning("room_key_missing", extra={"room_id": message.room_id, "event_id": message.event_id})
                return UnreadableMessage(
                    event_id=message.event_id,
                    room_id=message.room_id,
                    sender=message.sender,
                    timestamp_ms=message.timestamp_ms,
                )
            if not waited:
                log.info("waiting_for_room_key", extra={"room_id": message.room_id, "event_id": message.event_id})
                waited = True
            await self._arrivals.wait(remaining)

    async def _mark_done(self, message: EncryptedMessage) -> None:
        async with self._uow() as uow:
            await uow.inbox.mark_done(message.event_id)
            await uow.commit()
