"""The bot's Prometheus metrics (`/metrics`, SPEC §4), counted by wrappers at the composition root.

One registry per bot, never the global one: building the container twice in a process (tests, the CLI)
cannot register a metric twice, and `/metrics` shows exactly these plus the process collectors.
"""

from collections import Counter as Tally
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from domain.model.messages import RoomEvent
from domain.model.room import RoomStatus
from ports.unit_of_work import UnitOfWorkFactory

# Agent answers take from a fraction of a second (echo) to minutes (a large model thinking).
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
_RECONCILE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_EVENT_KINDS = {"IncomingText": "text", "RoomRenamed": "rename"}


class BotMetrics:
    """The metric objects, and the callbacks the wrappers call (AnswerObserver for the platform client)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        r = self.registry
        self.messages_received = Counter(
            "surfaces_messages_received", "Room events taken up by the rooms' queues, by kind", ["kind"], registry=r
        )
        self.answers = Counter(
            "surfaces_answers", "Agent answers that ended, by agent and outcome", ["agent", "outcome"], registry=r
        )
        self.first_delta_seconds = Histogram(
            "surfaces_agent_first_delta_seconds",
            "Request to first text delta",
            ["agent"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.answer_seconds = Histogram(
            "surfaces_agent_answer_seconds",
            "Request to the end of the answer",
            ["agent"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.reconciliation_seconds = Histogram(
            "surfaces_reconciliation_seconds", "Duration of a reconciliation", buckets=_RECONCILE_BUCKETS, registry=r
        )
        self.rooms = Gauge("surfaces_rooms", "Chat rooms in the index, by state", ["state"], registry=r)
        self.sync_errors = Counter("surfaces_sync_errors", "Failed syncs and back-fills, by kind", ["kind"], registry=r)
        for status in RoomStatus:
            self.rooms.labels(state=status.value).set(0)

    def first_delta(self, agent_id: str, seconds: float) -> None:
        self.first_delta_seconds.labels(agent=agent_id).observe(seconds)

    def answered(self, agent_id: str, seconds: float, outcome: str) -> None:
        self.answers.labels(agent=agent_id, outcome=outcome).inc()
        self.answer_seconds.labels(agent=agent_id).observe(seconds)

    def sync_error(self, kind: str) -> None:
        self.sync_errors.labels(kind=kind).inc()

    def counting(self, handler: Callable[[RoomEvent], Awaitable[None]]) -> Callable[[RoomEvent], Awaitable[None]]:
        """`handler`, counting each event it is given in `surfaces_messages_received_total`."""

        async def counted(event: RoomEvent) -> None:
            kind = _EVENT_KINDS.get(type(event).__name__, type(event).__name__.lower())
            self.messages_received.labels(kind=kind).inc()
            await handler(event)

        return counted

    def rooms_refresher(self, uow: UnitOfWorkFactory) -> Callable[[], Awaitable[None]]:
        """An async callable that recounts the rooms by state from the index (run before each scrape)."""

        async def refresh() -> None:
            async with uow() as unit:
                rooms = await unit.rooms.all()
            tally = Tally(room.status.value for room in rooms)
            for status in RoomStatus:
                self.rooms.labels(state=status.value).set(tally.get(status.value, 0))

        return refresh
