"""The composition root: one sub-container per adapter package, combined into the application."""

import time

from dependency_injector import containers, providers

from adapters.matrix.appservice.client import make_appservice_client
from adapters.matrix.appservice.intake import TransactionIntake
from adapters.matrix.appservice.lease_dispatch import LeasedDispatch
from adapters.matrix.appservice.room_state_reader import AppserviceRoomStateReader
from adapters.matrix.appservice.server import AppserviceServer
from adapters.matrix.client import make_client
from adapters.matrix.decryption import DecryptingHandler
from adapters.matrix.key_maintenance import KeyArrivals, KeyMaintenance
from adapters.matrix.media import NioMediaStore
from adapters.matrix.receipts import LookAheadReceipts, NioReadReceipts
from adapters.matrix.room_encryption import RoomEncryption
from adapters.matrix.room_queues import EachOf, KeyedWorkQueues
from adapters.matrix.sender import NioMessageSender
from adapters.matrix.state_view import NioTopologyView
from adapters.matrix.sync_loop import MatrixSyncLoop
from adapters.matrix.topology import NioChatTopology
from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.fenced_inbox import FencedInboxFactory, WorkTickets
from adapters.persistence.lease_notifications import PostgresInboxNotifications
from adapters.persistence.leases import PostgresPersonLeases
from adapters.persistence.transaction_pruning import TransactionPruning
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from adapters.platform.metered import MeteredPlatformClient
from adapters.platform.retry_runner import TenacityRetryRunner
from adapters.workspace.local import LocalWorkspace
from bootstrap.agents_config import AgentRegistry, build_platform
from bootstrap.metrics import BotMetrics
from bootstrap.settings import Settings
from bootstrap.transcriber import make_transcriber
from domain.catalog import Catalog
from domain.model.messages import RoomEvent
from domain.model.sizes import megabytes
from domain.services.accept_invitation import AcceptInvitation
from domain.services.access import AccessPolicy
from domain.services.answer_message import AnswerMessage
from domain.services.answers_in_flight import AnswersInFlight
from domain.services.chat_commands.registry import command_handlers
from domain.services.create_chat_room import CreateChatRoom
from domain.services.find_unanswered import FindUnanswered
from domain.services.flood_guard import FloodGuard
from domain.services.handle_message import HandleMessage
from domain.services.handle_room_event import HandleRoomEvent
from domain.services.onboard_user import OnboardUser
from domain.services.post_agent_files import PostAgentFiles
from domain.services.receive_file import ReceiveFile
from domain.services.reconcile_topology import ReconcileTopology
from domain.services.record_room_name import RecordRoomName
from domain.services.regenerate_answer import RegenerateAnswer
from domain.services.run_command import RunCommand
from domain.services.stop_answer import PreemptAnswers
from domain.services.title_room import TitleRoom
from domain.services.transcribe_voice import TranscribeVoice


class PersistenceContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    engine = providers.Singleton(make_engine, url=config.database_url)
    session_factory = providers.Singleton(make_session_factory, engine)
    # Appservice mode: a message is marked done only under the lease it was handed out with (several replicas).
    tickets = providers.Singleton(WorkTickets, config.replica_id)
    uow = providers.Selector(
        config.mode,
        sync=providers.Singleton(SqlAlchemyUnitOfWorkFactory, session_factory),
        appservice=providers.Singleton(
            SqlAlchemyUnitOfWorkFactory, session_factory, providers.Singleton(FencedInboxFactory, tickets)
        ),
    )
    leases = providers.Singleton(PostgresPersonLeases, engine, config.replica_id, config.lease_s)
    transaction_pruning = providers.Singleton(TransactionPruning, engine)


class MatrixContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    # Sync mode: the bot's own login, and a crypto store. Appservice mode: the as token, no encryption.
    client = providers.Selector(
        config.mode,
        sync=providers.Singleton(
            make_client, config.homeserver_url, config.user_id, config.crypto_dir, config.pickle_key
        ),
        appservice=providers.Singleton(make_appservice_client, config.homeserver_url, config.user_id, config.as_token),
    )
    encryption = providers.Singleton(RoomEncryption, client)
    key_arrivals = providers.Singleton(KeyArrivals)
    keys = providers.Singleton(KeyMaintenance, client, encryption, key_arrivals)
    topology = providers.Singleton(NioChatTopology, client, config.server_name, config.encrypt_new_rooms)
    sender = providers.Singleton(NioMessageSender, client, encryption)
    media = providers.Singleton(NioMediaStore, client, encryption)
    view = providers.Singleton(NioTopologyView)
    # What reconciliation and the catch-up read: the sync's view, or (appservice mode) the rooms read one by one.
    reader = providers.Selector(
        config.mode,
        sync=view,
        appservice=providers.Singleton(
            AppserviceRoomStateReader, client, config.sync_timeline_limit, config.reconcile_rooms_per_s
        ),
    )
    # One receipt covers the messages waiting behind the one taken (adapters/matrix/receipts.py).
    receipts = providers.Singleton(LookAheadReceipts, providers.Singleton(NioReadReceipts, client))


class WorkspaceContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    # Appservice replicas share the volume: a partial file another replica is still writing is not abandoned.
    workspace = providers.Selector(
        config.mode,
        sync=providers.Singleton(LocalWorkspace, config.workspace_dir),
        appservice=providers.Singleton(LocalWorkspace, config.workspace_dir, abandoned_after_s=3600.0),
    )


class PlatformContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    registry = providers.Dependency(instance_of=AgentRegistry)
    observer = providers.Dependency(instance_of=BotMetrics)  # every answer is timed
    uow = providers.Dependency(instance_of=SqlAlchemyUnitOfWorkFactory)  # openai keeps transcripts in our database
    routed = providers.Singleton(build_platform, registry, config.workspace_dir, uow=uow)
    client = providers.Singleton(MeteredPlatformClient, routed, observer)


class ApplicationContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    persistence = providers.Container(PersistenceContainer, config=config)
    matrix = providers.Container(MatrixContainer, config=config)
    workspace = providers.Container(WorkspaceContainer, config=config)
    agent_registry = providers.Dependency(instance_of=AgentRegistry)
    metrics = providers.Singleton(BotMetrics)
    platform = providers.Container(
        PlatformContainer, config=config, registry=agent_registry, observer=metrics, uow=persistence.uow
    )
    agents = agent_registry.provided.directory

    catalog = providers.Singleton(Catalog, config.locale)
    access = providers.Singleton(AccessPolicy, config.allowed_patterns)
    uow = persistence.uow
    create_chat_room = providers.Singleton(CreateChatRoom, uow, matrix.topology, catalog)
    onboard_user = providers.Singleton(
        OnboardUser, uow, matrix.topology, matrix.sender, create_chat_room, catalog, agents.default
    )
    accept_invitation = providers.Singleton(AcceptInvitation, access, matrix.topology, onboard_user)
    title_room = providers.Singleton(TitleRoom, uow, matrix.topology, platform.client, catalog)
    post_agent_files = providers.Singleton(
        PostAgentFiles, workspace.workspace, matrix.media, matrix.sender, catalog, config.max_upload_bytes
    )
    retry = providers.Singleton(TenacityRetryRunner, give_up_after_s=config.agent_retry_s)
    in_flight = providers.Singleton(AnswersInFlight)
    answer_message = providers.Singleton(
        AnswerMessage,
        uow,
        platform.client,
        matrix.sender,
        catalog,
        title_room,
        post_agent_files,
        retry,
        in_flight=in_flight,
        agents=agents,
    )
    regenerate = providers.Singleton(RegenerateAnswer, uow, answer_message, matrix.sender, catalog)
    flood_guard = providers.Singleton(
        FloodGuard, burst=config.rate_limit_burst, per_second=config.rate_limit_per_s, clock=time.monotonic
    )
    receive_file = providers.Singleton(
        ReceiveFile,
        uow,
        matrix.media,
        workspace.workspace,
        matrix.sender,
        answer_message,
        catalog,
        config.max_upload_bytes,
    )
    transcriber = providers.Singleton(
        make_transcriber,
        config.transcriber_url,
        config.transcriber_model,
        config.transcriber_api_key,
        config.workspace_dir,
    )
    voice = providers.Singleton(
        TranscribeVoice, uow, receive_file, answer_message, matrix.sender, catalog, transcriber, retry
    )
    commands = providers.Singleton(
        RunCommand,
        providers.Singleton(
            command_handlers,
            uow,
            matrix.topology,
            platform.client,
            create_chat_room,
            agents,
            catalog,
            in_flight,
            regenerate,
        ),
        catalog,
    )
    handle_message = providers.Singleton(
        HandleMessage,
        uow,
        access,
        answer_message,
        commands,
        matrix.sender,
        matrix.topology,
        catalog,
        voice,
        flood_guard,
    )
    handle_room_event = providers.Singleton(
        HandleRoomEvent, handle_message, providers.Singleton(RecordRoomName, uow), matrix.receipts, regenerate
    )
    # Encrypted messages are read (or found unreadable) before the domain sees them.
    decrypting = providers.Singleton(
        DecryptingHandler,
        matrix.client,
        handle_room_event.provided.execute,
        matrix.key_arrivals,
        uow,
        config.room_key_wait_s,
    )
    # Sees each event as it is queued: a stop reaches the running answer, a receipt can look ahead.
    on_queued = providers.Singleton(
        EachOf[RoomEvent], providers.Singleton(PreemptAnswers, in_flight), matrix.receipts.provided.arrived
    )
    message_queues = providers.Singleton(
        KeyedWorkQueues[RoomEvent], metrics.provided.counting.call(decrypting), preempt=on_queued
    )
    sync_loop = providers.Singleton(
        MatrixSyncLoop,
        matrix.client,
        uow,
        message_queues,
        accept_invitation.provided.execute,
        matrix.view,
        timeline_limit=config.sync_timeline_limit,
        on_error=metrics.provided.sync_error,
        keys=matrix.keys,
    )
    # Appservice mode: transactions pushed by the homeserver feed the same inbox; a person's messages reach
    # the room queues of the one replica holding their lease.
    lease_dispatch = providers.Singleton(
        LeasedDispatch,
        persistence.leases,
        persistence.tickets,
        metrics.provided.counting.call(decrypting),
        accept_invitation.provided.execute,
        on_queued,
        config.lease_s,
    )
    inbox_notifications = providers.Singleton(
        PostgresInboxNotifications,
        config.database_url,
        lease_dispatch.provided.nudged,
        lease_dispatch.provided.redacted,
    )
    intake = providers.Singleton(TransactionIntake, uow, config.user_id, lease_dispatch)
    appservice_server = providers.Singleton(
        AppserviceServer, config.http_host, config.appservice_port, config.hs_token, intake
    )
    reconcile = providers.Singleton(ReconcileTopology, uow, matrix.reader, matrix.topology)
    find_unanswered = providers.Singleton(FindUnanswered, uow, matrix.reader)


def build_container(settings: Settings, agents: AgentRegistry) -> ApplicationContainer:
    container = ApplicationContainer(agent_registry=agents)
    container.config.from_dict(
        {
            "homeserver_url": settings.homeserver_url,
            "user_id": settings.user_id,
            "server_name": settings.server_name,
            "database_url": settings.effective_database_url,
            "locale": settings.locale,
            "allowed_patterns": settings.allowed_patterns,
            "sync_timeline_limit": settings.sync_timeline_limit,
            "agent_retry_s": settings.agent_retry_s,
            "rate_limit_burst": settings.rate_limit_burst,
            "rate_limit_per_s": settings.rate_limit_per_s,
            "workspace_dir": settings.workspace_dir,
            "max_upload_bytes": megabytes(settings.max_upload_mb),
            "crypto_dir": settings.crypto_dir,
            "pickle_key": settings.pickle_key.get_secret_value() if settings.pickle_key else None,
            "encrypt_new_rooms": settings.encryption,
            "room_key_wait_s": settings.room_key_wait_s,
            "transcriber_url": settings.transcriber_url,
            "transcriber_model": settings.transcriber_model,
            "transcriber_api_key": (
                settings.transcriber_api_key.get_secret_value() if settings.transcriber_api_key else None
            ),
            "mode": settings.mode,
            "as_token": settings.as_token.get_secret_value() if settings.as_token else None,
            "hs_token": settings.hs_token.get_secret_value() if settings.hs_token else None,
            "http_host": settings.http_host,
            "appservice_port": settings.appservice_port,
            "lease_s": settings.lease_s,
            "replica_id": settings.replica_id,
            "reconcile_rooms_per_s": settings.reconcile_rooms_per_s,
        }
    )
    return container
