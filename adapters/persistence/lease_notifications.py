"""LISTEN for the inbox notifications replicas send each other (appservice mode), on a connection of its own.

A notification only shortens the wait: a replica that misses one (its connection dropped, it was restarting)
still finds the messages at its next lease sweep.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs; used for LISTEN only
from sqlalchemy.engine import make_url

from adapters.persistence.leases import NOTIFY_CHANNEL, redaction_from
from domain.model.controls import Redaction

log = logging.getLogger(__name__)

# Between reconnection attempts; the lease sweep covers the gap meanwhile, so there is no hurry.
_FIRST_RETRY_S = 0.5
_LAST_RETRY_S = 30.0


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+asyncpg://…`) as the plain DSN asyncpg's own `connect` takes."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresInboxNotifications:
    """Calls `on_people` with the people a notification names (`on_redaction` with a redaction it carries);
    reconnects with back-off when the link drops."""

    def __init__(
        self,
        database_url: str,
        on_people: Callable[[list[str]], None],
        on_redaction: Callable[[Redaction], None] = lambda _: None,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._on_people = on_people
        self._on_redaction = on_redaction
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="inbox-notifications")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen_forever(self) -> None:
        delay = _FIRST_RETRY_S
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("inbox_notifications_unavailable", extra={"error": str(error) or type(error).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LAST_RETRY_S)
                continue
            delay = _FIRST_RETRY_S
            try:
                await self._listen(connection)
            finally:
                with contextlib.suppress(Exception):
                    await connection.close()

    async def _listen(self, connection: Any) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(NOTIFY_CHANNEL, self._received)
        log.info("inbox_notifications_listening")
        await lost.wait()
        log.warning("inbox_notifications_lost")

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        people = message.get("people")
        if isinstance(people, list):
            self._on_people([p for p in people if isinstance(p, str)])
        redaction = redaction_from(message.get("redaction"))
        if redaction is not None:
            self._on_redaction(redaction)
