"""One answer as it grows: posted once when it is quick, shown progressively by throttled edits when it is not."""

from collections.abc import Callable
from dataclasses import dataclass

from domain.model.ids import EventId, RoomId
from ports.messenger import MessageSender


@dataclass(frozen=True, kw_only=True)
class StreamingPolicy:
    """A quick answer is one event; a slow one appears after `show_after_s`, then at most `max_edits` edits.
    Typing is shown once the agent has taken `typing_after_s` without finishing."""

    typing_after_s: float = 0.5
    show_after_s: float = 1.5
    edit_interval_s: float = 1.0
    max_edits: int = 20


class StreamingReply:
    """Owns the reply event of one user message across agent attempts (a retry edits the same event)."""

    def __init__(
        self,
        sender: MessageSender,
        room_id: RoomId,
        reply_to: EventId,
        txn_id: str,
        policy: StreamingPolicy,
        clock: Callable[[], float],
        thread: EventId | None = None,
        replacing: EventId | None = None,
    ) -> None:
        """`replacing`: an earlier answer event this one takes the place of (regenerate): it is edited, not posted."""
        self._sender = sender
        self._room_id = room_id
        self._reply_to = reply_to
        self._txn_id = txn_id
        self._policy = policy
        self._clock = clock
        self._thread = thread
        # When the first text of the current attempt arrived: streaming is measured from there, so an
        # agent that thinks for a while and then answers at once still gives one event, not an edit.
        self._started: float | None = None
        self._event_id: EventId | None = replacing
        self._shown = ""
        self._last_edit = 0.0
        self._edits = 0

    @property
    def posted(self) -> bool:
        return self._event_id is not None

    @property
    def event_id(self) -> EventId | None:
        """The answer's event (the one edits replace), once posted."""
        return self._event_id

    def attempt_started(self) -> None:
        """Until something is shown, `show_after_s` counts within the latest agent attempt: time spent waiting for
        an unreachable agent is not time spent streaming, so a quick answer after a retry is still one event."""
        if self._event_id is None:
            self._started = None

    async def grow(self, text: str) -> None:
        """The answer so far; shown when it has taken long enough, edited no more often than the policy allows."""
        now = self._clock()
        if not text.strip() or text == self._shown:
            return
        if self._event_id is None:
            if self._started is None:
                self._started = now
            elif now - self._started >= self._policy.show_after_s:
                await self._post(text)
            return
        if self._edits < self._policy.max_edits and now - self._last_edit >= self._policy.edit_interval_s:
            self._edits += 1
            await self._edit(text, f"{self._txn_id}-edit-{self._edits}")

    async def finish(self, text: str) -> None:
        """The final text: posted as the reply, or the last edit of the one already shown."""
        if self._event_id is None:
            await self._post(text)
        elif text != self._shown:
            await self._edit(text, f"{self._txn_id}-final")

    async def _post(self, text: str) -> None:
        self._event_id = await self._sender.send_reply(
            self._room_id, self._reply_to, text, self._txn_id, thread=self._thread
        )
        self._shown = text
        self._last_edit = self._clock()

    async def _edit(self, text: str, txn_id: str) -> None:
        assert self._event_id is not None
        await self._sender.edit_message(self._room_id, self._event_id, text, txn_id)
        self._shown = text
        self._last_edit = self._clock()
