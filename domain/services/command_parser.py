"""Parses `!command args` lines."""

from dataclasses import dataclass

PREFIX = "!"


@dataclass(frozen=True, kw_only=True)
class Command:
    name: str
    args: str


def parse_command(body: str) -> Command | None:
    """A command is `!` followed at once by a letter; anything else (`!!x`, `! x`, `!1`) is plain text."""
    text = body.strip()
    if not text.startswith(PREFIX) or len(text) == 1 or not text[1].isalpha():
        return None
    head, _, rest = text[1:].partition(" ")
    return Command(name=head.lower(), args=rest.strip())
