"""Per-adapter `settings` of the agent registry (`config/agents.yaml`), validated with pydantic.

Every model forbids unknown keys and coerces nothing (strict), so a typo or a quoted number in the file
stops start-up with the field's path instead of being silently ignored or guessed at.
"""

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _http_url(value: str) -> str:
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("must be an http:// or https:// URL")
    # Clients append their paths ("/v1/chats/…", "/chat/completions"); a trailing slash would double one.
    return value.rstrip("/")


HttpUrlText = Annotated[str, AfterValidator(_http_url)]
Seconds = Annotated[float, Field(gt=0)]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EchoSettings(_Settings):
    context_transfer: bool = True
    delay_per_chunk: float = Field(default=0.0, ge=0)


class HttpSettings(_Settings):
    """A platform speaking docs/platform-contract.md. `agent_id` is the platform's name for the agent
    when it differs from the registry id."""

    base_url: HttpUrlText
    agent_id: str | None = Field(default=None, min_length=1)
    connect_timeout: Seconds = 5.0
    # The longest silence accepted mid-answer; agents send pings while they work.
    read_timeout: Seconds = 120.0
    write_timeout: Seconds = 30.0
    health_timeout: Seconds = 5.0


class OpenAISettings(_Settings):
    """An OpenAI-compatible chat-completions server. The key is never written here: `api_key_env` names
    the environment variable holding it (none for servers that need no key)."""

    base_url: HttpUrlText = "https://api.openai.com/v1"
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    system_prompt: str = ""
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_history: int | None = Field(default=None, ge=1)
    connect_timeout: Seconds = 10.0
    read_timeout: Seconds = 120.0
    max_retries: int = Field(default=0, ge=0, le=10)
    # The model sees images: they go as image parts of the message, up to max_image_mb each.
    vision: bool = False
    max_image_mb: float = Field(default=5.0, gt=0, le=50)

    @property
    def vision_max_bytes(self) -> int | None:
        return int(self.max_image_mb * 1024 * 1024) if self.vision else None

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_the_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "api_key" in data:
            raise ValueError(
                "api_key: keys do not belong in this file; set api_key_env to the name of an environment "
                "variable that holds the key"
            )
        return data


AdapterSettings = EchoSettings | HttpSettings | OpenAISettings
SETTINGS_BY_ADAPTER: dict[str, type[AdapterSettings]] = {
    "echo": EchoSettings,
    "http": HttpSettings,
    "openai": OpenAISettings,
}
