from typing import Protocol

from domain.model.observed import ObservedTopology


class TopologyReader(Protocol):
    """Every joined room with its surfaces state, links and recent timeline, as of the last full-state sync."""

    async def observe(self) -> ObservedTopology: ...
