"""Start-up and shutdown order of the bot, each step logged (SPEC §4)."""

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator

import structlog
from nio import AsyncClient
from sqlalchemy.exc import DBAPIError

from adapters.matrix.appservice.client import check_as_token
from adapters.matrix.cross_signing import CrossSigning, CrossSigningKeys
from adapters.matrix.crypto_store import CryptoStoreDir
from adapters.matrix.session import SessionFile, log_in
from adapters.matrix.sync_loop import AccessTokenRejected
from adapters.persistence.migrate import upgrade_database
from bootstrap.agents_config import AgentRegistry
from bootstrap.container import ApplicationContainer, build_container
from bootstrap.errors import EXIT_DATABASE, EXIT_HOMESERVER, StartupError
from bootstrap.http_endpoint import HealthEndpoint
from bootstrap.reconcile_report import ReconciliationReportOut
from bootstrap.settings import Settings
from ports.topology import ChatNetworkError
from ports.workspace import WorkspaceError

log = structlog.get_logger(__name__)


async def run_bot(settings: Settings, agents: AgentRegistry) -> None:
    """settings → migrations → login → initial sync → catch-up → live processing → ready; SIGTERM stops it."""
    log.info("settings_loaded", homeserver=settings.homeserver_url, user_id=settings.user_id)
    async with bot_process(settings, agents) as (container, endpoint):
        client = container.matrix.client()
        sync_loop = container.sync_loop()
        queues = container.message_queues()
        stop = stop_on_signals()
        try:
            await _log_in(client, settings)
            await _set_up_encryption(container, settings)
            await sync_loop.first_sync()
            await _reconcile(container)
            await catch_up(container)
            endpoint.ready = True
            log.info("ready", http_port=settings.http_port)
            await sync_loop.run(stop)
        except AccessTokenRejected as error:
            raise StartupError(f"{error}; log in again (new token or password)", EXIT_HOMESERVER) from error
        finally:
            endpoint.ready = False
            log.info("shutting_down", in_flight=queues.busy)
            await queues.shutdown(settings.shutdown_grace_s)
            await sync_loop.shutdown(settings.shutdown_grace_s)


@contextlib.asynccontextmanager
async def bot_process(
    settings: Settings, agents: AgentRegistry
) -> AsyncIterator[tuple[ApplicationContainer, HealthEndpoint]]:
    """What both transports start first and stop last: migrations, the container, the health endpoint (not ready
    yet), a clean workspace; then the Matrix client, the agents' connections and the database closed."""
    await migrate(settings)
    log.info("migrations_done")
    container = build_container(settings, agents)
    metrics = container.metrics()
    endpoint = HealthEndpoint(
        settings.http_host, settings.http_port, metrics.registry, metrics.rooms_refresher(container.uow())
    )
    await endpoint.start()
    await clean_workspace(container)
    try:
        yield container, endpoint
    finally:
        endpoint.ready = False
        await container.matrix.client().close()
        await container.platform.routed().aclose()
        await container.persistence.engine().dispose()
        await endpoint.stop()
        log.info("stopped")


async def clean_workspace(container: ApplicationContainer) -> None:
    """Removes temporary files of downloads a crash cut short; an uncleanable workspace does not stop the start."""
    try:
        removed = await container.workspace.workspace().remove_abandoned_writes()
    except WorkspaceError as error:
        log.warning("workspace_cleanup_failed", error=str(error))
        return
    if removed:
        log.info("abandoned_writes_removed", files=removed)


async def _reconcile(container: ApplicationContainer) -> None:
    await reconcile_and_log(container, time.monotonic())


async def reconcile_and_log(container: ApplicationContainer, started: float) -> None:
    """One reconciliation, its summary logged (`reconciled`) and its time since `started` measured."""
    report = ReconciliationReportOut.from_domain(await container.reconcile().execute())
    seconds = time.monotonic() - started
    container.metrics().reconciliation_seconds.observe(seconds)
    log.info("reconciled", seconds=round(seconds, 3), **report.summary())
    if report.repaired or report.conflicts or report.orphaned:
        log.warning("reconciliation_findings", report=report.model_dump(mode="json"))


async def catch_up(container: ApplicationContainer) -> None:
    """Unanswered messages, from the inbox and from the rooms' timelines, go back into their rooms' queues."""
    queues = container.message_queues()
    pending = await container.find_unanswered().execute()
    for message in pending:
        queues.submit(message.room_id, message)
    log.info("catch_up_queued", pending=len(pending))


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def reconcile_once(settings: Settings, agents: AgentRegistry, dry_run: bool) -> ReconciliationReportOut:
    """One full look at Matrix and one reconciliation, without touching the sync token or the inbox.

    Sync mode looks with a full-state sync; appservice mode reads the joined rooms one by one, as its background
    reconciliation does (it never calls `/sync`)."""
    await migrate(settings)
    container = build_container(settings, agents)
    # No crypto store: a second process on the running bot's store could spend its one-time keys.
    container.config.crypto_dir.from_value(None)
    client = container.matrix.client()
    try:
        if settings.mode == "appservice":
            await _check_as_token(client, settings)
            await container.matrix.reader().refresh()  # the rooms one by one, at SURFACES_RECONCILE_ROOMS_PER_S
        else:
            await _log_in(client, settings, encrypted=False)
            await container.sync_loop().observe()
        return ReconciliationReportOut.from_domain(await container.reconcile().execute(dry_run=dry_run))
    finally:
        await client.close()
        await container.persistence.engine().dispose()


async def migrate(settings: Settings) -> None:
    """A corrupt or locked database stops the bot; it is never silently replaced by a new one."""
    try:
        await upgrade_database(settings.effective_database_url)
    except (DBAPIError, OSError) as error:
        log.error("database_unusable", error=str(error).splitlines()[0])
        raise StartupError(
            f"the database cannot be opened or migrated ({str(error).splitlines()[0]}); "
            "it may be corrupt or locked by another process — nothing was changed",
            EXIT_DATABASE,
        ) from error


async def _log_in(client: AsyncClient, settings: Settings, encrypted: bool = True) -> None:
    token = settings.access_token.get_secret_value() if settings.access_token else None
    password = _password(settings)
    try:
        crypto = CryptoStoreDir(settings.crypto_dir) if encrypted else None
        await log_in(client, token, password, SessionFile(settings.data_dir / "session.json"), crypto)
    except ChatNetworkError as error:
        raise StartupError(f"cannot log in to {settings.homeserver_url}: {error}", EXIT_HOMESERVER) from error
    log.info("login_done", device_id=client.device_id)


async def _check_as_token(client: AsyncClient, settings: Settings) -> None:
    # No device is made: a dry run writes nothing, and reads need only the bot's user id.
    try:
        await check_as_token(client)
    except ChatNetworkError as error:
        raise StartupError(
            f"the homeserver at {settings.homeserver_url} refuses the as token: {error}", EXIT_HOMESERVER
        ) from error


async def _set_up_encryption(container: ApplicationContainer, settings: Settings) -> None:
    """The device's keys on the homeserver, then the device signed by the bot's own cross-signing key."""
    await container.matrix.keys().run()
    client = container.matrix.client()
    signing = CrossSigning(client, CrossSigningKeys(settings.crypto_dir), _password(settings))
    try:
        await signing.ensure()
    except ChatNetworkError as error:
        # Not fatal: everyone whose client shares keys with unsigned devices is still answered; the next start
        # tries again.
        log.warning("cross_signing_failed", error=str(error))


def _password(settings: Settings) -> str | None:
    return settings.password.get_secret_value() if settings.password else None
