"""The chat endpoints around messages: disconnect, context export and import, titles."""

import structlog
from aiohttp import web

from platform_agent.http_errors import error_response, parse_body
from platform_agent.keys import AGENT, SESSIONS
from platform_agent.sessions import InvalidContext
from platform_agent.wire import ContextIn, TitleIn

log = structlog.get_logger(__name__)


async def disconnect(request: web.Request) -> web.Response:
    chat_id = request.match_info["chat_id"]
    request.app[SESSIONS].drop(chat_id)
    log.info("chat_disconnected", chat_id=chat_id)
    return web.Response(status=204)


async def export_context(request: web.Request) -> web.Response:
    chat_id = request.match_info["chat_id"]
    payload = request.app[SESSIONS].export(chat_id)
    log.info("context_exported", chat_id=chat_id, payload_length=len(payload))
    return web.json_response({"payload": payload})


async def import_context(request: web.Request) -> web.Response:
    chat_id = request.match_info["chat_id"]
    body = await parse_body(request, ContextIn)
    try:
        count = request.app[SESSIONS].replace(chat_id, body.payload)
    except InvalidContext as error:
        return error_response(422, str(error))
    log.info("context_imported", chat_id=chat_id, messages=count)
    return web.Response(status=204)


async def suggest_title(request: web.Request) -> web.Response:
    body = await parse_body(request, TitleIn)
    title = await request.app[AGENT].brain.title(body.question, body.answer)
    if title is None:
        return error_response(404, "no title for this chat")
    return web.json_response({"title": title})
