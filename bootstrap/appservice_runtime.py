"""Start-up and shutdown order in appservice mode: no `/sync`, transactions pushed by the homeserver (SPEC §4).

settings → migrations → the as token checked and the bot's device made once → the transaction endpoint →
the first lease sweep (this replica's catch-up: people whose messages wait with no live lease) → ready. There is
no full-state sync, so readiness does not grow with the number of rooms; reconciliation is not run at start-up
in this mode (docs/appservice.md). Several replicas may run at once (docs/scaling.md).
"""

import asyncio

import structlog

from adapters.matrix.appservice.client import AppserviceClient, ensure_device
from bootstrap.agents_config import AgentRegistry
from bootstrap.container import build_container
from bootstrap.errors import EXIT_HOMESERVER, StartupError
from bootstrap.http_endpoint import HealthEndpoint
from bootstrap.runtime import clean_workspace, migrate, stop_on_signals
from bootstrap.settings import Settings
from ports.topology import ChatNetworkError

log = structlog.get_logger(__name__)


async def run_appservice(settings: Settings, agents: AgentRegistry) -> None:
    log.info(
        "settings_loaded",
        mode="appservice",
        homeserver=settings.homeserver_url,
        user_id=settings.user_id,
        replica_id=settings.replica_id,
    )
    await migrate(settings)
    log.info("migrations_done")
    container = build_container(settings, agents)
    metrics = container.metrics()
    endpoint = HealthEndpoint(
        settings.http_host, settings.http_port, metrics.registry, metrics.rooms_refresher(container.uow())
    )
    await endpoint.start()
    await clean_workspace(container)
    client = container.matrix.client()
    server = container.appservice_server()
    intake = container.intake()
    dispatch = container.lease_dispatch()
    notifications = container.inbox_notifications()
    stop = stop_on_signals()
    sweeping: asyncio.Task[None] | None = None
    try:
        await _take_device(client, settings)
        log.info("reconciliation_skipped", reason="appservice mode: no full-state sync (docs/appservice.md)")
        await server.start()
        notifications.start()
        await dispatch.sweep()
        sweeping = asyncio.create_task(dispatch.run(), name="lease-sweep")
        endpoint.ready = True
        log.info("ready", http_port=settings.http_port, appservice_port=settings.appservice_port)
        await stop.wait()
    finally:
        endpoint.ready = False
        # Transactions not acknowledged by now are sent again by the homeserver, to this process or another.
        await server.stop()
        await notifications.stop()
        log.info("shutting_down", in_flight=dispatch.busy, leases=dispatch.held)
        # Releases every lease once the running answers are done: another replica takes the people over now.
        await dispatch.shutdown(settings.shutdown_grace_s)
        if sweeping is not None:
            await asyncio.gather(sweeping, return_exceptions=True)
        await intake.shutdown(settings.shutdown_grace_s)
        await client.close()
        await container.platform.routed().aclose()
        await container.persistence.engine().dispose()
        await endpoint.stop()
        log.info("stopped")


async def _take_device(client: AppserviceClient, settings: Settings) -> None:
    try:
        await ensure_device(client, settings.appservice_device_id)
    except ChatNetworkError as error:
        raise StartupError(
            f"the homeserver at {settings.homeserver_url} does not accept the appservice ({error}); "
            "check SURFACES_AS_TOKEN and that the registration is loaded (app_service_config_files)",
            EXIT_HOMESERVER,
        ) from error
    log.info("appservice_device_ready", device_id=settings.appservice_device_id)
