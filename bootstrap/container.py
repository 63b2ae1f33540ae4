"""The composition root: one sub-container per adapter package, combined into the application."""

from dependency_injector import containers, providers

from adapters.matrix.client import make_client
from adapters.matrix.room_queues import KeyedWorkQueues
from adapters.matrix.sender import NioMessageSender
from adapters.matrix.sync_loop import MatrixSyncLoop
from adapters.matrix.topology import NioChatTopology
from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from adapters.platform.echo import EchoPlatformClient
from bootstrap.settings import Settings
from domain.catalog import Catalog
from domain.model.ids import AgentId
from domain.model.messages import IncomingText
from domain.services.accept_invitation import AcceptInvitation
from domain.services.access import AccessPolicy
from domain.services.answer_message import AnswerMessage
from domain.services.create_chat_room import CreateChatRoom
from domain.services.handle_message import HandleMessage
from domain.services.onboard_user import OnboardUser

DEFAULT_AGENT = AgentId("echo")


class PersistenceContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    engine = providers.Singleton(make_engine, url=config.database_url)
    session_factory = providers.Singleton(make_session_factory, engine)
    uow = providers.Singleton(SqlAlchemyUnitOfWorkFactory, session_factory)


class MatrixContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    client = providers.Singleton(make_client, config.homeserver_url, config.user_id)
    topology = providers.Singleton(NioChatTopology, client, config.server_name)
    sender = providers.Singleton(NioMessageSender, client)


class PlatformContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    client = providers.Singleton(EchoPlatformClient)


class ApplicationContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    persistence = providers.Container(PersistenceContainer, config=config)
    matrix = providers.Container(MatrixContainer, config=config)
    platform = providers.Container(PlatformContainer, config=config)

    catalog = providers.Singleton(Catalog, config.locale)
    access = providers.Singleton(AccessPolicy, config.allowed_patterns)
    uow = persistence.uow
    create_chat_room = providers.Singleton(CreateChatRoom, uow, matrix.topology, catalog)
    onboard_user = providers.Singleton(
        OnboardUser, uow, matrix.topology, matrix.sender, create_chat_room, catalog, DEFAULT_AGENT
    )
    accept_invitation = providers.Singleton(AcceptInvitation, access, matrix.topology, onboard_user)
    answer_message = providers.Singleton(AnswerMessage, uow, platform.client, matrix.sender, catalog)
    handle_message = providers.Singleton(
        HandleMessage, uow, access, answer_message, matrix.sender, matrix.topology, catalog
    )
    message_queues = providers.Singleton(KeyedWorkQueues[IncomingText], handle_message.provided.execute)
    sync_loop = providers.Singleton(
        MatrixSyncLoop, matrix.client, uow, message_queues, accept_invitation.provided.execute
    )


def build_container(settings: Settings) -> ApplicationContainer:
    container = ApplicationContainer()
    container.config.from_dict(
        {
            "homeserver_url": settings.homeserver_url,
            "user_id": settings.user_id,
            "server_name": settings.server_name,
            "database_url": settings.effective_database_url,
            "locale": settings.locale,
            "allowed_patterns": settings.allowed_patterns,
        }
    )
    return container
