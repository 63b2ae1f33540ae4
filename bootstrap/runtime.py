"""Start-up and shutdown order of the bot, each step logged (SPEC §4)."""

import asyncio
import signal

import structlog

from adapters.matrix.session import SessionFile, log_in
from adapters.persistence.migrate import upgrade_database
from bootstrap.agents_config import AgentRegistry
from bootstrap.container import ApplicationContainer, build_container
from bootstrap.http_endpoint import HealthEndpoint
from bootstrap.settings import Settings

log = structlog.get_logger(__name__)


async def run_bot(settings: Settings, agents: AgentRegistry) -> None:
    """settings → migrations → login → initial sync → catch-up → live processing → ready; SIGTERM stops it."""
    log.info("settings_loaded", homeserver=settings.homeserver_url, user_id=settings.user_id)
    await upgrade_database(settings.effective_database_url)
    log.info("migrations_done")
    container = build_container(settings, agents)
    endpoint = HealthEndpoint(settings.http_host, settings.http_port)
    await endpoint.start()
    client = container.matrix.client()
    sync_loop = container.sync_loop()
    queues = container.message_queues()
    stop = _stop_on_signals()
    try:
        token = settings.access_token.get_secret_value() if settings.access_token else None
        password = settings.password.get_secret_value() if settings.password else None
        await log_in(client, token, password, SessionFile(settings.data_dir / "session.json"))
        log.info("login_done", device_id=client.device_id)
        await sync_loop.first_sync()
        await _catch_up(container)
        endpoint.ready = True
        log.info("ready", http_port=settings.http_port)
        await sync_loop.run(stop)
    finally:
        endpoint.ready = False
        log.info("shutting_down", in_flight=queues.busy)
        await queues.shutdown(settings.shutdown_grace_s)
        await sync_loop.shutdown(settings.shutdown_grace_s)
        await client.close()
        await container.persistence.engine().dispose()
        await endpoint.stop()
        log.info("stopped")


async def _catch_up(container: ApplicationContainer) -> None:
    """Messages recorded before a crash but never answered go back into their rooms' queues."""
    queues = container.message_queues()
    async with container.uow()() as unit:
        pending = await unit.inbox.pending()
    for message in pending:
        queues.submit(message.room_id, message)
    log.info("catch_up_queued", pending=len(pending))


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop
