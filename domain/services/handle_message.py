"""Routes one incoming message: a command, a text or file for the agent, a lobby message, or nothing."""

import dataclasses
import logging

from domain.catalog import Catalog
from domain.model.links import matrix_to
from domain.model.messages import EncryptedMessage, IncomingFile, IncomingText, UnreadableMessage, UserMessage
from domain.model.room import ChatRoom
from domain.services.access import AccessPolicy
from domain.services.answer_message import AnswerMessage, reply_txn_id, thread_of
from domain.services.command_parser import Command, parse_command
from domain.services.flood_guard import Admission, FloodGuard
from domain.services.receive_file import ReceiveFile
from domain.services.run_command import ARCHIVED_COMMANDS, RunCommand
from domain.services.transcribe_voice import TranscribeVoice
from ports.messenger import MessageSender
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class HandleMessage:
    """Entry point for every recorded message; marks it done unless the agent or file path does."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        access: AccessPolicy,
        answer: AnswerMessage,
        commands: RunCommand,
        sender: MessageSender,
        topology: ChatTopology,
        catalog: Catalog,
        files: ReceiveFile | TranscribeVoice,
        flood: FloodGuard | None = None,
    ) -> None:
        self._uow = uow
        self._access = access
        self._answer = answer
        self._commands = commands
        self._sender = sender
        self._topology = topology
        self._catalog = catalog
        self._files = files
        self._flood = flood

    async def execute(self, message: UserMessage) -> None:
        command = parse_command(message.body) if isinstance(message, IncomingText) else None
        # Everything this message needs from the database, in one transaction: it runs for every message.
        async with self._uow() as uow:
            if await uow.inbox.is_done(message.event_id):
                return
            room = await uow.rooms.get(message.room_id)
            # Read with the room even when this message will not go to the agent: one more indexed
            # lookup is cheaper than a second transaction, and keeps the routing below in one place.
            staged = await uow.staged_files.for_room(message.room_id) if room is not None else []
        if room is None:
            await self._lobby(message, command)
        elif message.sender != room.owner:
            log.info("message_ignored", extra={"room_id": message.room_id, "reason": "not_owner"})
        elif not room.is_active and (command is None or command.name not in ARCHIVED_COMMANDS):
            await self._archived(message, room)
        elif isinstance(message, EncryptedMessage | UnreadableMessage):
            await self._unreadable(message)
        elif command is None and not await self._admitted(message):
            pass  # refused by the flood guard: marked done below, the agent is spared
        elif isinstance(message, IncomingFile):
            await self._files.execute(message, room)
            return
        elif command is not None:
            # An empty answer is a command that needs none (a `!stop` that stopped an answer marked in place).
            if answer := await self._commands.execute(message, room, command):
                await self._reply(message, answer)
        else:
            await self._answer.execute(message, room, staged=staged)
            return
        await self._mark_done(message)

    async def _admitted(self, message: UserMessage) -> bool:
        """Texts and files bound for the agent pass the per-person rate limit; a flood gets one notice."""
        if self._flood is None:
            return True
        admission = self._flood.admit(message.sender)
        if admission is Admission.ALLOW:
            return True
        log.warning("message_refused", extra={"room_id": message.room_id, "reason": "rate_limited"})
        if admission is Admission.REFUSE_WITH_NOTICE:
            await self._reply(message, self._catalog.text("slow_down"))
        return False

    async def _lobby(self, message: UserMessage, command: Command | None) -> None:
        if not self._access.allows(message.sender):
            log.info("message_ignored", extra={"room_id": message.room_id, "reason": "not_allowed"})
            return
        if command is not None and isinstance(message, IncomingText):
            await self._reply(message, await self._commands.execute(message, None, command))
            return
        if isinstance(message, EncryptedMessage | UnreadableMessage):
            await self._unreadable(message)
            return
        async with self._uow() as uow:
            space = await uow.spaces.get(message.sender)
        if space is None or space.space_id is None:
            await self._reply(message, self._catalog.text("lobby_no_space"))
            return
        link = matrix_to(space.space_id, self._topology.server_name)
        await self._reply(message, self._catalog.text("lobby_pointer", space_link=link))

    async def _unreadable(self, message: EncryptedMessage | UnreadableMessage) -> None:
        """Never silence: a message whose key did not come gets one notice asking to send it again."""
        log.warning("message_unreadable", extra={"room_id": message.room_id, "event_id": message.event_id})
        text = self._catalog.text("message_unreadable")
        await self._sender.send_reply(message.room_id, message.event_id, text, reply_txn_id(message), notice=True)

    async def _archived(self, message: UserMessage, room: ChatRoom) -> None:
        """One notice after archiving; later messages are only logged."""
        if room.archived_notice_sent:
            log.info("message_ignored", extra={"room_id": message.room_id, "reason": "archived"})
            return
        await self._reply(message, self._catalog.text("archived_notice"))
        async with self._uow() as uow:
            await uow.rooms.save(dataclasses.replace(room, archived_notice_sent=True))
            await uow.commit()

    async def _reply(self, message: UserMessage, text: str) -> None:
        await self._sender.send_reply(
            message.room_id, message.event_id, text, reply_txn_id(message), thread=thread_of(message)
        )

    async def _mark_done(self, message: UserMessage) -> None:
        async with self._uow() as uow:
            await uow.inbox.mark_done(message.event_id)
            await uow.commit()
