"""The registration file a homeserver loads (`app_service_config_files`) for the bot as an application service."""

import re
import secrets
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Registration:
    url: str
    sender_localpart: str
    as_token: str
    hs_token: str
    server_name: str
    id: str = "surfaces"

    @classmethod
    def generate(cls, url: str, sender_localpart: str, server_name: str) -> "Registration":
        """Fresh tokens from the `secrets` module."""
        return cls(
            url=url,
            sender_localpart=sender_localpart,
            server_name=server_name,
            as_token=secrets.token_urlsafe(48),
            hs_token=secrets.token_urlsafe(48),
        )

    def user_regex(self) -> str:
        """The bot's own id and nothing else."""
        return f"@{re.escape(self.sender_localpart)}:{re.escape(self.server_name)}"

    def as_dict(self, namespace: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "as_token": self.as_token,
            "hs_token": self.hs_token,
            "sender_localpart": self.sender_localpart,
            "namespaces": {
                "users": [{"exclusive": True, "regex": namespace or self.user_regex()}],
                "aliases": [],
                "rooms": [],
            },
            "rate_limited": False,
        }
