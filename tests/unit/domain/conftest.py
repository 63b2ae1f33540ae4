"""Use cases wired to hand-written fakes of every port."""

from dataclasses import dataclass

import pytest

from domain.catalog import Catalog
from domain.model.agents import AgentDirectory, AgentSpec
from domain.model.ids import AgentId
from domain.services.accept_invitation import AcceptInvitation
from domain.services.access import AccessPolicy
from domain.services.answer_message import AnswerMessage
from domain.services.answers_in_flight import AnswersInFlight
from domain.services.chat_commands.registry import command_handlers
from domain.services.create_chat_room import CreateChatRoom
from domain.services.flood_guard import FloodGuard
from domain.services.handle_message import HandleMessage
from domain.services.handle_room_event import HandleRoomEvent
from domain.services.onboard_user import OnboardUser
from domain.services.post_agent_files import PostAgentFiles
from domain.services.receive_file import ReceiveFile
from domain.services.record_room_name import RecordRoomName
from domain.services.regenerate_answer import RegenerateAnswer
from domain.services.run_command import RunCommand
from domain.services.title_room import TitleRoom
from tests.unit.fakes.files import FakeMediaStore, FakeWorkspace
from tests.unit.fakes.network import FakeChatTopology, FakeMessageSender, ScriptedPlatform
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory

AGENTS = AgentDirectory(
    agents=(
        AgentSpec(agent_id=AgentId("echo"), adapter="echo", description="repeats"),
        AgentSpec(agent_id=AgentId("other"), adapter="echo", description="another"),
    ),
    default=AgentId("echo"),
)
# SURFACES_MAX_UPLOAD_MB for the use cases under test, small enough to exceed cheaply.
MAX_BYTES = 10_000


@dataclass
class World:
    uow: FakeUnitOfWorkFactory
    topology: FakeChatTopology
    sender: FakeMessageSender
    platform: ScriptedPlatform
    onboard: OnboardUser
    accept: AcceptInvitation
    handle: HandleMessage
    events: HandleRoomEvent
    workspace: FakeWorkspace
    media: FakeMediaStore
    in_flight: AnswersInFlight


def build_world(locale: str = "en", platform: ScriptedPlatform | None = None, flood: FloodGuard | None = None) -> World:
    uow = FakeUnitOfWorkFactory()
    topology = FakeChatTopology()
    sender = FakeMessageSender()
    platform = platform or ScriptedPlatform()
    workspace, media = FakeWorkspace(), FakeMediaStore()
    catalog = Catalog(locale)
    access = AccessPolicy(("@*:example.org",))
    create = CreateChatRoom(uow, topology, catalog)
    onboard = OnboardUser(uow, topology, sender, create, catalog, AGENTS.default)
    title = TitleRoom(uow, topology, platform, catalog)
    posts = PostAgentFiles(workspace, media, sender, catalog, MAX_BYTES)
    in_flight = AnswersInFlight()
    answer = AnswerMessage(uow, platform, sender, catalog, title, posts, in_flight=in_flight)
    regenerate = RegenerateAnswer(uow, answer, sender, catalog)
    handlers = command_handlers(uow, topology, platform, create, AGENTS, catalog, in_flight, regenerate)
    commands = RunCommand(handlers, catalog)
    files = ReceiveFile(uow, media, workspace, sender, answer, catalog, MAX_BYTES)
    handle = HandleMessage(uow, access, answer, commands, sender, topology, catalog, files, flood)
    return World(
        uow=uow,
        topology=topology,
        sender=sender,
        platform=platform,
        onboard=onboard,
        accept=AcceptInvitation(access, topology, onboard),
        handle=handle,
        events=HandleRoomEvent(handle, RecordRoomName(uow), regenerate=regenerate),
        workspace=workspace,
        media=media,
        in_flight=in_flight,
    )


@pytest.fixture
def world() -> World:
    return build_world()
