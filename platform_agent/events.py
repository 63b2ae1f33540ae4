"""What answering a message produces, before it is written as Server-Sent Events."""

from dataclasses import dataclass

from platform_agent.sessions import Answer


@dataclass(frozen=True, kw_only=True)
class Delta:
    text: str


@dataclass(frozen=True, kw_only=True)
class FileOut:
    workspace_path: str


@dataclass(frozen=True, kw_only=True)
class Failure:
    message: str
    retryable: bool


@dataclass(frozen=True, kw_only=True)
class Finished:
    """The answer is complete; `record` says whether it is a turn of the conversation."""

    answer: Answer
    input_tokens: int = 0
    output_tokens: int = 0
    record: bool = True


AnswerEvent = Delta | FileOut | Failure | Finished
