"""A local OpenAI-compatible chat-completions server speaking the real wire format, with deterministic answers.

`POST /v1/chat/completions` with `stream: true` answers `text/event-stream` lines
`data: {chat.completion.chunk}` … `data: [DONE]`; without it, one `chat.completion`. `GET /v1/models` lists
the model; `POST /v1/audio/transcriptions` (multipart `file`, `model`) answers `{"text": <the file read as
UTF-8>}`. The reply depends on the last user message:

| message | reply |
|---|---|
| `!!fail` | `400` with an OpenAI error body |
| `!!boom` | `500` with an OpenAI error body |
| `!!cut` | two chunks, then the stream ends without a finish reason or `[DONE]` |
| `!!stream-error` | one chunk, then an error object inside the stream (`data: {"error": …}`) |
| `!!history` | the earlier user messages of the request, numbered `1. …`, one per line, or `(no history)` |
| `!!system` | the request's system prompt, or `(no system prompt)` |
| `!!sleep N rest` | waits N seconds, then answers `rest` |
| `!!slow N rest` | answers `rest`, waiting N seconds before each chunk (a stream to stop) |
| `!!count` | `answer N`, N counting every `!!count` request the server has seen (a new answer each time) |
| `!!answers` | the earlier assistant messages of the request, numbered, or `(no answers)` |
| anything else | the message itself, a few words per chunk |

A user message given as content parts (text and `image_url` parts, as sent to a model that sees) is answered as
its text, followed by one line per image: `[image <mime type>, <bytes> bytes, sha256 <hex>]`.

A non-streaming request (a title) is answered with the first eight words of the last user message in quotes.
Run it alone with `python -m tests.servers.openai_compatible --port 8091`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODEL = "test-model"
_SLEEP = re.compile(r"!!sleep\s+(\d+(?:\.\d*)?)\s*")
_SLOW = re.compile(r"!!slow\s+(\d+(?:\.\d*)?)\s*")
_COUNT = [0]
_WORD_BOUNDARY = re.compile(r"(?<=\s)(?=\S)")


@dataclass
class FakeModelState:
    """What the server saw; `api_key`, when set, must come as `Authorization: Bearer <key>`."""

    api_key: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    # `/v1/audio/transcriptions`: how many requests to answer 503 before transcribing, and what was transcribed.
    transcription_failures: int = 0
    transcribed: list[tuple[str, str, bytes]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


STATE = web.AppKey("state", FakeModelState)


def make_openai_app(state: FakeModelState | None = None) -> web.Application:
    app = web.Application()
    app[STATE] = state or FakeModelState()
    app.router.add_post("/v1/chat/completions", _completions)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/audio/transcriptions", _transcriptions)
    return app


def _error(status: int, message: str, kind: str) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status)


def _authorised(request: web.Request) -> bool:
    key = request.app[STATE].api_key
    return key is None or request.headers.get("Authorization") == f"Bearer {key}"


async def _models(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _error(401, "Incorrect API key provided", "invalid_request_error")
    return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "tests"}]})


async def _completions(request: web.Request) -> web.StreamResponse:
    if not _authorised(request):
        return _error(401, "Incorrect API key provided", "invalid_request_error")
    body = await request.json()
    state = request.app[STATE]
    state.requests.append(body)
    messages = body.get("messages", [])
    last = _text_and_images(next((m["content"] for m in reversed(messages) if m.get("role") == "user"), ""))
    if last == "!!fail":
        return _error(400, "the test model was asked to fail", "invalid_request_error")
    if last == "!!boom":
        return _error(500, "the test model broke", "server_error")
    completion_id = f"chatcmpl-test-{next(state.ids)}"
    if not body.get("stream"):
        return web.json_response(_completion(completion_id, body.get("model", MODEL), _title(last)))
    return await _stream(request, body, completion_id, _reply(messages, last))


async def _transcriptions(request: web.Request) -> web.Response:
    """Multipart `file` and `model`; the "transcript" is the file's bytes read as UTF-8."""
    if not _authorised(request):
        return _error(401, "Incorrect API key provided", "invalid_request_error")
    state = request.app[STATE]
    form = await request.post()
    upload, model = form.get("file"), form.get("model")
    if not isinstance(upload, web.FileField) or not isinstance(model, str):
        return _error(400, "file and model are required", "invalid_request_error")
    data = upload.file.read()
    if state.transcription_failures > 0:
        state.transcription_failures -= 1
        return _error(503, "the transcriber is busy", "server_error")
    state.transcribed.append((model, upload.filename, data))
    return web.json_response({"text": data.decode("utf-8", errors="replace")})


def _reply(messages: list[dict[str, Any]], last: str) -> str:
    if last == "!!history":
        earlier = [m["content"] for m in messages[:-1] if m.get("role") == "user"]
        lines = (text.replace("\n", "\\n") for text in earlier)
        return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1)) or "(no history)"
    if last == "!!count":
        _COUNT[0] += 1
        return f"answer {_COUNT[0]}"
    if last == "!!answers":
        answers = [m["content"].replace("\n", "\\n") for m in messages if m.get("role") == "assistant"]
        return "\n".join(f"{n}. {text}" for n, text in enumerate(answers, 1)) or "(no answers)"
    if last == "!!system":
        return next((m["content"] for m in messages if m.get("role") == "system"), "(no system prompt)")
    return last


def _text_and_images(content: Any) -> str:
    """A message's content as one text: plain, or its text parts then a line describing each image part."""
    if not isinstance(content, list):
        return str(content)
    texts = [part.get("text", "") for part in content if part.get("type") == "text"]
    images = [_describe_image(part["image_url"]["url"]) for part in content if part.get("type") == "image_url"]
    return "\n".join([*texts, *images])


def _describe_image(url: str) -> str:
    header, _, data = url.partition(",")
    raw = base64.b64decode(data)
    mime = header.removeprefix("data:").split(";", 1)[0]
    return f"[image {mime}, {len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}]"


def _title(text: str) -> str:
    return '"' + " ".join(text.split()[:8]) + '."'


async def _stream(request: web.Request, body: dict[str, Any], completion_id: str, reply: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    sleep = _SLEEP.match(reply)
    if sleep is not None:
        await asyncio.sleep(float(sleep.group(1)))
        reply = reply[sleep.end() :]
    slow = _SLOW.match(reply)
    delay = 0.0
    if slow is not None:
        delay = float(slow.group(1))
        reply = reply[slow.end() :]
    model = body.get("model", MODEL)

    async def send(delta: dict[str, Any], finish: str | None = None) -> None:
        await response.write(_sse(_chunk(completion_id, model, delta, finish)))

    await send({"role": "assistant", "content": ""})
    pieces = [piece for piece in _WORD_BOUNDARY.split(reply) if piece]
    for start in range(0, len(pieces), 2):
        if delay:
            await asyncio.sleep(delay)
        await send({"content": "".join(pieces[start : start + 2])})
    if reply == "!!cut":
        return response
    if reply == "!!stream-error":
        await response.write(_sse({"error": {"message": "the model overloaded mid-answer", "type": "server_error"}}))
        return response
    await send({}, finish="stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"prompt_tokens": 1, "completion_tokens": len(pieces), "total_tokens": 1 + len(pieces)}
        await response.write(_sse({**_chunk(completion_id, model, None, None), "choices": [], "usage": usage}))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _chunk(completion_id: str, model: str, delta: dict[str, Any] | None, finish: str | None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [choice],
    }


def _completion(completion_id: str, model: str, content: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--api-key", default=None)
    options = parser.parse_args()
    web.run_app(make_openai_app(FakeModelState(api_key=options.api_key)), host=options.host, port=options.port)


if __name__ == "__main__":
    main()
