"""PlatformClient over the platform-agent HTTP contract (docs/platform-contract.md), on httpx + httpx-sse."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from httpx_sse import ServerSentEvent, aconnect_sse

from adapters.platform.sse_events import CUT_OFF, agent_event
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done
from domain.model.context import ChatContext
from ports.platform import ContextTransferUnsupported, PlatformClient, PlatformError

log = structlog.get_logger(__name__)

# Busy or failing platforms: the request may succeed later, so the caller's retry policy decides.
_RETRYABLE = frozenset({408, 429})
# How long the end of a response may take to arrive after its terminal event.
DRAIN_SECONDS = 0.5


@dataclass(frozen=True, kw_only=True)
class HttpTimeouts:
    """Seconds. `read` is the longest silence accepted mid-answer (agents send pings), not the longest answer."""

    connect: float = 5.0
    read: float = 120.0
    write: float = 30.0
    health: float = 5.0


class HttpPlatformClient:
    """Talks to one agent of a platform at `base_url`. Unreachable, timed out, busy (408/429) or failing
    (5xx) platforms raise PlatformError; refusals (other 4xx) and `error` events end in AgentFailed."""

    def __init__(
        self,
        base_url: str,
        agent_id: str,
        timeouts: HttpTimeouts | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._agent_id = agent_id
        self._timeouts = timeouts or HttpTimeouts()
        t = self._timeouts
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.connect),
            transport=transport,
            headers={"User-Agent": "surfaces"},
        )

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        url = f"{_chat_path(request.platform_chat_id)}/messages"
        terminal: AgentEvent | None = None
        try:
            async with aconnect_sse(self._client, "POST", url, json=self._message(request)) as source:
                refusal = await self._refusal(source.response)
                if refusal is not None:
                    yield refusal
                    return
                events = source.aiter_sse()
                while (sse := await self._next(events, draining=terminal is not None)) is not None:
                    event = agent_event(sse, self._agent_id)
                    if event is None or terminal is not None:
                        continue  # unknown kinds, and anything after the terminal event, are ignored
                    if isinstance(event, Done | AgentFailed):
                        terminal = event
                    else:
                        yield event
        except httpx.TimeoutException as error:
            raise PlatformError(f"agent {self._agent_id} timed out ({type(error).__name__})") from error
        except httpx.TransportError as error:
            raise PlatformError(f"agent {self._agent_id} unreachable: {_describe(error)}") from error
        # A response that ended cleanly without done or error was cut off.
        yield terminal or AgentFailed(message=CUT_OFF)

    @staticmethod
    async def _next(events: AsyncIterator[ServerSentEvent], draining: bool) -> ServerSentEvent | None:
        """The next event, or None at the end. After the terminal event the rest of the response is read
        only briefly: read to its end, the connection is reused (closing it early costs a new one per
        message); a platform that keeps talking past `done` just loses its connection."""
        try:
            if not draining:
                return await anext(events)
            async with asyncio.timeout(DRAIN_SECONDS):
                return await anext(events)
        except (StopAsyncIteration, TimeoutError):
            return None

    async def disconnect_chat(self, chat: ChatContext) -> None:
        response = await self._call("DELETE", _chat_path(chat.platform_chat_id))
        if response.status_code != 404:
            self._check(response)

    async def export_context(self, chat: ChatContext) -> str:
        response = await self._call("GET", f"{_chat_path(chat.platform_chat_id)}/context")
        self._check(response, chat)
        payload = _json(response).get("payload")
        if not isinstance(payload, str):
            raise PlatformError(f"agent {self._agent_id} exported a context without a payload string")
        return payload

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        response = await self._call("PUT", f"{_chat_path(chat.platform_chat_id)}/context", json={"payload": payload})
        self._check(response, chat)

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        body = {"question": question, "answer": answer}
        try:
            response = await self._call("POST", f"{_chat_path(chat.platform_chat_id)}/title", json=body)
        except PlatformError:
            return None
        title = _json(response).get("title") if response.status_code == 200 else None
        return title.strip() if isinstance(title, str) and title.strip() else None

    async def health(self) -> bool:
        try:
            response = await self._client.get("/health", timeout=self._timeouts.health)
        except httpx.HTTPError as error:
            log.info("agent_health_failed", agent=self._agent_id, error=_describe(error))
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._client.aclose()

    def _message(self, request: AgentRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "agent_id": self._agent_id,
            "text": request.text,
            "sender": request.sender,
            "attachments": [
                {
                    "workspace_path": a.workspace_path,
                    "filename": a.filename,
                    "mime_type": a.mime_type,
                    "size": a.size,
                    "kind": a.kind,
                }
                for a in request.attachments
            ],
        }
        # The Matrix event id, once requests carry it: the platform deduplicates retries by it.
        request_id = getattr(request, "request_id", None)
        if request_id:
            body["request_id"] = str(request_id)
        if request.replaces_last_turn:
            body["replaces_last_turn"] = True
        return body

    async def _refusal(self, response: httpx.Response) -> AgentFailed | None:
        content_type = response.headers.get("content-type", "")
        if response.status_code == 200 and content_type.startswith("text/event-stream"):
            return None
        await response.aread()
        status = response.status_code
        if status in _RETRYABLE or status >= 500:
            raise PlatformError(f"agent {self._agent_id} answered {status}: {_error_message(response)}")
        if status >= 400:
            return AgentFailed(message=_error_message(response))
        return AgentFailed(message=f"the agent answered {status} without an event stream")

    async def _call(self, method: str, url: str, json: Any = None) -> httpx.Response:
        try:
            return await self._client.request(method, url, json=json)
        except httpx.TimeoutException as error:
            raise PlatformError(f"agent {self._agent_id} timed out ({type(error).__name__})") from error
        except httpx.TransportError as error:
            raise PlatformError(f"agent {self._agent_id} unreachable: {_describe(error)}") from error

    def _check(self, response: httpx.Response, chat: ChatContext | None = None) -> None:
        status = response.status_code
        if status < 400:
            return
        message = _error_message(response)
        if status == 501 and chat is not None:
            raise ContextTransferUnsupported(f"agent {chat.agent_id} cannot save or load context")
        raise PlatformError(f"agent {self._agent_id} answered {status}: {message}")


def _chat_path(platform_chat_id: str) -> str:
    return f"/v1/chats/{quote(platform_chat_id, safe='')}"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_message(response: httpx.Response) -> str:
    error = _json(response).get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else f"{response.status_code} {response.reason_phrase}"


def _describe(error: httpx.HTTPError) -> str:
    return str(error) or type(error).__name__


_CONFORMS_TO_PORT: type[PlatformClient] = HttpPlatformClient
