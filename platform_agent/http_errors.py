"""JSON error bodies (`{"error": {"message", "retryable"}}`) and request bodies parsed or refused with 400."""

import json
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

Body = TypeVar("Body", bound=BaseModel)


def error_response(status: int, message: str, retryable: bool = False) -> web.Response:
    return web.json_response({"error": {"message": message, "retryable": retryable}}, status=status)


async def parse_body(request: web.Request, model: type[Body]) -> Body:
    """The request's JSON body as `model`; raises a 400 naming the bad field."""
    raw = await request.read()
    try:
        # Invalid JSON is a ValidationError too, with an empty location.
        return model.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise _http_error(web.HTTPBadRequest, f"{where}: {first['msg']}") from error


def _http_error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    body = json.dumps({"error": {"message": message, "retryable": False}})
    return kind(text=body, content_type="application/json")


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own 404/405/413 answers, in the contract's error shape."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as error:
        if error.content_type == "application/json" or error.status < 400:
            raise
        return error_response(error.status, error.reason, retryable=error.status in (408, 429))
    return response
