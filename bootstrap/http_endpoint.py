"""`/health` (alive), `/ready` (reconciled and syncing) and `/metrics` (Prometheus) for operators."""

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

log = structlog.get_logger(__name__)


class HealthEndpoint:
    """A small aiohttp server; readiness is flipped by the runtime once live processing starts.

    `before_scrape` refreshes gauges that are cheaper to recount than to track (rooms by state); when it
    fails, the scrape still answers with the other metrics.
    """

    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry = REGISTRY,
        before_scrape: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._port = port
        self._host = host
        self._registry = registry
        self._before_scrape = before_scrape
        self.ready = False
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _ready(self, _: web.Request) -> web.Response:
        if self.ready:
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "starting"}, status=503)

    async def _metrics(self, _: web.Request) -> web.Response:
        if self._before_scrape is not None:
            try:
                await self._before_scrape()
            except Exception as error:  # a locked or missing database must not take /metrics down
                log.warning("metrics_refresh_failed", error=str(error))
        return web.Response(body=generate_latest(self._registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
