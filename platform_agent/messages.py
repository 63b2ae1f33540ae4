"""`POST /v1/chats/{chat_id}/messages`: one message in, its answer out as Server-Sent Events."""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import structlog
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from platform_agent.agent import prompt_of
from platform_agent.events import AnswerEvent, Delta, Failure, FileOut, Finished
from platform_agent.http_errors import error_response, parse_body
from platform_agent.keys import AGENT, PING_INTERVAL, SESSIONS
from platform_agent.sessions import Answer, Session
from platform_agent.wire import MessageIn
from platform_agent.workspace import UnsafePath

log = structlog.get_logger(__name__)


async def post_message(request: web.Request) -> web.StreamResponse:
    chat_id = request.match_info["chat_id"]
    message = await parse_body(request, MessageIn)
    agent, session = request.app[AGENT], request.app[SESSIONS].get(chat_id)
    structlog.contextvars.bind_contextvars(chat_id=chat_id, request_id=message.request_id)
    log.info("message_received", text_length=len(message.text), attachments=len(message.attachments))
    # One answer at a time per chat; a retried request waits here for the original, then replays it.
    async with session.lock:
        recorded = session.answered.get(message.request_id) if message.request_id else None
        if recorded is not None:
            log.info("answer_replayed")
            return await _stream(request, agent.replay(recorded), session, None)
        if message.replaces_last_turn:
            session.drop_last_turn()
        try:
            notes = await agent.describe_attachments(message)
        except (UnsafePath, FileNotFoundError) as error:
            log.warning("attachment_refused", error=str(error))
            return error_response(422, str(error))
        return await _stream(request, agent.answer(chat_id, session, message, notes), session, (message, notes))


async def _stream(
    request: web.Request,
    events: AsyncIterator[AnswerEvent],
    session: Session,
    question: tuple[MessageIn, list[str]] | None,
) -> web.StreamResponse:
    started = time.perf_counter()
    sent: list[str] = []  # the text the client has been sent: what it kept if it goes away (a stop)
    async with sse_response(request, allow_all_methods=True, ping_interval=request.app[PING_INTERVAL]) as sse:
        try:
            async for event in events:
                if isinstance(event, Finished) and event.record and question is not None:
                    # Recorded before `done` is sent: a client that misses `done` retries and gets a replay.
                    message, notes = question
                    session.record(message.request_id, prompt_of(message, notes), event.answer)
                if isinstance(event, Delta):
                    sent.append(event.text)  # before the write: a cut connection may still have delivered it
                await _send(sse, event)
                if isinstance(event, Failure | Finished):
                    _log_end(event, started)
                    break
        except ConnectionResetError:
            # The client closed the stream: that is how a person's stop reaches us (docs/platform-contract.md).
            log.info("client_gone", sent_length=len("".join(sent)))
            _keep_partial(session, question, "".join(sent))
        except asyncio.CancelledError:
            log.info("client_gone", sent_length=len("".join(sent)))
            _keep_partial(session, question, "".join(sent))
            raise
    return sse


def _keep_partial(session: Session, question: tuple[MessageIn, list[str]] | None, partial: str) -> None:
    """A stopped answer stays in the conversation as far as it was streamed: the next question sees what the person
    saw. Recorded without the request id: a retry of the same request is answered afresh, not replayed cut short."""
    if question is None or not partial:
        return
    message, notes = question
    session.record(None, prompt_of(message, notes), Answer(text=partial))


async def _send(sse: EventSourceResponse, event: AnswerEvent) -> None:
    if isinstance(event, Delta):
        await sse.send(json.dumps({"text": event.text}, ensure_ascii=False), event="delta")
    elif isinstance(event, FileOut):
        await sse.send(json.dumps({"workspace_path": event.workspace_path}, ensure_ascii=False), event="file")
    elif isinstance(event, Failure):
        await sse.send(json.dumps({"message": event.message, "retryable": event.retryable}), event="error")
    else:
        usage = {"input_tokens": event.input_tokens, "output_tokens": event.output_tokens}
        await sse.send(json.dumps({"usage": usage}), event="done")


def _log_end(event: Failure | Finished, started: float) -> None:
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    if isinstance(event, Failure):
        log.warning("answer_failed", error=event.message, retryable=event.retryable, elapsed_ms=elapsed_ms)
    else:
        answer = event.answer
        log.info("answer_done", answer_length=len(answer.text), files=len(answer.files), elapsed_ms=elapsed_ms)
