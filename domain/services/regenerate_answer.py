"""Regenerate (`!retry`, a 🔁 reaction on the latest answer) and edit (of the latest answered question): the agent
answers again in place of the room's last turn, and the new answer replaces the old one (`m.replace`)."""

import logging

from domain.catalog import Catalog
from domain.model.controls import REGENERATE_KEYS, QuestionEdited, Reaction
from domain.model.ids import EventId
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from domain.model.turn import LatestTurn
from domain.services.answer_message import AnswerMessage
from ports.messenger import MessageSender
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

Trigger = IncomingText | Reaction | QuestionEdited


class RegenerateAnswer:
    """Exactly once per trigger: the trigger is an inbox entry, marked done with the new turn; its transaction ids
    (`reply-{trigger}`…) are new for each regeneration and the same when a crash makes it run again."""

    def __init__(self, uow: UnitOfWorkFactory, answer: AnswerMessage, sender: MessageSender, catalog: Catalog) -> None:
        self._uow = uow
        self._answer = answer
        self._sender = sender
        self._catalog = catalog

    async def execute(self, trigger: Trigger) -> None:
        """A reaction or an edit, from the room's queue: checked here, as HandleMessage checks a message."""
        async with self._uow() as uow:
            if await uow.inbox.is_done(trigger.event_id):
                return
            room = await uow.rooms.get(trigger.room_id)
            turn = await uow.turns.get(trigger.room_id)
        if room is None or trigger.sender != room.owner or not room.is_active or not _asks(trigger):
            log.info("control_ignored", extra={"room_id": trigger.room_id, "event_id": trigger.event_id})
            await self._done(trigger.event_id)
            return
        await self.regenerate(trigger, room, turn)

    async def regenerate(self, trigger: Trigger, room: ChatRoom, turn: LatestTurn | None) -> None:
        """Answers the latest question again (with the edited text for an edit), or tells why it cannot."""
        refusal = _refusal(trigger, turn)
        if refusal is not None or turn is None:
            await self._notice(trigger, refusal or "nothing_to_retry")
            return
        question = trigger.body if isinstance(trigger, QuestionEdited) else turn.question
        asking = IncomingText(event_id=trigger.event_id, room_id=trigger.room_id, sender=trigger.sender, body=question)
        log.info("answer_regenerating", extra={"room_id": room.room_id, "trigger": trigger.event_id})
        await self._answer.execute(asking, room, replacing=turn)

    async def _notice(self, trigger: Trigger, key: str) -> None:
        await self._sender.send_reply(
            trigger.room_id, trigger.event_id, self._catalog.text(key), f"reply-{trigger.event_id}", notice=True
        )
        await self._done(trigger.event_id)

    async def _done(self, event_id: EventId) -> None:
        async with self._uow() as uow:
            await uow.inbox.mark_done(event_id)
            await uow.commit()


def _asks(trigger: Trigger) -> bool:
    return not isinstance(trigger, Reaction) or trigger.key in REGENERATE_KEYS


def _refusal(trigger: Trigger, turn: LatestTurn | None) -> str | None:
    """The catalog key of why this trigger cannot regenerate, or None when it can."""
    if isinstance(trigger, Reaction):
        return None if turn is not None and trigger.reacts_to == turn.answer_id else "retry_only_latest"
    if isinstance(trigger, QuestionEdited):
        return None if turn is not None and trigger.edits == turn.question_id else "edit_only_latest"
    return None if turn is not None else "nothing_to_retry"
