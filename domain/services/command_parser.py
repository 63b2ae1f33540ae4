"""Parses `!command args` lines."""

from dataclasses import dataclass

PREFIX = "!"


@dataclass(frozen=True, kw_only=True)
class Command:
    name: str
    args: str


def parse_command(body: str) -> Command | None:
    """A command is a message whose first character is `!` followed by a word; None otherwise."""
    text = body.strip()
    if not text.startswith(PREFIX) or len(text) == 1 or text[1].isspace():
        return None
    head, _, rest = text[1:].partition(" ")
    return Command(name=head.lower(), args=rest.strip())
