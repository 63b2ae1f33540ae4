"""What the bot has seen of its rooms, folded from sync responses: the network side of reconciliation."""

from nio import SyncResponse

from adapters.matrix.event_mapping import to_user_message
from adapters.matrix.room_view import RoomView, apply_state, note_answers
from domain.model.ids import RoomId
from domain.model.observed import ObservedTopology
from ports.topology_reader import TopologyReader


class NioTopologyView(TopologyReader):
    """Every joined room's surfaces state, Space links and latest timeline, as of the last sync absorbed."""

    def __init__(self) -> None:
        self._rooms: dict[RoomId, RoomView] = {}

    def absorb(self, response: SyncResponse, own_user_id: str) -> None:
        """Folds one sync response in: state in order (later wins), left rooms dropped."""
        for room_id, info in response.rooms.join.items():
            room = self._rooms.setdefault(RoomId(room_id), RoomView())
            timeline = list(info.timeline.events)
            for event in [*info.state, *timeline]:
                apply_state(room, room_id, event.source)
            if timeline:
                room.recent = tuple(t for e in timeline if (t := to_user_message(room_id, e, own_user_id)))
            note_answers(room, (e.source for e in timeline), own_user_id)
        for room_id in response.rooms.leave:
            if room_id not in response.rooms.join:
                self._rooms.pop(RoomId(room_id), None)

    async def observe(self) -> ObservedTopology:
        return ObservedTopology(rooms=tuple(view.observed(room_id) for room_id, view in sorted(self._rooms.items())))
