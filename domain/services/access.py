"""Who may use the bot: glob patterns over Matrix user ids."""

from dataclasses import dataclass
from fnmatch import fnmatchcase

from domain.model.ids import UserId


@dataclass(frozen=True)
class AccessPolicy:
    patterns: tuple[str, ...]

    def allows(self, user_id: UserId) -> bool:
        # Case-sensitive: Matrix ids are, and "@*:example.org" must not match "EXAMPLE.org".
        return any(fnmatchcase(user_id, pattern) for pattern in self.patterns)
