"""The reference agent as an aiohttp application: the routes of docs/platform-contract.md."""

import structlog
from aiohttp import web

from platform_agent.agent import ReferenceAgent
from platform_agent.brains import Brain, EchoBrain
from platform_agent.chats import disconnect, export_context, import_context, suggest_title
from platform_agent.http_errors import json_errors
from platform_agent.keys import AGENT, MODE, PING_INTERVAL, SESSIONS
from platform_agent.messages import post_message
from platform_agent.sessions import SessionStore
from platform_agent.settings import AgentSettings
from platform_agent.upstream import UpstreamBrain
from platform_agent.workspace import Workspace

MAX_BODY_BYTES = 4 * 1024 * 1024
log = structlog.get_logger(__name__)


def make_brain(settings: AgentSettings) -> Brain:
    if settings.upstream_url is None or settings.upstream_model is None:
        return EchoBrain(settings.chunk_delay)
    key = settings.upstream_api_key.get_secret_value() if settings.upstream_api_key else None
    return UpstreamBrain(settings.upstream_url, settings.upstream_model, key, settings.upstream_timeout)


def make_app(settings: AgentSettings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[json_errors])
    brain = make_brain(settings)
    app[AGENT] = ReferenceAgent(Workspace(settings.workspace_dir), brain, settings.chunk_delay)
    app[SESSIONS] = SessionStore()
    app[PING_INTERVAL] = settings.ping_interval
    app[MODE] = settings.mode
    app.router.add_get("/health", health)
    app.router.add_post("/v1/chats/{chat_id}/messages", post_message)
    app.router.add_delete("/v1/chats/{chat_id}", disconnect)
    app.router.add_get("/v1/chats/{chat_id}/context", export_context)
    app.router.add_put("/v1/chats/{chat_id}/context", import_context)
    app.router.add_post("/v1/chats/{chat_id}/title", suggest_title)

    async def close_brain(_: web.Application) -> None:
        await brain.aclose()
        log.info("agent_stopped")

    app.on_cleanup.append(close_brain)
    return app


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "mode": request.app[MODE], "chats": len(request.app[SESSIONS])})
