"""The answers being streamed right now, one per room at most, so that a stop can reach them.

A room's queue answers one message at a time, so a stop queued behind the running answer would come too late:
the stop is seen as the event is handed to the room's queue (`preempt`), and the running answer is told here.
"""

import asyncio
from dataclasses import dataclass, field

from domain.model.ids import EventId, RoomId, UserId


@dataclass(kw_only=True)
class _Running:
    question: EventId
    owner: UserId
    stop: asyncio.Event = field(default_factory=asyncio.Event)


class AnswersInFlight:
    """Registry of running answers per room; in memory only (a crash ends every answer anyway)."""

    def __init__(self, remembered_stops: int = 1024) -> None:
        self._running: dict[RoomId, _Running] = {}
        # Which control event stopped which answer, until the `!stop` command itself is handled.
        self._stops: dict[EventId, EventId] = {}
        self._remembered = remembered_stops

    def begin(self, room_id: RoomId, question: EventId, owner: UserId) -> asyncio.Event:
        """Registers the answer to `question`; the event is set when someone entitled asks to stop it."""
        running = _Running(question=question, owner=owner)
        self._running[room_id] = running
        return running.stop

    def end(self, room_id: RoomId, question: EventId) -> None:
        running = self._running.get(room_id)
        if running is not None and running.question == question:
            del self._running[room_id]

    def stop(self, room_id: RoomId, by: UserId, cause: EventId, question: EventId | None = None) -> EventId | None:
        """Stops the room's running answer (only the one to `question`, when given) if `by` owns it; returns the
        question whose answer was stopped, or None when nothing matching was running."""
        running = self._running.get(room_id)
        if running is None or running.owner != by or (question is not None and running.question != question):
            return None
        running.stop.set()
        self._stops[cause] = running.question
        while len(self._stops) > self._remembered:
            del self._stops[next(iter(self._stops))]
        return running.question

    def stopped_by(self, cause: EventId) -> EventId | None:
        """The question whose answer the control event `cause` stopped, if it stopped one."""
        return self._stops.pop(cause, None)

    def running(self, room_id: RoomId) -> EventId | None:
        found = self._running.get(room_id)
        return None if found is None else found.question
