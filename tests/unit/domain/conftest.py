"""Use cases wired to hand-written fakes of every port."""

from dataclasses import dataclass

import pytest

from domain.catalog import Catalog
from domain.model.ids import AgentId
from domain.services.accept_invitation import AcceptInvitation
from domain.services.access import AccessPolicy
from domain.services.answer_message import AnswerMessage
from domain.services.create_chat_room import CreateChatRoom
from domain.services.handle_message import HandleMessage
from domain.services.onboard_user import OnboardUser
from tests.unit.fakes.network import FakeChatTopology, FakeMessageSender, ScriptedPlatform
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory


@dataclass
class World:
    uow: FakeUnitOfWorkFactory
    topology: FakeChatTopology
    sender: FakeMessageSender
    platform: ScriptedPlatform
    onboard: OnboardUser
    accept: AcceptInvitation
    handle: HandleMessage


def build_world(locale: str = "en", platform: ScriptedPlatform | None = None) -> World:
    uow = FakeUnitOfWorkFactory()
    topology = FakeChatTopology()
    sender = FakeMessageSender()
    platform = platform or ScriptedPlatform()
    catalog = Catalog(locale)
    access = AccessPolicy(("@*:example.org",))
    create = CreateChatRoom(uow, topology, catalog)
    onboard = OnboardUser(uow, topology, sender, create, catalog, AgentId("echo"))
    answer = AnswerMessage(uow, platform, sender, catalog)
    return World(
        uow=uow,
        topology=topology,
        sender=sender,
        platform=platform,
        onboard=onboard,
        accept=AcceptInvitation(access, topology, onboard),
        handle=HandleMessage(uow, access, answer, sender, topology, catalog),
    )


@pytest.fixture
def world() -> World:
    return build_world()
