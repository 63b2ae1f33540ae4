"""The contract's Server-Sent Events (`delta`, `file`, `done`, `error`) read as agent events."""

import json
from typing import Any

import structlog
from httpx_sse import ServerSentEvent

from domain.model.agent import AgentEvent, AgentFailed, Done, FileEmitted, TextDelta
from ports.platform import PlatformError

log = structlog.get_logger(__name__)

CUT_OFF = "the agent's answer was cut off"


def agent_event(sse: ServerSentEvent, agent: str) -> AgentEvent | None:
    """The agent event an SSE event stands for; None for kinds this client does not know (ignored, per
    the contract); PlatformError for a retryable `error`."""
    if sse.event not in ("delta", "file", "done", "error"):
        return None
    data = _data(sse)
    if data is None:
        return _malformed(sse.event)
    if sse.event == "delta":
        text = data.get("text")
        return TextDelta(text=text) if isinstance(text, str) else _malformed(sse.event)
    if sse.event == "file":
        path = data.get("workspace_path")
        return FileEmitted(workspace_path=path) if isinstance(path, str) and path else _malformed(sse.event)
    if sse.event == "done":
        log.debug("agent_answer_done", agent=agent, usage=data.get("usage"))
        return Done()
    message = data.get("message")
    message = message if isinstance(message, str) and message else "the agent failed without saying why"
    if data.get("retryable") is True:
        raise PlatformError(f"agent {agent} failed, retryable: {message}")
    return AgentFailed(message=message)


def _data(sse: ServerSentEvent) -> dict[str, Any] | None:
    try:
        data = json.loads(sse.data)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _malformed(kind: str) -> AgentFailed:
    return AgentFailed(message=f"the agent sent a malformed {kind} event")
