"""`!stop`, and redacting the question being answered: the running answer of the room is cut short."""

from domain.catalog import Catalog
from domain.model.controls import QuestionEdited, Redaction
from domain.model.messages import IncomingText, RoomEvent
from domain.services.answers_in_flight import AnswersInFlight
from domain.services.chat_commands.base import CommandRequest, chat_room
from domain.services.command_parser import parse_command

STOP_COMMAND = "stop"


class PreemptAnswers:
    """Seen by the dispatcher as each event is handed to its room's queue, ahead of the queue's order."""

    def __init__(self, in_flight: AnswersInFlight) -> None:
        self._in_flight = in_flight

    def __call__(self, event: RoomEvent) -> None:
        if isinstance(event, Redaction):
            self._in_flight.stop(event.room_id, event.sender, event.event_id, question=event.redacts)
        elif isinstance(event, QuestionEdited):
            # An edit of the question being answered stops that answer first; the edit then replaces it.
            self._in_flight.stop(event.room_id, event.sender, event.event_id, question=event.edits)
        elif isinstance(event, IncomingText) and _is_stop(event.body):
            self._in_flight.stop(event.room_id, event.sender, event.event_id)


class StopAnswer:
    """The `!stop` command, handled in its turn: the answer it stopped already shows it; otherwise a notice."""

    def __init__(self, in_flight: AnswersInFlight, catalog: Catalog) -> None:
        self._in_flight = in_flight
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        chat_room(request)
        if self._in_flight.stopped_by(request.message.event_id) is not None:
            return ""  # the stopped answer, marked in place, is the acknowledgement
        return self._catalog.text("nothing_to_stop")


def _is_stop(body: str) -> bool:
    command = parse_command(body)
    return command is not None and command.name == STOP_COMMAND
