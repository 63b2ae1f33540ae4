"""Start-up and shutdown order in appservice mode: no `/sync`, transactions pushed by the homeserver (SPEC §4).

settings → migrations → the as token checked and the bot's device made once → the transaction endpoint →
the first lease sweep (this replica's catch-up: people whose messages wait with no live lease) → ready. There is
no full-state sync, so readiness does not grow with the number of rooms; reconciliation and the timeline catch-up
run in the background after ready, on one replica at a time (docs/appservice.md). Several replicas may run at once
(docs/scaling.md).
"""

import asyncio
import contextlib

import structlog

from adapters.matrix.appservice.client import AppserviceClient, ensure_device
from bootstrap.agents_config import AgentRegistry
from bootstrap.appservice_reconciliation import background_reconciliation
from bootstrap.container import ApplicationContainer
from bootstrap.errors import EXIT_HOMESERVER, StartupError
from bootstrap.http_endpoint import HealthEndpoint
from bootstrap.runtime import bot_process, stop_on_signals
from bootstrap.settings import Settings
from ports.topology import ChatNetworkError

log = structlog.get_logger(__name__)

PRUNE_EVERY_S = 3600.0


async def run_appservice(settings: Settings, agents: AgentRegistry) -> None:
    log.info(
        "settings_loaded",
        mode="appservice",
        homeserver=settings.homeserver_url,
        user_id=settings.user_id,
        replica_id=settings.replica_id,
    )
    async with bot_process(settings, agents) as (container, endpoint):
        await _serve(container, endpoint, settings)


async def _serve(container: ApplicationContainer, endpoint: HealthEndpoint, settings: Settings) -> None:
    server = container.appservice_server()
    dispatch = container.lease_dispatch()
    notifications = container.inbox_notifications()
    stop = stop_on_signals()
    background: list[asyncio.Task[None]] = []
    reconciling = background_reconciliation(container, settings)
    try:
        await _take_device(container.matrix.client(), settings)
        await server.start()
        notifications.start()
        await dispatch.sweep()
        background.append(asyncio.create_task(dispatch.run(), name="lease-sweep"))
        background.append(asyncio.create_task(_prune_hourly(container, stop), name="housekeeping"))
        endpoint.ready = True
        log.info("ready", http_port=settings.http_port, appservice_port=settings.appservice_port)
        reconciling.start()  # background work: never before `/ready`, never holding it back
        await stop.wait()
    finally:
        endpoint.ready = False
        await reconciling.stop()
        # Transactions not acknowledged by now are sent again by the homeserver, to this process or another.
        await server.stop()
        await notifications.stop()
        log.info("shutting_down", in_flight=dispatch.busy, leases=dispatch.held)
        # Releases every lease once the running answers are done: another replica takes the people over now.
        await dispatch.shutdown(settings.shutdown_grace_s)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)


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


async def _prune_hourly(container: ApplicationContainer, stop: asyncio.Event) -> None:
    pruning = container.persistence.transaction_pruning()
    while not stop.is_set():
        try:
            await pruning.prune()
        except Exception as error:  # the database away for a moment: next hour
            log.warning("transaction_pruning_failed", error=str(error) or type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PRUNE_EVERY_S)
