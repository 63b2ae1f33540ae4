"""Answering one message: directives, attachments, output files; the text itself comes from a Brain."""

import asyncio
import re
from collections.abc import AsyncIterator

from platform_agent.brains import Brain, UpstreamFailure, paced
from platform_agent.events import AnswerEvent, Delta, Failure, FileOut, Finished
from platform_agent.sessions import Answer, Session
from platform_agent.wire import MessageIn
from platform_agent.workspace import Workspace, safe_name

FAIL_DIRECTIVE = "!!fail"
FAIL_MESSAGE = "reference agent was asked to fail"
HISTORY_DIRECTIVE = "!!history"
ANSWERS_DIRECTIVE = "!!answers"  # the chat's earlier answers, numbered: shows what a stopped answer left
_WRITE_DIRECTIVE = re.compile(r"write\s+([^\s:][^:\n]*):\s?(.*)\Z", re.DOTALL)


def output_path(chat_id: str, name: str) -> str:
    return f"surfaces/agent/{safe_name(chat_id)}/{safe_name(name)}"


class ReferenceAgent:
    """Deterministic directives first (`!!fail`, `!!history`, `!!answers`, `write <name>: <text>`), then the brain."""

    def __init__(self, workspace: Workspace, brain: Brain, chunk_delay: float) -> None:
        self._workspace = workspace
        self._brain = brain
        self._delay = chunk_delay

    @property
    def brain(self) -> Brain:
        return self._brain

    async def describe_attachments(self, message: MessageIn) -> list[str]:
        """One line per attachment; UnsafePath or FileNotFoundError when one cannot be read."""
        lines = []
        for attachment in message.attachments:
            facts = await asyncio.to_thread(self._workspace.facts, attachment.workspace_path)
            lines.append(f"Received {attachment.filename}: {facts.size} bytes, sha256 {facts.sha256}")
        return lines

    async def answer(
        self, chat_id: str, session: Session, message: MessageIn, notes: list[str]
    ) -> AsyncIterator[AnswerEvent]:
        text = message.text
        if text == FAIL_DIRECTIVE:
            yield Failure(message=FAIL_MESSAGE, retryable=False)
            return
        if text == HISTORY_DIRECTIVE:
            async for event in self._say(_numbered(session.questions()), record=False):
                yield event
            return
        if text == ANSWERS_DIRECTIVE:
            async for event in self._say(_numbered(session.answers(), "(no answers)"), record=False):
                yield event
            return
        write = _WRITE_DIRECTIVE.fullmatch(text.strip())
        if write is not None:
            async for event in self._write(chat_id, write.group(1).strip(), write.group(2)):
                yield event
            return
        async for event in self._ask_brain(session, prompt_of(message, notes)):
            yield event

    async def replay(self, answer: Answer) -> AsyncIterator[AnswerEvent]:
        async for event in self._say(answer.text, files=answer.files, record=False):
            yield event

    async def _ask_brain(self, session: Session, prompt: str) -> AsyncIterator[AnswerEvent]:
        parts: list[str] = []
        try:
            async for piece in self._brain.reply(list(session.messages), prompt):
                parts.append(piece)
                yield Delta(text=piece)
        except UpstreamFailure as failure:
            yield Failure(message=failure.message, retryable=failure.retryable)
            return
        answer = "".join(parts)
        yield Finished(answer=Answer(text=answer), input_tokens=_words(prompt), output_tokens=_words(answer))

    async def _write(self, chat_id: str, name: str, content: str) -> AsyncIterator[AnswerEvent]:
        path = output_path(chat_id, name)
        data = content.encode("utf-8")
        await asyncio.to_thread(self._workspace.write, path, data)
        async for event in self._say(f"Wrote {path} ({len(data)} bytes).", files=(path,)):
            yield event

    async def _say(self, text: str, files: tuple[str, ...] = (), record: bool = True) -> AsyncIterator[AnswerEvent]:
        async for chunk in paced(text, self._delay):
            yield Delta(text=chunk)
        for path in files:
            yield FileOut(workspace_path=path)
        yield Finished(answer=Answer(text=text, files=files), output_tokens=_words(text), record=record)


def prompt_of(message: MessageIn, notes: list[str]) -> str:
    """The user's turn as the brain sees it and the session records it: the text, then a line per attachment."""
    return "\n\n".join([message.text, *notes]) if notes else message.text


def _numbered(questions: list[str], empty: str = "(no history)") -> str:
    if not questions:
        return empty
    lines = (question.replace("\n", "\\n") for question in questions)
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, 1))


def _words(text: str) -> int:
    return len(text.split())
