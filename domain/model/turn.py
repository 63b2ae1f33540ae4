"""The latest question and answer of a room: what regenerate and edit replace."""

from dataclasses import dataclass

from domain.model.ids import EventId, RoomId


@dataclass(frozen=True, kw_only=True)
class LatestTurn:
    """`question_id` is the person's original event (edits refer to it), `question` its text as last answered,
    `answer_id` the bot's reply event that every regeneration replaces (`m.replace`), `trigger` the control
    event behind the latest replacement (None for the first answer)."""

    room_id: RoomId
    question_id: EventId
    question: str
    answer_id: EventId
    trigger: EventId | None = None
