"""Routes a parsed command to its use case and turns user errors into one-line answers."""

import logging
from collections.abc import Mapping
from typing import Final

from domain.catalog import Catalog
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from domain.services.chat_commands.base import CommandError, CommandHandler, CommandRequest
from domain.services.command_parser import Command

log = logging.getLogger(__name__)

LOBBY_COMMANDS: Final = frozenset({"help", "new", "list"})
ARCHIVED_COMMANDS: Final = frozenset({"help", "restore", "list", "context"})


class RunCommand:
    """Every path ends in exactly one answer text; a CommandError changes nothing."""

    def __init__(self, handlers: Mapping[str, CommandHandler], catalog: Catalog) -> None:
        self._handlers = handlers
        self._catalog = catalog

    async def execute(self, message: IncomingText, room: ChatRoom | None, command: Command) -> str:
        handler = self._handlers.get(command.name)
        if handler is None:
            return self._catalog.text("unknown_command", command=f"!{command.name[:32]}")
        if room is None and command.name not in LOBBY_COMMANDS:
            return self._error(CommandError("not_in_lobby", command=command.name))
        try:
            return await handler.execute(CommandRequest(message=message, room=room, args=command.args))
        except CommandError as error:
            log.info("command_refused", extra={"room_id": message.room_id, "command": command.name, "why": error.key})
            return self._error(error)

    def _error(self, error: CommandError) -> str:
        values = {"command": "", **error.values}
        return self._catalog.text("command_error", error=self._catalog.text(error.key, **values))
