"""Commands that change nothing: help."""

from domain.catalog import Catalog
from domain.services.chat_commands.base import CommandRequest


class ShowHelp:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        return self._catalog.text("help")
