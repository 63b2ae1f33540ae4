"""The bot's configuration: `SURFACES_*` environment variables, also read from `.env`."""

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURFACES_", env_file=".env", extra="ignore")

    homeserver_url: str = Field(description="client-server API base URL")
    user_id: str = Field(pattern=r"^@[^:]+:.+$", description="the bot's Matrix id")
    access_token: SecretStr | None = None
    password: SecretStr | None = None
    data_dir: Path = Path("./var/data")
    database_url: str | None = None
    workspace_dir: Path = Path("./var/workspace")
    agents_file: Path = Path("config/agents.yaml")
    allowed_users: str | None = None
    locale: Literal["en", "ru"] = "en"
    max_upload_mb: int = Field(default=50, gt=0)
    http_port: int = Field(default=8080, ge=0, le=65535)
    # Loopback by default; the container image sets 0.0.0.0 so probes can reach it.
    http_host: str = "127.0.0.1"
    log_format: Literal["json", "console"] | None = None
    shutdown_grace_s: float = Field(default=20.0, ge=0)
    # Events per room per sync; gaps beyond it are back-filled, so this only tunes batch size.
    sync_timeline_limit: int = Field(default=100, ge=1, le=1000)
    # How long an unreachable agent is retried (with back-off) before the person is told it gave up.
    agent_retry_s: float = Field(default=300.0, ge=0)
    # Per-person rate limit in front of the agent: a burst, then a sustained rate; a flood gets one notice.
    rate_limit_burst: int = Field(default=120, ge=1)
    rate_limit_per_s: float = Field(default=2.0, gt=0)
    # Whether the bot itself creates its chat rooms encrypted. Encrypted rooms made by anyone (a person's
    # DM, a homeserver that encrypts every new room) are always read and answered, whatever this says.
    encryption: bool = False
    # How long a message the bot cannot decrypt yet waits for its key before the person is told (docs/encryption.md).
    room_key_wait_s: float = Field(default=60.0, ge=0)
    # Encrypts the crypto store at rest; generated once and kept in the data dir when not given.
    pickle_key: SecretStr | None = None
    # Voice messages: an OpenAI-compatible transcription server (`{url}/audio/transcriptions`); unset: audio goes
    # to the agent as a file.
    transcriber_url: str | None = None
    transcriber_model: str = "whisper-1"
    transcriber_api_key: SecretStr | None = None
    # `sync`: one process reads `/sync`. `appservice`: the homeserver pushes transactions (docs/appservice.md).
    mode: Literal["sync", "appservice"] = "sync"
    # Appservice mode: the tokens of the registration (`surfaces registration`) and where transactions arrive.
    as_token: SecretStr | None = None
    hs_token: SecretStr | None = None
    appservice_port: int = Field(default=8009, ge=0, le=65535)
    # The one device every appservice request names, so the homeserver dedupes retried sends by txn id.
    appservice_device_id: str = Field(default="SURFACESAS", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Appservice mode, several replicas: a person's lease lapses this long after its holder stops renewing it
    # (a crash); then another replica answers them (docs/scaling.md).
    lease_s: float = Field(default=10.0, ge=1, le=600)
    # Appservice mode: reconciliation and the timeline catch-up run in the background, one replica at a time, after
    # `/ready` and then every `reconcile_interval_s` (0: never), reading this many rooms a second (two requests each).
    reconcile_interval_s: float = Field(default=21600.0, ge=0)
    reconcile_rooms_per_s: float = Field(default=20.0, gt=0, le=1000)
    # Names this process in the lease table; unique per live replica. Default: host name and process id, so a
    # replica restarted in the same container takes its own leases back at once.
    replica_id: str = Field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}", max_length=255)

    @field_validator("homeserver_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _needs_credentials(self) -> "Settings":
        if self.mode == "appservice":
            return self._appservice_ready()
        if self.access_token is None and self.password is None:
            raise ValueError("set SURFACES_ACCESS_TOKEN or SURFACES_PASSWORD")
        return self

    def _appservice_ready(self) -> "Settings":
        if not (self.database_url or "").startswith("postgresql+asyncpg://"):
            raise ValueError(
                "SURFACES_MODE=appservice needs a PostgreSQL database: set SURFACES_DATABASE_URL=postgresql+asyncpg://..."
            )
        missing = [name for name, value in (("AS_TOKEN", self.as_token), ("HS_TOKEN", self.hs_token)) if not value]
        if missing:
            names = " and ".join(f"SURFACES_{name}" for name in missing)
            raise ValueError(f"SURFACES_MODE=appservice needs {names} (printed by `surfaces registration`)")
        if self.encryption:
            raise ValueError(
                "SURFACES_ENCRYPTION=true is not supported with SURFACES_MODE=appservice: the bot has no to-device "
                "messages there (docs/appservice.md)"
            )
        return self

    @property
    def server_name(self) -> str:
        return self.user_id.split(":", 1)[1]

    @property
    def allowed_patterns(self) -> tuple[str, ...]:
        if not self.allowed_users:
            return (f"@*:{self.server_name}",)
        return tuple(p.strip() for p in self.allowed_users.split(",") if p.strip())

    @property
    def crypto_dir(self) -> Path:
        """The encryption store: keys, sessions, the cross-signing identity (docs/encryption.md)."""
        return self.data_dir / "crypto"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'surfaces.db').resolve()}"

    def secrets(self) -> list[str]:
        """Values that must never reach a log line."""
        values = (
            self.access_token,
            self.password,
            self.pickle_key,
            self.transcriber_api_key,
            self.as_token,
            self.hs_token,
        )
        return [s.get_secret_value() for s in values if s is not None]
