"""The Application Service API the homeserver calls: transactions, ping, and user and room queries."""

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

from aiohttp import web

log = logging.getLogger(__name__)

PREFIX: Final = "/_matrix/app/v1"
# Synapse sends at most 100 PDUs and 100 EDUs per transaction, each PDU at most 64 KiB.
MAX_BODY_BYTES: Final = 16 * 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Intake(Protocol):
    """Takes a transaction in durably; raises when it could not (the homeserver then retries)."""

    async def take_in(self, txn_id: str, raw_events: list[Any]) -> None: ...


def matrix_error(status: int, errcode: str, error: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": error}, status=status)


class AppserviceServer:
    """aiohttp server of the appservice API; the hs token is checked, in constant time, on every request."""

    def __init__(self, host: str, port: int, hs_token: str, intake: Intake) -> None:
        self._host = host
        self._port = port
        self._hs_token = hs_token.encode()
        self._intake = intake
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._authenticate], client_max_size=MAX_BODY_BYTES)
        app.router.add_put(f"{PREFIX}/transactions/{{txn_id}}", self._transaction)
        app.router.add_post(f"{PREFIX}/ping", self._ping)
        # The bot owns no other users or aliases: nothing is ever created on request.
        app.router.add_get(f"{PREFIX}/users/{{user_id}}", self._not_found)
        app.router.add_get(f"{PREFIX}/rooms/{{alias}}", self._not_found)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        log.info("appservice_listening", extra={"host": self._host, "port": self._port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return matrix_error(401, "M_MISSING_TOKEN", "no hs token")
        if not hmac.compare_digest(header.removeprefix("Bearer ").encode(), self._hs_token):
            log.warning("appservice_token_refused", extra={"path": request.path})
            return matrix_error(403, "M_FORBIDDEN", "wrong hs token")
        return await handler(request)

    async def _transaction(self, request: web.Request) -> web.Response:
        txn_id = request.match_info["txn_id"]
        try:
            body = await request.json()
        except ValueError:
            return matrix_error(400, "M_NOT_JSON", "the body is not JSON")
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return matrix_error(400, "M_BAD_JSON", "`events` must be a list")
        try:
            await self._intake.take_in(txn_id, events)
        except Exception:
            # Never acknowledged: the homeserver sends the transaction again.
            log.exception("transaction_failed", extra={"txn_id": txn_id, "events": len(events)})
            return matrix_error(500, "M_UNKNOWN", "the transaction was not stored; send it again")
        return web.json_response({})

    async def _ping(self, _: web.Request) -> web.Response:
        return web.json_response({})

    async def _not_found(self, _: web.Request) -> web.Response:
        return matrix_error(404, "M_NOT_FOUND", "not provided by this appservice")
