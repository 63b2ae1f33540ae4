"""Logs in once and keeps the access token and device id, so transaction ids stay deduplicated across restarts."""

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from nio import AsyncClient, LoginResponse, WhoamiError, WhoamiResponse

from adapters.matrix.errors import checked
from ports.topology import ChatNetworkError

log = logging.getLogger(__name__)

DEVICE_NAME = "surfaces"


@dataclass(frozen=True)
class StoredSession:
    user_id: str
    device_id: str
    access_token: str


class SessionFile:
    """The session in a file only the bot's user can read."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> StoredSession | None:
        try:
            return StoredSession(**json.loads(self._path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as error:
            raise ChatNetworkError(f"{self._path} is not a valid session file: {error}") from error

    def save(self, session: StoredSession) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(session), handle)
        temporary.replace(self._path)


async def log_in(client: AsyncClient, access_token: str | None, password: str | None, sessions: SessionFile) -> None:
    """An explicit token wins; else a kept session; else a password login whose session is kept."""
    if access_token:
        await _use_token(client, access_token)
        return
    stored = sessions.load()
    # nio keeps the configured id in `client.user`; `client.user_id` is only set by a login.
    if stored is not None and stored.user_id == client.user:
        if await _use_token(client, stored.access_token, required=False):
            log.info("session_restored", extra={"device_id": stored.device_id})
            return
        log.warning("stored_session_rejected")
    if not password:
        raise ChatNetworkError("no usable access token and no password to log in with")
    response = checked("login", await client.login(password=password, device_name=DEVICE_NAME), LoginResponse)
    sessions.save(StoredSession(response.user_id, response.device_id, response.access_token))
    log.info("logged_in", extra={"device_id": response.device_id})


async def _use_token(client: AsyncClient, token: str, required: bool = True) -> bool:
    client.access_token = token
    response = await client.whoami()
    if isinstance(response, WhoamiResponse) and response.user_id == client.user:
        client.user_id = response.user_id
        client.device_id = response.device_id
        return True
    if not required:
        client.access_token = ""
        return False
    detail = response.message if isinstance(response, WhoamiError) else f"token belongs to {response.user_id}"
    raise ChatNetworkError(f"the access token was not accepted: {detail}")
