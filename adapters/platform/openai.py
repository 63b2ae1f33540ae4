"""PlatformClient for any OpenAI-compatible chat-completions server (OpenAI, Ollama, vLLM, llama.cpp),
streaming, with each conversation's history kept in our database."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import openai
import structlog
from openai.types.chat import ChatCompletionMessageParam

from adapters.platform.transcript_payload import export_payload, import_payload, user_content
from adapters.platform.vision import image_parts, seen_images
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.context import ChatContext
from domain.model.ids import PlatformChatId
from ports.platform import PlatformClient, PlatformError
from ports.transcripts import TranscriptEntry
from ports.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)

CUT_OFF = "the agent's answer was cut off"
TITLE_PROMPT = (
    "Give this conversation a title of at most six words. Reply with the title only: no quotes, "
    "no trailing punctuation."
)
TITLE_WORDS = 6
# Enough of the exchange to name it; a long answer would only cost tokens.
TITLE_EXCERPT = 1500


@dataclass(frozen=True, kw_only=True)
class ChatModelOptions:
    """What is sent with every request. `max_history`: the most recent messages sent along, None for all."""

    model: str
    system_prompt: str = ""
    temperature: float | None = None
    max_history: int | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    # The bot retries unreachable platforms itself; retries here too would multiply the wait.
    max_retries: int = 0
    # `vision: true`: images up to this size go to the model as image parts (None: only their workspace paths).
    vision_max_bytes: int | None = None


class OpenAIPlatformClient:
    """Streams chat completions; a turn is written to the transcript only once its answer completed,
    so a failed or retried request leaves no half-turn. Unreachable, timed-out, busy (408/409/429) and
    failing (5xx) servers raise PlatformError; other refusals end in AgentFailed with the server's message."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        options: ChatModelOptions,
        base_url: str,
        api_key: str | None,
        workspace_dir: Path | None = None,
    ) -> None:
        self._uow = uow
        self._workspace_dir = workspace_dir
        self._options = options
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            # Local servers take any key, but the client insists on having one.
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(options.read_timeout, connect=options.connect_timeout),
            max_retries=options.max_retries,
        )

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        question = user_content(request)
        history = await self._history(request.platform_chat_id)
        if request.replaces_last_turn:
            history = without_last_turn(history)
        messages = self._messages(history, question)
        await self._show_images(request, question, messages)
        parts: list[str] = []
        finished = False
        try:
            async with await self._client.chat.completions.create(
                model=self._options.model, messages=messages, stream=True, temperature=self._temperature()
            ) as chunks:
                async for chunk in chunks:
                    for choice in chunk.choices[:1]:
                        finished = finished or choice.finish_reason is not None
                        if choice.delta.content:
                            parts.append(choice.delta.content)
                            yield TextDelta(text=choice.delta.content)
        except openai.APIError as error:
            yield self._failure(error)
            return
        except (asyncio.CancelledError, GeneratorExit):
            # Stopped by the person: the context keeps what they saw, as the last turn.
            if parts:
                await self._record(request, question, "".join(parts))
            raise
        if not finished:
            yield AgentFailed(message=CUT_OFF)
            return
        await self._record(request, question, "".join(parts))
        yield Done()

    async def disconnect_chat(self, chat: ChatContext) -> None:
        # The id is never used again: its transcript would only be kept, unread, forever.
        async with self._uow() as uow:
            await uow.transcripts.delete(chat.platform_chat_id)
            await uow.commit()

    async def export_context(self, chat: ChatContext) -> str:
        return export_payload(await self._history(chat.platform_chat_id))

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        entries = import_payload(payload)
        async with self._uow() as uow:
            await uow.transcripts.replace(chat.platform_chat_id, entries)
            await uow.commit()

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        exchange = f"Question: {question[:TITLE_EXCERPT]}\n\nAnswer: {answer[:TITLE_EXCERPT]}"
        try:
            completion = await self._client.chat.completions.create(
                model=self._options.model,
                messages=[{"role": "system", "content": TITLE_PROMPT}, {"role": "user", "content": exchange}],
                max_tokens=24,
                stream=False,
            )
        except openai.APIError as error:
            log.info("title_unavailable", model=self._options.model, error=type(error).__name__)
            return None
        content = completion.choices[0].message.content if completion.choices else None
        return clean_title(content or "")

    async def health(self) -> bool:
        try:
            await self._client.models.list(timeout=5.0)
        except openai.APIError as error:
            log.info("agent_health_failed", model=self._options.model, error=type(error).__name__)
            return False
        return True

    async def aclose(self) -> None:
        await self._client.close()

    async def _show_images(
        self, request: AgentRequest, question: str, messages: list[ChatCompletionMessageParam]
    ) -> None:
        """For a model that sees: the question becomes its text plus the images as parts. The transcript keeps
        the text only (with the line naming each image), so later requests do not send the images again."""
        limit = self._options.vision_max_bytes
        if limit is None or self._workspace_dir is None:
            return
        images = seen_images(request, limit)
        parts = await image_parts(self._workspace_dir, images, limit) if images else []
        if parts:
            messages[-1] = {"role": "user", "content": [{"type": "text", "text": question}, *parts]}

    async def _history(self, chat_id: PlatformChatId) -> list[TranscriptEntry]:
        async with self._uow() as uow:
            return await uow.transcripts.history(chat_id)

    async def _record(self, request: AgentRequest, question: str, answer: str) -> None:
        """The turn, appended; or in place of the last one (regenerate, edit), in the same transaction."""
        chat_id = request.platform_chat_id
        async with self._uow() as uow:
            if request.replaces_last_turn:
                kept = without_last_turn(await uow.transcripts.history(chat_id))
                await uow.transcripts.replace(chat_id, kept)
            await uow.transcripts.append(chat_id, "user", question)
            await uow.transcripts.append(chat_id, "assistant", answer)
            await uow.commit()

    def _messages(self, history: list[TranscriptEntry], question: str) -> list[ChatCompletionMessageParam]:
        limit = self._options.max_history
        kept = history[-limit:] if limit else history
        messages: list[ChatCompletionMessageParam] = []
        if self._options.system_prompt:
            messages.append({"role": "system", "content": self._options.system_prompt})
        for entry in kept:
            if entry.role == "assistant":
                messages.append({"role": "assistant", "content": entry.content})
            else:
                messages.append({"role": "user", "content": entry.content})
        messages.append({"role": "user", "content": question})
        return messages

    def _temperature(self) -> float | openai.Omit:
        # Unset means the server's default, not some default of ours.
        return openai.omit if self._options.temperature is None else self._options.temperature

    def _failure(self, error: openai.APIError) -> AgentFailed:
        """AgentFailed for a final refusal; raises PlatformError for what may succeed later."""
        if isinstance(error, openai.APITimeoutError):
            raise PlatformError(f"model server timed out ({self._options.model})") from error
        if isinstance(error, openai.APIConnectionError):
            raise PlatformError(f"model server unreachable: {error.message}") from error
        if isinstance(error, openai.APIStatusError):
            detail = _detail(error)
            if error.status_code in (408, 409, 429) or error.status_code >= 500:
                raise PlatformError(f"model server answered {error.status_code}: {detail}") from error
            return AgentFailed(message=detail)
        # An error the server sent inside the stream.
        return AgentFailed(message=_detail(error))


def without_last_turn(history: list[TranscriptEntry]) -> list[TranscriptEntry]:
    """The history before its last question and answer (what a regenerated or edited turn replaces)."""
    if len(history) >= 2 and history[-2].role == "user" and history[-1].role == "assistant":
        return history[:-2]
    return history


def clean_title(text: str) -> str | None:
    """At most six words of the first line, without quotes or trailing punctuation; None when empty."""
    line = next((part for part in text.splitlines() if part.strip()), "")
    words = line.replace('"', " ").replace("“", " ").replace("”", " ").split()[:TITLE_WORDS]
    title = " ".join(words).strip(" '`*#.,;:!?")
    return title or None


def _detail(error: openai.APIError) -> str:
    # The client prefixes "Error code: N - {…}" to the server's message; the server's own reads better.
    message = error.body.get("message") if isinstance(error.body, dict) else None
    return message if isinstance(message, str) and message else error.message


_CONFORMS_TO_PORT: type[PlatformClient] = OpenAIPlatformClient
