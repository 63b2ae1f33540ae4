"""The command table: which use case answers which `!name`."""

from domain.catalog import Catalog
from domain.model.agents import AgentDirectory
from domain.services.answers_in_flight import AnswersInFlight
from domain.services.chat_commands.archive_chat import ArchiveChat, RestoreChat
from domain.services.chat_commands.base import CommandHandler
from domain.services.chat_commands.clear_context import ClearContext
from domain.services.chat_commands.list_chats import ListChats
from domain.services.chat_commands.new_chat import NewChat
from domain.services.chat_commands.rebind_room import RebindRoom
from domain.services.chat_commands.rename_chat import RenameChat
from domain.services.chat_commands.retry_answer import RetryAnswer
from domain.services.chat_commands.show_context import ShowContext
from domain.services.chat_commands.simple import ShowHelp
from domain.services.chat_commands.snapshots import LoadSnapshot, SaveSnapshot
from domain.services.chat_commands.switch_agent import SwitchAgent
from domain.services.create_chat_room import CreateChatRoom
from domain.services.regenerate_answer import RegenerateAnswer
from domain.services.stop_answer import StopAnswer
from ports.platform import PlatformClient
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory


def command_handlers(
    uow: UnitOfWorkFactory,
    topology: ChatTopology,
    platform: PlatformClient,
    create_chat_room: CreateChatRoom,
    agents: AgentDirectory,
    catalog: Catalog,
    in_flight: AnswersInFlight,
    regenerate: RegenerateAnswer,
) -> dict[str, CommandHandler]:
    rebind = RebindRoom(uow, topology, platform)
    return {
        "help": ShowHelp(catalog),
        "new": NewChat(uow, create_chat_room, topology, agents, catalog),
        "list": ListChats(uow, topology, catalog),
        "rename": RenameChat(uow, topology, catalog),
        "archive": ArchiveChat(uow, topology, platform, rebind, catalog),
        "restore": RestoreChat(uow, topology, platform, rebind, catalog),
        "clear": ClearContext(rebind, catalog),
        "save": SaveSnapshot(uow, platform, catalog),
        "load": LoadSnapshot(uow, platform, rebind, agents, catalog),
        "context": ShowContext(uow, catalog),
        "agent": SwitchAgent(agents, rebind, catalog),
        "stop": StopAnswer(in_flight, catalog),
        "retry": RetryAnswer(uow, regenerate),
    }
