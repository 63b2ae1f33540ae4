"""The reference agent's settings, from `AGENT_*` environment variables."""

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    """`AGENT_HOST`, `AGENT_PORT`, `AGENT_WORKSPACE_DIR`, `AGENT_CHUNK_DELAY`, `AGENT_UPSTREAM_URL`, …"""

    model_config = SettingsConfigDict(env_prefix="AGENT_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    workspace_dir: Path = Path("./var/workspace")
    # Pause before each streamed delta, so streaming is observable in a chat client.
    chunk_delay: float = Field(default=0.05, ge=0, le=10)
    # SSE comment sent while an answer is being worked on, so a client's read timeout sees traffic.
    ping_interval: float = Field(default=15.0, gt=0)
    upstream_url: str | None = None
    upstream_model: str | None = None
    upstream_api_key: SecretStr | None = None
    upstream_timeout: float = Field(default=120.0, gt=0)
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _upstream_needs_a_model(self) -> Self:
        if self.upstream_url and not self.upstream_model:
            raise ValueError("AGENT_UPSTREAM_MODEL is required when AGENT_UPSTREAM_URL is set")
        return self

    @property
    def mode(self) -> Literal["echo", "upstream"]:
        return "upstream" if self.upstream_url else "echo"
