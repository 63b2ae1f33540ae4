"""Who writes the answer's text: the deterministic echo, or an OpenAI-compatible upstream."""

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Protocol

from platform_agent.sessions import Turn

# Split before each word that follows whitespace: joined back, the pieces give the text exactly.
_WORD_BOUNDARY = re.compile(r"(?<=\s)(?=\S)")
WORDS_PER_CHUNK = 3


class UpstreamFailure(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class Brain(Protocol):
    """Streams the reply to `prompt` given the conversation so far; raises UpstreamFailure."""

    def reply(self, history: Sequence[Turn], prompt: str) -> AsyncIterator[str]: ...

    async def title(self, question: str, answer: str) -> str | None: ...

    async def aclose(self) -> None: ...


def chunks(text: str, words: int = WORDS_PER_CHUNK) -> Iterable[str]:
    pieces = [piece for piece in _WORD_BOUNDARY.split(text) if piece]
    for start in range(0, len(pieces), words):
        yield "".join(pieces[start : start + words])


async def paced(text: str, delay: float) -> AsyncIterator[str]:
    """`text` in chunks of a few words, `delay` seconds apart."""
    for index, chunk in enumerate(chunks(text)):
        if delay and index:
            await asyncio.sleep(delay)
        yield chunk


def short_title(text: str, words: int = 6) -> str | None:
    kept = list(itertools.islice((w.strip("\"'`*#.,;:!?") for w in text.split()), words))
    title = " ".join(word for word in kept if word)
    return title or None


class EchoBrain:
    """Replies with the prompt itself: deterministic and offline."""

    def __init__(self, delay: float) -> None:
        self._delay = delay

    async def reply(self, history: Sequence[Turn], prompt: str) -> AsyncIterator[str]:
        async for chunk in paced(prompt, self._delay):
            yield chunk

    async def title(self, question: str, answer: str) -> str | None:
        return short_title(question)

    async def aclose(self) -> None:
        return None
