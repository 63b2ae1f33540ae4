"""Appservice mode's reconciliation pass, and its schedule: background work after `/ready` (docs/appservice.md)."""

import time

import structlog

from adapters.matrix.appservice.background_reconciliation import BackgroundReconciliation
from bootstrap.container import ApplicationContainer
from bootstrap.runtime import reconcile_and_log
from bootstrap.settings import Settings

log = structlog.get_logger(__name__)


def background_reconciliation(container: ApplicationContainer, settings: Settings) -> BackgroundReconciliation:
    """Made before `/ready`, started after it; stopped before the lease dispatch and the database."""
    return BackgroundReconciliation(
        container.persistence.leases(),
        lambda: reconciliation_pass(container),
        settings.reconcile_interval_s,
        settings.lease_s,
    )


async def reconciliation_pass(container: ApplicationContainer) -> None:
    """The rooms read at the set pace, the index rebuilt from them, and what their timelines still owe answered.

    `reconciliation_seconds` covers the reading too: in this mode it is nearly all of a pass.
    """
    reader = container.matrix.reader()
    started = time.monotonic()
    try:
        await reader.refresh()
        await reconcile_and_log(container, started)
        pending = await container.find_unanswered().execute()
    finally:
        reader.forget()
    # The holders of these people's leases (this replica or another) answer them, in inbox order.
    container.lease_dispatch().recorded(message.sender for message in pending)
    log.info("catch_up_handed_out", pending=len(pending))
