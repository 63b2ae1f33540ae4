"""Forwarding to an OpenAI-compatible chat-completions server (`AGENT_UPSTREAM_URL`)."""

from collections.abc import AsyncIterator, Sequence

import openai
from openai.types.chat import ChatCompletionMessageParam

from platform_agent.brains import UpstreamFailure, short_title
from platform_agent.sessions import Turn

TITLE_PROMPT = "Reply with a title of at most six words for this conversation, and nothing else."


class UpstreamBrain:
    """Streams the upstream model's reply; its failures become retryable or final by status."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float) -> None:
        self._model = model
        # Local servers (Ollama, llama.cpp) take any key; the client insists on one.
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "unused",
            timeout=openai.Timeout(timeout, connect=10.0),
            max_retries=0,
        )

    async def reply(self, history: Sequence[Turn], prompt: str) -> AsyncIterator[str]:
        messages = [_message(turn) for turn in history]
        messages.append({"role": "user", "content": prompt})
        finished = False
        try:
            stream = await self._client.chat.completions.create(model=self._model, messages=messages, stream=True)
            async for chunk in stream:
                for choice in chunk.choices:
                    finished = finished or choice.finish_reason is not None
                    if choice.delta.content:
                        yield choice.delta.content
        except openai.APIStatusError as error:
            message = f"upstream answered {error.status_code}: {_detail(error)}"
            raise UpstreamFailure(message, _retryable(error)) from error
        except openai.APIError as error:
            raise UpstreamFailure(f"upstream unreachable: {error.message}", retryable=True) from error
        if not finished:
            raise UpstreamFailure("the upstream answer was cut off", retryable=True)

    async def title(self, question: str, answer: str) -> str | None:
        try:
            completion = await self._client.chat.completions.create(
                model=self._model,
                messages=[
                    {"role": "system", "content": TITLE_PROMPT},
                    {"role": "user", "content": f"Question: {question}\n\nAnswer: {answer}"},
                ],
                max_tokens=24,
            )
        except openai.APIError:
            return None
        content = completion.choices[0].message.content if completion.choices else None
        return short_title(content or "")

    async def aclose(self) -> None:
        await self._client.close()


def _message(turn: Turn) -> ChatCompletionMessageParam:
    if turn.role == "assistant":
        return {"role": "assistant", "content": turn.content}
    return {"role": "user", "content": turn.content}


def _detail(error: openai.APIStatusError) -> str:
    # The client's own message prefixes "Error code: N - " to the server's; the server's alone reads better.
    detail = error.body.get("message") if isinstance(error.body, dict) else None
    return detail if isinstance(detail, str) and detail else error.message


def _retryable(error: openai.APIStatusError) -> bool:
    return error.status_code in (408, 409, 429) or error.status_code >= 500
