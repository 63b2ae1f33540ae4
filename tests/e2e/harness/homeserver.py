"""Which homeserver the e2e suite runs against: Synapse in a container, or a local Synapse process."""

from __future__ import annotations

import os
from typing import Literal, Protocol

Kind = Literal["container", "process"]
CHOICE_ENV = "SURFACES_E2E_HOMESERVER"


class Homeserver(Protocol):
    """What the tests use of a homeserver; LocalSynapse and ContainerSynapse both provide it."""

    server_name: str

    @property
    def url(self) -> str: ...

    def register(self, localpart: str, password: str, admin: bool = False) -> str: ...

    def start(self, timeout: float = ...) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


def homeserver_kind() -> tuple[Kind, str]:
    """The kind to use and why: the container, unless SURFACES_E2E_HOMESERVER=process asks for the local
    Synapse process. No silent fallback: without Docker the container fixture fails with the reason."""
    forced = os.environ.get(CHOICE_ENV, "").strip().lower()
    if forced == "container" or forced == "process":
        return forced, f"{CHOICE_ENV}={forced}"
    if forced:
        raise ValueError(f"{CHOICE_ENV} must be 'container' or 'process', not {forced!r}")
    return "container", "the default (make test prepares Docker)"
