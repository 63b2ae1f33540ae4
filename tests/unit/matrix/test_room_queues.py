"""KeyedWorkQueues: an unreachable homeserver makes an item wait and try again; other failures do not."""

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest
from nio import ErrorResponse

from adapters.matrix.backoff import Backoff
from adapters.matrix.errors import MatrixRequestError
from adapters.matrix.room_queues import KeyedWorkQueues


def no_wait() -> Backoff:
    return Backoff(initial=0.0, maximum=0.0)


async def drained(queues: KeyedWorkQueues[str]) -> None:
    async with asyncio.timeout(5):
        while queues.busy:
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    "error",
    [
        aiohttp.ClientConnectionError("refused"),
        aiohttp.ServerDisconnectedError(),
        ConnectionResetError("reset"),
        TimeoutError(),
    ],
)
async def test_an_unreachable_homeserver_is_retried_until_the_item_is_done(error: Exception) -> None:
    calls: list[str] = []

    async def handle(item: str) -> None:
        calls.append(item)
        if len(calls) < 4:
            raise error

    queues = KeyedWorkQueues(handle, backoff=no_wait)
    queues.submit("!room", "first")
    queues.submit("!room", "second")
    await drained(queues)
    assert calls == ["first"] * 4 + ["second"]  # in order: the room waits for its first item


async def test_other_failures_are_not_retried_and_do_not_stop_the_room() -> None:
    calls: list[str] = []

    async def handle(item: str) -> None:
        calls.append(item)
        if item == "bad":
            raise ValueError("a bug")

    queues = KeyedWorkQueues(handle, backoff=no_wait)
    queues.submit("!room", "bad")
    queues.submit("!room", "good")
    await drained(queues)
    assert calls == ["bad", "good"]


async def test_shutdown_ends_the_retries_and_leaves_the_item_for_the_next_start() -> None:
    calls: list[str] = []

    async def handle(item: str) -> None:
        calls.append(item)
        raise aiohttp.ClientConnectionError("still down")

    queues = KeyedWorkQueues(handle, backoff=lambda: Backoff(initial=60.0, maximum=60.0))
    queues.submit("!room", "pending")
    await asyncio.sleep(0.05)  # the first attempt failed; the worker waits up to a minute
    async with asyncio.timeout(5):  # far less than the back-off, and than the grace period
        await queues.shutdown(grace_seconds=30)
    assert calls == ["pending"]
    assert queues.busy == 0


def _refused(http_status: int, errcode: str | None = None) -> MatrixRequestError:
    """What nio hands back for a non-2xx answer, with the HTTP status its transport saw."""
    response = ErrorResponse("refused", errcode)
    response.transport_response = cast(Any, SimpleNamespace(status=http_status))
    return MatrixRequestError("send", response)


@pytest.mark.parametrize("http_status", [502, 503, 504])
async def test_a_proxy_answering_for_a_homeserver_that_is_down_is_retried(http_status: int) -> None:
    calls: list[str] = []

    async def handle(item: str) -> None:
        calls.append(item)
        if len(calls) < 3:
            raise _refused(http_status)

    queues = KeyedWorkQueues(handle, backoff=no_wait)
    queues.submit("!room", "first")
    queues.submit("!room", "second")
    await drained(queues)
    assert calls == ["first"] * 3 + ["second"]


async def test_a_homeserver_refusing_a_request_is_not_retried() -> None:
    calls: list[str] = []

    async def handle(item: str) -> None:
        calls.append(item)
        if item == "refused":
            raise _refused(403, "M_FORBIDDEN")

    queues = KeyedWorkQueues(handle, backoff=no_wait)
    queues.submit("!room", "refused")
    queues.submit("!room", "next")
    await drained(queues)
    assert calls == ["refused", "next"]


async def test_preempt_sees_each_item_as_it_is_submitted_ahead_of_its_keys_order() -> None:
    release = asyncio.Event()
    seen: list[str] = []
    handled: list[str] = []

    async def handler(item: str) -> None:
        await release.wait()
        handled.append(item)

    queues: KeyedWorkQueues[str] = KeyedWorkQueues(handler, preempt=seen.append)
    queues.submit("room", "first")
    queues.submit("room", "stop")
    await asyncio.sleep(0)
    assert seen == ["first", "stop"] and handled == []  # "stop" was seen while "first" was still running

    release.set()
    while queues.busy:
        await asyncio.sleep(0)
    assert handled == ["first", "stop"]  # and both are still handled in order
