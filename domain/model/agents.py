"""The agents a room can talk to, as listed in the registry."""

from dataclasses import dataclass

from domain.model.ids import AgentId


@dataclass(frozen=True, kw_only=True)
class AgentSpec:
    agent_id: AgentId
    adapter: str
    description: str = ""
    # An agent that sees images (`vision: true`): images up to this size reach the model; None: paths only.
    max_image_bytes: int | None = None


@dataclass(frozen=True, kw_only=True)
class AgentDirectory:
    """All known agents and the one new rooms start with."""

    agents: tuple[AgentSpec, ...]
    default: AgentId

    def __post_init__(self) -> None:
        if self.get(self.default) is None:
            raise ValueError(f"the default agent {self.default!r} is not in the registry")

    def get(self, agent_id: str) -> AgentSpec | None:
        return next((spec for spec in self.agents if spec.agent_id == agent_id), None)
